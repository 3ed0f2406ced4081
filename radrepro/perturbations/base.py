"""The perturbation interface, chains, stable ids and seeds.

A perturbation is a small frozen object whose parameters are plain JSON values. Its
:meth:`Perturbation.to_dict` (``{"kind": ..., **params}``) is its canonical description and the hash
of that dict's canonical JSON is its :attr:`Perturbation.id`. ``apply(case, settings, seed)``
returns a new ``(case, settings)``; protocol perturbations change only the settings, image and mask
perturbations return a case with new in-memory images.

Randomness comes only from the ``seed`` argument: the same seed and inputs give identical image and
mask bytes. A :class:`Chain` gives step ``i`` the seed ``SeedSequence(seed, spawn_key=(i,))``
(numpy's child seeds), so inserting a deterministic step does not change other steps' streams any
more than their index does.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, ClassVar

import numpy as np
import SimpleITK as sitk

from radrepro.case import Case, read_image
from radrepro.errors import InputError, SettingsError
from radrepro.settings import Settings

SeedLike = "int | np.random.SeedSequence | None"

#: id of the empty chain (the unperturbed case), as in the results table
NO_PERTURBATION = "none"


def canonical_json(obj: Any) -> str:
    """Canonical JSON: sorted keys, no whitespace (the form that is hashed)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False)


def stable_hash(obj: Any, length: int = 16) -> str:
    """Short sha256 hex digest of :func:`canonical_json` of ``obj``."""
    return hashlib.sha256(canonical_json(obj).encode()).hexdigest()[:length]


def seed_sequence(seed: Any) -> np.random.SeedSequence:
    """A :class:`numpy.random.SeedSequence` from an int, a sequence of ints or a SeedSequence."""
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if seed is None:
        raise SettingsError("a perturbation needs a seed, got None", "pass an integer seed (e.g. seed = 0)")
    if isinstance(seed, (bool, float)) or (isinstance(seed, int) and seed < 0):
        raise SettingsError(f"seed {seed!r} is not valid", "use a non-negative integer")
    return np.random.SeedSequence(seed)


def child_seed(seed: Any, index: int) -> np.random.SeedSequence:
    """The seed of step ``index`` of a chain seeded with ``seed`` (numpy's spawn of that child)."""
    ss = seed_sequence(seed)
    return np.random.SeedSequence(ss.entropy, spawn_key=(*ss.spawn_key, int(index)), pool_size=ss.pool_size)


def rng_from(seed: Any) -> np.random.Generator:
    """A PCG64 generator from a seed (see :func:`seed_sequence`)."""
    return np.random.default_rng(seed_sequence(seed))


def _plain(value: Any) -> Any:
    """Tuples to lists, numpy scalars to Python numbers, recursively (JSON-serialisable)."""
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    return value


@dataclass(frozen=True)
class Perturbation:
    """Base class of every perturbation (a frozen dataclass whose fields are its parameters).

    Subclasses set :attr:`kind` (the registry name), validate their fields in ``__post_init__``
    (raising :class:`~radrepro.errors.SettingsError`) and implement :meth:`apply`.
    """

    kind: ClassVar[str] = ""
    #: True when the perturbation draws random numbers (its result depends on the seed)
    stochastic: ClassVar[bool] = False
    #: "protocol" (changes settings), "image" (changes intensities), "mask" (changes the ROI)
    category: ClassVar[str] = ""

    def params(self) -> dict[str, Any]:
        """Parameters as plain JSON values."""
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}

    def to_dict(self) -> dict[str, Any]:
        """``{"kind": ..., **params}``: the canonical, JSON-serialisable description."""
        return {"kind": self.kind, **self.params()}

    def to_json(self) -> str:
        return canonical_json(self.to_dict())

    @property
    def id(self) -> str:
        """Stable id: hash of the canonical JSON of :meth:`to_dict`."""
        return stable_hash(self.to_dict())

    def apply(self, case: Case, settings: Settings, seed: Any = 0) -> tuple[Case, Settings]:
        """The perturbed case and settings."""
        raise NotImplementedError


@dataclass(frozen=True)
class Chain:
    """Perturbations applied in order; step ``i`` is seeded with :func:`child_seed` ``(seed, i)``.

    The empty chain is the unperturbed case: its id is ``"none"`` and its params ``"[]"``, as in
    the results table.
    """

    steps: tuple[Perturbation, ...] = ()

    def __init__(self, steps: Iterable[Perturbation] = ()) -> None:
        steps = tuple(steps)
        for s in steps:
            if not isinstance(s, Perturbation):
                raise SettingsError(
                    f"a chain step must be a perturbation, not {type(s).__name__}",
                    "build steps with radrepro.perturbations.perturbation_from_dict",
                )
        object.__setattr__(self, "steps", steps)

    def __len__(self) -> int:
        return len(self.steps)

    def __iter__(self):
        return iter(self.steps)

    def to_list(self) -> list[dict[str, Any]]:
        return [s.to_dict() for s in self.steps]

    def to_json(self) -> str:
        """Canonical JSON list of the steps (the results table's ``perturbation_params``)."""
        return canonical_json(self.to_list())

    @property
    def id(self) -> str:
        """``"none"`` for the empty chain, else the hash of :meth:`to_json`."""
        return NO_PERTURBATION if not self.steps else stable_hash(self.to_list())

    @property
    def stochastic(self) -> bool:
        return any(s.stochastic for s in self.steps)

    def apply(self, case: Case, settings: Settings, seed: Any = 0) -> tuple[Case, Settings]:
        """Apply every step in order, each with its own child seed."""
        seed_sequence(seed)  # validate even when no step is stochastic
        for i, step in enumerate(self.steps):
            case, settings = step.apply(case, settings, child_seed(seed, i))
        return case, settings


# ----------------------------------------------------------------------------------------------
# helpers the image and mask perturbations share


def load_roi(case: Case, settings: Settings) -> tuple[sitk.Image, sitk.Image]:
    """The case's image (float64) and a uint8 ROI mask (1 inside), checked by :func:`~radrepro.case.load_pair`."""
    return case.load(label=settings.label)


def with_images(case: Case, image: sitk.Image | None, roi: np.ndarray | None, reference: sitk.Image,
                settings: Settings) -> Case:
    """A copy of ``case`` with a new image and/or a new ROI (``settings.label`` inside, 0 outside)."""
    new_image = case.image if image is None else image
    if roi is None:
        new_mask = case.mask
    else:
        dtype = np.uint8 if settings.label < 256 else np.int32
        arr = np.where(roi, settings.label, 0).astype(dtype)
        new_mask = sitk.GetImageFromArray(arr)
        new_mask.CopyInformation(reference)
    return Case(id=case.id, image=new_image, mask=new_mask, metadata=dict(case.metadata))


def require_3d(img: sitk.Image, what: str) -> None:
    if img.GetDimension() != 3:
        raise InputError(
            f"{what} needs a 3D image, this one is {img.GetDimension()}D",
            "apply it to 3D images (an in-plane operation still needs the slice axis)",
        )


def number(kind: str, name: str, value: Any, *, low: float | None = None, high: float | None = None,
           low_open: bool = False, high_open: bool = False, integer: bool = False) -> Any:
    """Validate a numeric parameter of perturbation ``kind``; return it as float (or int)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise SettingsError(f"perturbation '{kind}': {name} = {value!r} is not a number", _range_hint(low, high, low_open, high_open))
    v = float(value)
    if not math.isfinite(v):
        raise SettingsError(f"perturbation '{kind}': {name} = {value!r} is not finite", _range_hint(low, high, low_open, high_open))
    if integer:
        if v != int(v):
            raise SettingsError(f"perturbation '{kind}': {name} = {value!r} is not an integer", _range_hint(low, high, low_open, high_open))
    bad = (low is not None and (v < low or (low_open and v == low))) or (
        high is not None and (v > high or (high_open and v == high)))
    if bad:
        raise SettingsError(f"perturbation '{kind}': {name} = {value!r} is out of range", _range_hint(low, high, low_open, high_open))
    return int(v) if integer else v


def _range_hint(low, high, low_open, high_open) -> str:
    lo = "-inf" if low is None else f"{low:g}"
    hi = "inf" if high is None else f"{high:g}"
    return f"use a number in {'(' if low_open else '['}{lo}, {hi}{')' if high_open else ']'}"


def triple(kind: str, name: str, value: Any, **bounds: Any) -> tuple[float, float, float]:
    """A scalar or 3 numbers -> 3 validated floats ``(x, y, z)``."""
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        value = (value, value, value)
    if not isinstance(value, Sequence) or isinstance(value, str) or len(value) != 3:
        raise SettingsError(f"perturbation '{kind}': {name} = {value!r} is not valid", "give one number or three [x, y, z]")
    return tuple(number(kind, name, v, **bounds) for v in value)
