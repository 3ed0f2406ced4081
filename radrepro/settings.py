"""Extraction settings: one immutable object with a canonical serialisation.

A :class:`Settings` holds every parameter of image processing and feature extraction. Its
:meth:`Settings.digest` (a hash of the canonical JSON) is part of every cache key and every
MLflow run, so two runs with equal settings are recognisably equal.

Settings are convention-neutral: the same object drives the IBSI convention and the pyradiomics
convention, and a convention (``radrepro.conventions``) decides what each field means in detail
(bin edges, resampling grid, ...). Fields that only one convention reads say so.

Loaders
-------
- :func:`load_settings` reads radrepro TOML/YAML (flat ``key = value`` with the field names below, or
  the same under a ``[settings]`` table) and pyradiomics parameter files (recognised by their
  ``setting`` / ``imageType`` / ``featureClass`` sections).
- :func:`from_pyradiomics` converts a pyradiomics parameter mapping.

Unknown keys and values of the wrong type are :class:`~radrepro.errors.SettingsError` s that name
the key and list the accepted ones.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from radrepro.errors import SettingsError

INTERPOLATORS = ("nearest", "linear", "cubic")
DISCRETISATIONS = ("fbs", "fbn")
IVH_DISCRETISATIONS = ("none", "fbs", "fbn")
TEXTURE_DIMS = ("2D", "2.5D", "3D")
RESEG_MODES = ("absolute", "relative", "sigma")

_SITK_INTERPOLATORS = {
    "sitknearestneighbor": "nearest",
    "sitklinear": "linear",
    "sitkbspline": "cubic",
}


@dataclass(frozen=True)
class Settings:
    """Every parameter of image processing and feature extraction.

    Geometry follows SimpleITK: spacing is ``(x, y, z)`` in mm, z is the slice axis.

    Parameters
    ----------
    label
        Mask value that marks the region of interest.
    spacing
        New voxel spacing ``(x, y, z)`` in mm, or ``None`` for no resampling. In the pyradiomics
        convention a 0 keeps that axis' original spacing.
    interpolation_2d
        Interpolate in-plane only (IBSI "2D interpolation"): the slice spacing stays as it is.
    interpolator
        Image interpolator: ``nearest``, ``linear`` or ``cubic`` (cubic B-spline).
    mask_interpolator, mask_threshold
        Mask interpolator and the partial-volume threshold applied to the interpolated mask.
    intensity_rounding
        Round intensities to a multiple of this after interpolation (``1`` for CT in HU);
        ``None`` keeps them as they are.
    reseg_range
        Re-segmentation range ``(low, high)``; either bound may be ``None`` (open).
    reseg_mode
        How ``reseg_range`` is read: ``absolute`` values, ``relative`` to the ROI's range (pyradiomics),
        or in ``sigma`` around the ROI mean (pyradiomics).
    outlier_sigma
        Re-segmentation by outlier filtering: keep intensities within mean +- this many standard
        deviations (IBSI uses 3). ``None`` switches it off.
    discretisation, bin_width, bin_count
        ``fbs`` (fixed bin size, ``bin_width``) or ``fbn`` (fixed bin number, ``bin_count``).
    ivh_discretisation, ivh_bin_width, ivh_bin_count
        Discretisation for the intensity-volume histogram only; ``none`` uses the intensities as
        they are (for integer-valued images such as CT in HU).
    texture_dims
        Dimensionalities of texture features: any of ``2D`` (per slice), ``2.5D`` (slices merged)
        and ``3D``. In the pyradiomics convention ``2D`` is its ``force2D``.
    distances
        Neighbour distances (Chebyshev) for GLCM; NGTDM and NGLDM use the first.
    ngldm_alpha
        Coarseness parameter of NGLDM (pyradiomics ``gldm_a``).
    families
        Feature families to compute, by short name (``stat``, ``cm``, ... or pyradiomics class names);
        ``None`` computes the convention's default set.
    features
        Per-family feature selection as in a pyradiomics ``featureClass`` section:
        ``{family: [names]}``, where an empty list or ``None`` means all of the family.
    image_types
        pyradiomics image types and their parameters, e.g. ``{"Original": {}, "LoG": {"sigma": [1, 2]}}``.
    filter
        IBSI convention: a convolutional filter applied after interpolation and before
        re-segmentation / discretisation (IBSI 2), as ``{"kind": ..., parameters}`` (see
        :mod:`radrepro.filters`), or ``None`` for the original image.
    voxel_array_shift, glcm_symmetric, weighting_norm, min_roi_dims, min_roi_size, correct_mask,
    geometry_tolerance, normalize, normalize_scale, remove_outliers, pad_distance, force_2d_dimension
        pyradiomics settings of the same meaning (``voxelArrayShift``, ``symmetricalGLCM``, ...).
    reseg_shape
        pyradiomics ``resegmentShape``: compute shape features on the re-segmented mask too.
    """

    label: int = 1
    # resampling (IBSI 2.4)
    spacing: tuple[float, float, float] | None = None
    interpolation_2d: bool = False
    interpolator: str = "linear"
    mask_interpolator: str = "linear"
    mask_threshold: float = 0.5
    intensity_rounding: float | None = None
    # re-segmentation (IBSI 2.5)
    reseg_range: tuple[float | None, float | None] | None = None
    reseg_mode: str = "absolute"
    outlier_sigma: float | None = None
    # discretisation (IBSI 2.7)
    discretisation: str = "fbs"
    bin_width: float = 25.0
    bin_count: int = 32
    ivh_discretisation: str = "none"
    ivh_bin_width: float | None = None
    ivh_bin_count: int | None = None
    # texture
    texture_dims: tuple[str, ...] = ("3D",)
    distances: tuple[int, ...] = (1,)
    ngldm_alpha: int = 0
    families: tuple[str, ...] | None = None
    features: tuple[tuple[str, tuple[str, ...] | None], ...] | None = None
    image_types: tuple[tuple[str, tuple[tuple[str, Any], ...]], ...] = (("Original", ()),)
    filter: tuple[tuple[str, Any], ...] | None = None
    # pyradiomics-only
    voxel_array_shift: float = 0.0
    glcm_symmetric: bool = True
    weighting_norm: str | None = None
    min_roi_dims: int = 2
    min_roi_size: int | None = None
    correct_mask: bool = False
    reseg_shape: bool = False
    geometry_tolerance: float | None = None
    normalize: bool = False
    normalize_scale: float = 1.0
    remove_outliers: float | None = None
    pad_distance: int = 5
    force_2d_dimension: int = 0
    # free-form notes carried into provenance (not used in computation, not hashed)
    source: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            object.__setattr__(self, f.name, _coerce(f.name, value))
        _check_combinations(self)

    # -- serialisation ---------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-serialisable dict of every hashed field (lists for tuples)."""
        out = {}
        for f in fields(self):
            if f.compare:
                out[f.name] = _plain(getattr(self, f.name))
        return out

    def to_json(self) -> str:
        """Canonical JSON: sorted keys, no whitespace, floats as Python writes them."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    def digest(self) -> str:
        """Short stable hash of :meth:`to_json` (16 hex digits)."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()[:16]

    def replace(self, **changes: Any) -> "Settings":
        """A copy with ``changes`` applied and validated (unknown names are errors)."""
        _check_keys(changes, "Settings.replace")
        return dataclasses.replace(self, **changes)

    @property
    def feature_selection(self) -> dict[str, tuple[str, ...] | None] | None:
        """``features`` as a dict (family -> names or None for all)."""
        return None if self.features is None else dict(self.features)

    @property
    def filter_spec(self) -> dict[str, Any] | None:
        """``filter`` as a dict (``None`` for no filter)."""
        return None if self.filter is None else dict(self.filter)

    @property
    def image_type_params(self) -> dict[str, dict[str, Any]]:
        """``image_types`` as a dict of dicts."""
        return {name: dict(params) for name, params in self.image_types}


# ----------------------------------------------------------------------------------------------
# validation


def _field_names() -> list[str]:
    return [f.name for f in fields(Settings) if f.name != "source"]


def _check_keys(mapping: Mapping[str, Any], where: str) -> None:
    accepted = _field_names()
    for key in mapping:
        if key not in accepted:
            raise SettingsError(
                f"unknown setting '{key}' in {where}",
                "accepted settings are: " + ", ".join(accepted),
            )


def _bad(name: str, value: Any, expected: str) -> SettingsError:
    return SettingsError(
        f"setting '{name}' = {value!r} is not valid", f"it must be {expected}"
    )


def _number(name: str, value: Any, *, positive: bool = False, allow_none: bool = False) -> float | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _bad(name, value, "a finite number" + (" or empty" if allow_none else ""))
    if positive and value <= 0:
        raise _bad(name, value, "a number > 0")
    return float(value)


def _integer(name: str, value: Any, *, minimum: int | None = None, allow_none: bool = False) -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad(name, value, "an integer" + (" or empty" if allow_none else ""))
    if minimum is not None and value < minimum:
        raise _bad(name, value, f"an integer >= {minimum}")
    return value


def _boolean(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise _bad(name, value, "true or false")
    return value


def _choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise _bad(name, value, "one of " + ", ".join(choices))
    return value


def _freeze(value: Any) -> Any:
    if isinstance(value, Mapping):
        return tuple(sorted((str(k), _freeze(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def _coerce(name: str, value: Any) -> Any:  # noqa: C901 - one branch per field, kept flat on purpose
    if name == "source":
        return value
    if name == "label":
        return _integer(name, value, minimum=1)
    if name == "spacing":
        if value is None:
            return None
        if not isinstance(value, (list, tuple)) or len(value) != 3:
            raise _bad(name, value, "three numbers [x, y, z] in mm, or empty for no resampling")
        out = tuple(_number(name, v) for v in value)
        if any(v < 0 for v in out) or all(v == 0 for v in out):
            raise _bad(name, value, "three spacings >= 0 in mm, not all 0")
        return out
    if name in ("interpolation_2d", "glcm_symmetric", "correct_mask", "normalize", "reseg_shape"):
        return _boolean(name, value)
    if name in ("interpolator", "mask_interpolator"):
        if isinstance(value, str) and value.lower() in _SITK_INTERPOLATORS:
            value = _SITK_INTERPOLATORS[value.lower()]
        return _choice(name, value, INTERPOLATORS)
    if name == "mask_threshold":
        v = _number(name, value)
        if not 0 < v <= 1:
            raise _bad(name, value, "a number in (0, 1]")
        return v
    if name in ("intensity_rounding", "ivh_bin_width"):
        return _number(name, value, positive=True, allow_none=True)
    if name == "reseg_range":
        if value is None:
            return None
        if not isinstance(value, (list, tuple)) or len(value) not in (1, 2):
            raise _bad(name, value, "[low, high] (either may be empty), or empty for none")
        low = _number(name, value[0], allow_none=True)
        high = _number(name, value[1], allow_none=True) if len(value) == 2 else None
        if low is not None and high is not None and low > high:
            raise _bad(name, value, "[low, high] with low <= high")
        return (low, high)
    if name == "reseg_mode":
        return _choice(name, value, RESEG_MODES)
    if name in ("outlier_sigma", "remove_outliers", "geometry_tolerance"):
        return _number(name, value, positive=True, allow_none=True)
    if name == "discretisation":
        return _choice(name, value, DISCRETISATIONS)
    if name == "ivh_discretisation":
        return _choice(name, value, IVH_DISCRETISATIONS)
    if name in ("bin_width", "normalize_scale"):
        return _number(name, value, positive=True)
    if name == "bin_count":
        return _integer(name, value, minimum=1)
    if name == "ivh_bin_count":
        return _integer(name, value, minimum=1, allow_none=True)
    if name == "texture_dims":
        if isinstance(value, str):
            value = (value,)
        if not isinstance(value, (list, tuple)) or not value:
            raise _bad(name, value, "a non-empty list of " + ", ".join(TEXTURE_DIMS))
        return tuple(dict.fromkeys(_choice(name, str(v), TEXTURE_DIMS) for v in value))
    if name == "distances":
        if isinstance(value, int) and not isinstance(value, bool):
            value = (value,)
        if not isinstance(value, (list, tuple)) or not value:
            raise _bad(name, value, "a non-empty list of integers >= 1")
        return tuple(_integer(name, v, minimum=1) for v in value)
    if name == "ngldm_alpha":
        return _integer(name, value, minimum=0)
    if name == "families":
        if value is None:
            return None
        if isinstance(value, str):
            value = (value,)
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            raise _bad(name, value, "a list of family names, or empty for the default set")
        return tuple(value)
    if name == "features":
        if value is None:
            return None
        if isinstance(value, tuple):
            value = dict(value)
        if not isinstance(value, Mapping):
            raise _bad(name, value, "a mapping {family: [feature names]}")
        out = []
        for fam, names in sorted(value.items()):
            if names is None or names == [] or names == ():
                out.append((str(fam), None))
            elif isinstance(names, (list, tuple)) and all(isinstance(n, str) for n in names):
                out.append((str(fam), tuple(names)))
            else:
                raise _bad(name, value, "a mapping {family: [feature names]}")
        return tuple(out)
    if name == "image_types":
        if isinstance(value, tuple):
            value = {k: dict(v) for k, v in value}
        if not isinstance(value, Mapping) or not value:
            raise _bad(name, value, 'a mapping such as {"Original": {}}')
        out = []
        for it, params in sorted(value.items()):
            if params is None:
                params = {}
            if not isinstance(params, Mapping):
                raise _bad(name, value, "a mapping {image type: {parameters}}")
            out.append((str(it), _freeze(params)))
        return tuple(out)
    if name == "filter":
        if value is None:
            return None
        if isinstance(value, tuple):
            value = dict(value)
        from radrepro.filters import check_filter

        return _freeze(check_filter(value))
    if name == "voxel_array_shift":
        return _number(name, value)
    if name == "weighting_norm":
        if value is None:
            return None
        return _choice(name, value, ("manhattan", "euclidean", "infinity", "no_weighting"))
    if name == "min_roi_dims":
        v = _integer(name, value, minimum=1)
        if v > 3:
            raise _bad(name, value, "1, 2 or 3")
        return v
    if name == "min_roi_size":
        return _integer(name, value, minimum=1, allow_none=True)
    if name == "pad_distance":
        return _integer(name, value, minimum=0)
    if name == "force_2d_dimension":
        v = _integer(name, value, minimum=0)
        if v > 2:
            raise _bad(name, value, "0, 1 or 2")
        return v
    raise AssertionError(f"no validation for field {name}")  # a new field needs a branch here


def _check_combinations(s: Settings) -> None:
    if s.ivh_discretisation == "fbs" and s.ivh_bin_width is None:
        raise SettingsError(
            "setting ivh_discretisation = 'fbs' needs ivh_bin_width", "set ivh_bin_width (e.g. 2.5)"
        )
    if s.ivh_discretisation == "fbn" and s.ivh_bin_count is None:
        raise SettingsError(
            "setting ivh_discretisation = 'fbn' needs ivh_bin_count", "set ivh_bin_count (e.g. 1000)"
        )


# ----------------------------------------------------------------------------------------------
# loaders

_PYRADIOMICS_SECTIONS = {"setting", "imageType", "featureClass", "voxelSetting"}

# pyradiomics setting -> radrepro field (None: accepted and ignored, it changes no value)
_PYRADIOMICS_KEYS: dict[str, str | None] = {
    "label": "label",
    "binWidth": "bin_width",
    "binCount": "bin_count",
    "resampledPixelSpacing": "spacing",
    "interpolator": "interpolator",
    "padDistance": "pad_distance",
    "resegmentRange": "reseg_range",
    "resegmentMode": "reseg_mode",
    "distances": "distances",
    "force2D": "texture_dims",
    "force2Ddimension": "force_2d_dimension",
    "voxelArrayShift": "voxel_array_shift",
    "symmetricalGLCM": "glcm_symmetric",
    "weightingNorm": "weighting_norm",
    "gldm_a": "ngldm_alpha",
    "minimumROIDimensions": "min_roi_dims",
    "minimumROISize": "min_roi_size",
    "correctMask": "correct_mask",
    "geometryTolerance": "geometry_tolerance",
    "normalize": "normalize",
    "normalizeScale": "normalize_scale",
    "removeOutliers": "remove_outliers",
    "additionalInfo": None,
    "preCrop": None,
    "enableCExtensions": None,
    "resegmentShape": "reseg_shape",
    "label_channel": None,
}
# image-filter parameters pyradiomics reads from the setting section; they go with the image types
_PYRADIOMICS_FILTER_KEYS = {
    "sigma", "start_level", "level", "wavelet", "gradientUseSpacing", "lbp2DRadius", "lbp2DSamples",
    "lbp2DMethod", "lbp3DLevels", "lbp3DIcosphereRadius", "lbp3DIcosphereSubdivision",
}

# pyradiomics' own defaults where they differ from radrepro's
PYRADIOMICS_DEFAULTS = {"interpolator": "cubic", "texture_dims": ("3D",), "bin_width": 25.0}


def from_pyradiomics(params: Mapping[str, Any], *, where: str = "pyradiomics parameters") -> Settings:
    """Settings from a pyradiomics parameter mapping (the parsed YAML file).

    Parameters
    ----------
    params
        A mapping with pyradiomics' sections ``setting``, ``imageType``, ``featureClass``
        (``voxelSetting`` is refused: radrepro does not compute voxel-based feature maps).
    where
        Name of the source, for error messages.
    """
    for section in params:
        if section not in _PYRADIOMICS_SECTIONS:
            raise SettingsError(
                f"unknown section '{section}' in {where}",
                "pyradiomics parameter files have the sections: " + ", ".join(sorted(_PYRADIOMICS_SECTIONS)),
            )
    if params.get("voxelSetting"):
        raise SettingsError(
            f"{where} asks for voxel-based extraction (voxelSetting)",
            "radrepro extracts segment-based features only; remove the voxelSetting section",
        )
    out: dict[str, Any] = dict(PYRADIOMICS_DEFAULTS)
    filter_params: dict[str, Any] = {}
    setting = params.get("setting") or {}
    if setting.get("binCount") is not None:
        out["discretisation"] = "fbn"
    for key, value in setting.items():
        if key in _PYRADIOMICS_FILTER_KEYS:
            if value is not None:
                filter_params[key] = value
            continue
        if key not in _PYRADIOMICS_KEYS:
            raise SettingsError(
                f"unknown pyradiomics setting '{key}' in {where}",
                "accepted settings are: " + ", ".join(sorted([*_PYRADIOMICS_KEYS, *_PYRADIOMICS_FILTER_KEYS])),
            )
        target = _PYRADIOMICS_KEYS[key]
        if target is None or value is None:
            continue  # pyradiomics reads an empty value as "use the default"
        if key == "force2D":
            value = ("2D",) if _boolean("force2D", value) else ("3D",)
        if key == "interpolator" and isinstance(value, int) and not isinstance(value, bool):
            value = {1: "nearest", 2: "linear", 3: "cubic", 23: "cubic"}.get(value, value)  # 23: sitkBSpline (SimpleITK 2)
        if key == "weightingNorm" and isinstance(value, str):
            value = value.lower()
        if key == "resegmentRange" and isinstance(value, (list, tuple)) and len(value) == 2:
            if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
                value = sorted(value)  # pyradiomics sorts the thresholds
        out[target] = value
    if "interpolator" in setting and setting["interpolator"] is None:
        out["spacing"] = None  # pyradiomics resamples only with an interpolator

    image_types = params.get("imageType")
    if image_types:
        merged = {}
        for name, custom in image_types.items():
            merged[name] = {**filter_params, **(custom or {})} if name != "Original" else dict(custom or {})
        out["image_types"] = merged
    elif filter_params:
        out["image_types"] = {"Original": {}}
    feature_class = params.get("featureClass")
    if feature_class:
        out["features"] = {k: (list(v) if v else None) for k, v in feature_class.items()}
        out["families"] = list(feature_class)
    return Settings(**out, source=where)


def _read_mapping(path: Path) -> Mapping[str, Any]:
    if not path.is_file():
        raise SettingsError(f"settings file {path} does not exist", "check the path")
    try:
        if path.suffix.lower() == ".toml":
            return tomllib.loads(path.read_text())
        if path.suffix.lower() in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(path.read_text())
            return data or {}
        if path.suffix.lower() == ".json":
            return json.loads(path.read_text())
    except (tomllib.TOMLDecodeError, ValueError, UnicodeDecodeError) as exc:
        raise SettingsError(f"settings file {path} cannot be parsed: {exc}".splitlines()[0], "fix its syntax") from exc
    except Exception as exc:  # yaml.YAMLError and friends
        raise SettingsError(f"settings file {path} cannot be parsed: {exc}".splitlines()[0], "fix its syntax") from exc
    raise SettingsError(f"settings file {path} has an unknown extension", "use .toml, .yaml, .yml or .json")


def settings_from_mapping(data: Mapping[str, Any], *, where: str = "settings") -> Settings:
    """Settings from a parsed mapping: radrepro keys (flat or under ``settings``) or pyradiomics sections."""
    if not isinstance(data, Mapping):
        raise SettingsError(f"{where} must be a mapping of setting names to values", "see radrepro.settings.Settings")
    if data and set(data) & _PYRADIOMICS_SECTIONS and set(data) <= _PYRADIOMICS_SECTIONS:
        return from_pyradiomics(data, where=where)
    if set(data) == {"settings"}:
        data = data["settings"]
    _check_keys(data, where)
    return Settings(**data, source=where)


def load_settings(source: "Settings | Mapping[str, Any] | str | Path | None") -> Settings:
    """Settings from a Settings object, a mapping, a file path, or ``None`` (defaults).

    Parameters
    ----------
    source
        A :class:`Settings` (returned as is), a dict of radrepro or pyradiomics keys, or a path to a
        ``.toml`` / ``.yaml`` / ``.json`` file.
    """
    if source is None:
        return Settings()
    if isinstance(source, Settings):
        return source
    if isinstance(source, Mapping):
        return settings_from_mapping(source)
    if isinstance(source, (str, Path)):
        path = Path(source)
        return settings_from_mapping(_read_mapping(path), where=str(path))
    raise SettingsError(
        f"settings of type {type(source).__name__} are not understood",
        "pass a radrepro.Settings, a dict or a path to a TOML/YAML file",
    )
