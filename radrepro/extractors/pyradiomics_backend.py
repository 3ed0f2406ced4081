"""The installed pyradiomics (3.0.1) as an extractor backend, run for real.

The backend hands the case's image and mask (paths or SimpleITK images, as they are) to
``radiomics.featureextractor.RadiomicsFeatureExtractor.execute``, so the numbers are exactly
pyradiomics' own: its own reading, checks, resampling, discretisation and features.

Settings come either from a radrepro :class:`~radrepro.settings.Settings` (translated by
:func:`pyradiomics_params`) or from a pyradiomics parameter file / mapping passed through unchanged
(``PyradiomicsExtractor(params="Params.yaml")``), which pyradiomics then reads and validates itself.

The returned Series holds pyradiomics' feature names (``original_glcm_Contrast``) and no
``diagnostics_`` rows; ``Series.attrs`` carries ``roi_voxels`` (pyradiomics'
``diagnostics_Mask-original_VoxelNum``, or the voxel count of the resampled/re-segmented mask when
pyradiomics reports that instead), ``seconds`` (wall time of pyradiomics' ``execute``) and
``settings`` (the pyradiomics settings used). pyradiomics' logging is silenced while it runs.
"""

from __future__ import annotations

import contextlib
import logging
import time
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from radrepro.case import Case, describe
from radrepro.errors import InputError, SettingsError
from radrepro.extractors.base import Extractor
from radrepro.settings import Settings

# radrepro family short names -> pyradiomics feature classes (None: pyradiomics has no such class)
FAMILY_TO_CLASS: dict[str, str | None] = {
    "morph": "shape",
    "stat": "firstorder",
    "ih": "firstorder",
    "cm": "glcm",
    "rlm": "glrlm",
    "szm": "glszm",
    "ngt": "ngtdm",
    "ngl": "gldm",
    "loc": None,
    "ivh": None,
    "dzm": None,
}
PYRADIOMICS_CLASSES = ("firstorder", "shape", "shape2D", "glcm", "glrlm", "glszm", "gldm", "ngtdm")

_INTERPOLATORS = {"nearest": "sitkNearestNeighbor", "linear": "sitkLinear", "cubic": "sitkBSpline"}

# Settings fields that only the IBSI convention reads; pyradiomics (and the pyradiomics convention)
# ignores them. Listed so that the translation is explicit about what it drops.
IBSI_ONLY_FIELDS = (
    "interpolation_2d", "mask_interpolator", "mask_threshold", "intensity_rounding", "outlier_sigma",
    "ivh_discretisation", "ivh_bin_width", "ivh_bin_count",
)


def _radiomics_version() -> str:
    import radiomics

    return str(radiomics.__version__).lstrip("v")


@contextlib.contextmanager
def quiet_pyradiomics(level: int = logging.ERROR) -> Iterator[None]:
    """Silence pyradiomics' logger (and its stderr handler) and pykwalify's while the block runs.

    Also hides the DeprecationWarning pyradiomics 3.0.1 triggers by loading its feature classes with
    a deprecated importer on every extractor it builds.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import radiomics  # noqa: F401 - importing it sets its logger up; do that before silencing it
    loggers = [logging.getLogger(n) for n in ("radiomics", "pykwalify", "flash_radiomics")]
    saved = [(lg, lg.level, [(h, h.level) for h in lg.handlers]) for lg in loggers]
    for lg, _, handlers in saved:
        lg.setLevel(level)
        for h, _ in handlers:
            h.setLevel(level)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            yield
    finally:
        for lg, lg_level, handlers in saved:
            lg.setLevel(lg_level)
            for h, lvl in handlers:
                h.setLevel(lvl)


def _feature_classes(settings: Settings) -> dict[str, list[str]] | None:
    """pyradiomics ``featureClass`` section from ``settings.families`` / ``settings.features``."""
    selection = settings.feature_selection
    if selection is not None:
        out: dict[str, list[str]] = {}
        for fam, names in selection.items():
            cls = fam if fam in PYRADIOMICS_CLASSES else FAMILY_TO_CLASS.get(fam, fam)
            if cls not in PYRADIOMICS_CLASSES:
                raise SettingsError(
                    f"feature class '{fam}' in setting 'features' has no pyradiomics equivalent",
                    "pyradiomics classes are: " + ", ".join(PYRADIOMICS_CLASSES),
                )
            out.setdefault(cls, [])
            if names:
                out[cls].extend(n for n in names if n not in out[cls])
        return out
    if settings.families is None:
        return None
    out = {}
    for fam in settings.families:
        cls = fam if fam in PYRADIOMICS_CLASSES else FAMILY_TO_CLASS.get(fam, "?")
        if cls == "?":
            raise SettingsError(
                f"unknown feature family '{fam}' in setting 'families'",
                "use pyradiomics classes (" + ", ".join(PYRADIOMICS_CLASSES) + ") or radrepro families ("
                + ", ".join(FAMILY_TO_CLASS) + ")",
            )
        if cls is not None:  # IBSI-only families (loc, ivh, dzm) do not exist in pyradiomics
            out[cls] = []
    if not out:
        raise SettingsError(
            "none of the families " + ", ".join(settings.families) + " exists in pyradiomics",
            "add at least one of: " + ", ".join(PYRADIOMICS_CLASSES),
        )
    return out


def _schema_int(name: str, value: float) -> int:
    if float(value).is_integer():
        return int(value)
    raise SettingsError(
        f"setting '{name}' = {value!r} cannot be expressed in pyradiomics", "pyradiomics accepts only an integer here"
    )


def pyradiomics_params(settings: Settings) -> dict[str, Any]:
    """The pyradiomics parameter mapping (``setting``, ``imageType``, ``featureClass``) for ``settings``.

    Every pyradiomics-readable field is translated; the IBSI-only fields in :data:`IBSI_ONLY_FIELDS`
    are dropped (pyradiomics has no such step). Texture dimensionality must be ``3D`` or ``2D``
    (pyradiomics' ``force2D``); ``2.5D`` or several at once cannot be expressed.

    Raises
    ------
    SettingsError
        For settings pyradiomics cannot express.
    """
    dims = settings.texture_dims
    if dims not in (("3D",), ("2D",)):
        raise SettingsError(
            f"setting 'texture_dims' = {list(dims)} cannot be expressed in pyradiomics",
            "use ['3D'] or ['2D'] (pyradiomics' force2D) for the pyradiomics backend",
        )
    s: dict[str, Any] = {
        "label": settings.label,
        "interpolator": _INTERPOLATORS[settings.interpolator],
        "padDistance": settings.pad_distance,
        "distances": list(settings.distances),
        "force2D": dims == ("2D",),
        "force2Ddimension": settings.force_2d_dimension,
        "voxelArrayShift": _schema_int("voxel_array_shift", settings.voxel_array_shift),
        "symmetricalGLCM": settings.glcm_symmetric,
        "gldm_a": settings.ngldm_alpha,
        "minimumROIDimensions": settings.min_roi_dims,
        "correctMask": settings.correct_mask,
        "normalize": settings.normalize,
        "normalizeScale": settings.normalize_scale,
        "additionalInfo": True,
    }
    if settings.discretisation == "fbn":
        s["binCount"] = settings.bin_count
    else:
        s["binWidth"] = settings.bin_width
    if settings.spacing is not None:
        s["resampledPixelSpacing"] = list(settings.spacing)
    if settings.reseg_range is not None:
        low, high = settings.reseg_range
        s["resegmentRange"] = [float("-inf") if low is None else low] + ([] if high is None else [high])
        s["resegmentMode"] = settings.reseg_mode
    for field, key in (("weighting_norm", "weightingNorm"), ("min_roi_size", "minimumROISize"),
                       ("geometry_tolerance", "geometryTolerance"), ("remove_outliers", "removeOutliers")):
        value = getattr(settings, field)
        if value is not None:
            s[key] = value
    image_types = {name: dict(params) for name, params in settings.image_type_params.items()}
    params: dict[str, Any] = {"setting": s, "imageType": image_types}
    classes = _feature_classes(settings)
    if classes is not None:
        params["featureClass"] = classes
    return params


def _build_extractor(params: Mapping[str, Any] | str | Path, package: str = "radiomics"):
    """``<package>.featureextractor.RadiomicsFeatureExtractor`` built from a parameter file or mapping
    (``package``: pyradiomics, or a fork with its API such as flash-radiomics)."""
    import importlib

    featureextractor = importlib.import_module(f"{package}.featureextractor")

    if isinstance(params, (str, Path)):
        path = Path(params)
        if not path.is_file():
            raise SettingsError(f"pyradiomics parameter file {path} does not exist", "check the path")
        try:
            return featureextractor.RadiomicsFeatureExtractor(str(path))
        except Exception as exc:  # pykwalify's SchemaError and yaml errors
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise SettingsError(
                f"pyradiomics rejected the parameter file {path}: {first[:200]}",
                "fix the file (see pyradiomics' paramSchema.yaml)",
            ) from exc
    try:
        return featureextractor.RadiomicsFeatureExtractor(_plain_params(params))
    except Exception as exc:  # pykwalify's SchemaError
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SettingsError(
            f"pyradiomics rejected the parameters: {first[:200]}", "check the settings against pyradiomics' paramSchema.yaml"
        ) from exc


def _plain_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """A plain dict copy (pyradiomics' schema check wants dicts and lists, not tuples or mappings)."""
    def plain(v: Any) -> Any:
        if isinstance(v, Mapping):
            return {str(k): plain(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [plain(x) for x in v]
        return v

    return plain(params)


def _roi_voxels(result: Mapping[str, Any]) -> int | None:
    for key in ("diagnostics_Mask-resegmented_VoxelNum", "diagnostics_Mask-interpolated_VoxelNum",
                "diagnostics_Mask-original_VoxelNum"):
        if key in result:
            return int(result[key])
    return None


class PyradiomicsExtractor(Extractor):
    """The installed pyradiomics package, run for real.

    Parameters
    ----------
    params
        A pyradiomics parameter file (YAML/JSON path) or mapping used as is; ``None`` translates the
        radrepro settings given to :meth:`extract` with :func:`pyradiomics_params`.
    """

    name = "pyradiomics"
    convention = "pyradiomics"
    package = "radiomics"  # the module whose featureextractor runs (forks with pyradiomics' API differ here)

    def __init__(self, params: Mapping[str, Any] | str | Path | None = None) -> None:
        self.params = params

    @property
    def version(self) -> str:
        return _radiomics_version()

    def _params(self, settings: Settings) -> Mapping[str, Any] | str | Path:
        return self.params if self.params is not None else pyradiomics_params(settings)

    def extract(self, case: Case, settings: Settings) -> pd.Series:
        """pyradiomics' features of ``case``; ``attrs``: ``roi_voxels``, ``seconds``, ``settings``."""
        params = self._params(settings)
        image, mask = case.image, case.mask
        for role, src in (("image", image), ("mask", mask)):
            if isinstance(src, (str, Path)) and not Path(src).is_file():
                raise InputError(f"{role} file {src} of case {case.id} does not exist", "check the path")
        with quiet_pyradiomics():
            ex = _build_extractor(params, self.package)
            label = ex.settings.get("label", 1)
            t0 = time.perf_counter()
            try:
                result = ex.execute(str(image) if isinstance(image, Path) else image,
                                    str(mask) if isinstance(mask, Path) else mask, label=label)
            except (ValueError, RuntimeError, AssertionError, IndexError, TypeError) as exc:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise InputError(
                    f"{self.name} rejected case {case.id} (image {describe(image)}, mask {describe(mask)}): {first[:200]}",
                    "check the image/mask pair and the settings with `radrepro extract`",
                ) from exc
            seconds = time.perf_counter() - t0
        values = {k: float(v) for k, v in result.items() if not k.startswith("diagnostics_")}
        out = pd.Series(values, dtype="float64", name=self.label)
        out.attrs.update(roi_voxels=_roi_voxels(result), seconds=seconds, settings=dict(ex.settings))
        return out
