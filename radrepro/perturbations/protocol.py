"""Protocol perturbations: they change the extraction settings, never the images.

- :class:`Resample`: voxel spacing (in-plane only or 3D), e.g. 1, 2, 3 mm;
- :class:`Interpolator`: the image interpolator (nearest, linear, cubic);
- :class:`Discretisation`: fixed bin width or fixed bin count;
- :class:`Resegmentation`: the re-segmentation range.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from radrepro.case import Case
from radrepro.errors import SettingsError
from radrepro.perturbations.base import Perturbation, number, triple
from radrepro.settings import INTERPOLATORS, Settings


@dataclass(frozen=True)
class Resample(Perturbation):
    """Resample to a new voxel spacing on the IBSI grid.

    Parameters
    ----------
    spacing
        New spacing in mm: one number (isotropic) or ``[x, y, z]``.
    in_plane
        Interpolate in-plane only (IBSI 2D interpolation): the slice spacing is kept, and the z
        value of ``spacing`` is stored as 0 ("keep").
    """

    kind = "resample"
    category = "protocol"
    spacing: Any = 1.0
    in_plane: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.in_plane, bool):
            raise SettingsError(f"perturbation 'resample': in_plane = {self.in_plane!r} is not true/false", "use true or false")
        x, y, z = triple(self.kind, "spacing", self.spacing, low=0.0, low_open=True)
        object.__setattr__(self, "spacing", (x, y, 0.0) if self.in_plane else (x, y, z))

    def apply(self, case: Case, settings: Settings, seed: Any = 0) -> tuple[Case, Settings]:
        return case, settings.replace(spacing=self.spacing, interpolation_2d=self.in_plane)


@dataclass(frozen=True)
class Interpolator(Perturbation):
    """Use another image interpolator (``nearest``, ``linear`` or ``cubic``)."""

    kind = "interpolator"
    category = "protocol"
    name: str = "linear"

    def __post_init__(self) -> None:
        if self.name not in INTERPOLATORS:
            raise SettingsError(f"perturbation 'interpolator': name = {self.name!r} is not valid",
                                "use one of: " + ", ".join(INTERPOLATORS))

    def apply(self, case: Case, settings: Settings, seed: Any = 0) -> tuple[Case, Settings]:
        return case, settings.replace(interpolator=self.name)


@dataclass(frozen=True)
class Discretisation(Perturbation):
    """Fixed bin size (``bin_width``) or fixed bin number (``bin_count``): give exactly one."""

    kind = "discretisation"
    category = "protocol"
    bin_width: float | None = None
    bin_count: int | None = None

    def __post_init__(self) -> None:
        if (self.bin_width is None) == (self.bin_count is None):
            raise SettingsError("perturbation 'discretisation' needs exactly one of bin_width and bin_count",
                                "e.g. {kind = \"discretisation\", bin_width = 25} or {..., bin_count = 32}")
        if self.bin_width is not None:
            object.__setattr__(self, "bin_width", number(self.kind, "bin_width", self.bin_width, low=0.0, low_open=True))
        else:
            object.__setattr__(self, "bin_count", number(self.kind, "bin_count", self.bin_count, low=1, integer=True))

    def apply(self, case: Case, settings: Settings, seed: Any = 0) -> tuple[Case, Settings]:
        if self.bin_width is not None:
            return case, settings.replace(discretisation="fbs", bin_width=self.bin_width)
        return case, settings.replace(discretisation="fbn", bin_count=self.bin_count)


@dataclass(frozen=True)
class Resegmentation(Perturbation):
    """Re-segmentation range ``[low, high]`` (either may be ``None``: open) in absolute intensities."""

    kind = "resegmentation"
    category = "protocol"
    low: float | None = None
    high: float | None = None

    def __post_init__(self) -> None:
        for name in ("low", "high"):
            v = getattr(self, name)
            if v is not None:
                object.__setattr__(self, name, number(self.kind, name, v))
        if self.low is not None and self.high is not None and self.low > self.high:
            raise SettingsError(f"perturbation 'resegmentation': low = {self.low:g} > high = {self.high:g}",
                                "give low <= high")

    def apply(self, case: Case, settings: Settings, seed: Any = 0) -> tuple[Case, Settings]:
        rng = None if self.low is None and self.high is None else (self.low, self.high)
        return case, settings.replace(reseg_range=rng, reseg_mode="absolute")
