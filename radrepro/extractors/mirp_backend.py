"""MIRP (Medical Image Radiomics Processor, IBSI-compliant) as an optional extractor backend.

Install with ``pip install radrepro[peers]`` (tested: mirp 2.5.0 on Python 3.11 with numpy 2.2;
``pip install -c constraints.txt mirp`` adds mirp, itk and scikit-image and changes no pinned
version). MIRP is imported only when this backend runs, so the default install never needs it.

radrepro settings are translated to MIRP's keyword arguments (:func:`mirp_kwargs`); the image and
the ROI (``settings.label``) are handed to MIRP as NIfTI files in a temporary folder. MIRP names
features by IBSI reference tag with its own suffixes (``cm_energy_d1_3d_avg_fbn_n16``); they are
renamed to radrepro's IBSI names (``cm_energy_3D_avg``), so ``radrepro`` (IBSI convention) and
``mirp`` line up feature by feature and, through the crosswalk, with pyradiomics. Features MIRP
computes that radrepro does not name (e.g. ``ivh_v25``) keep MIRP's base name.

Measured against radrepro's IBSI engine (pyradiomics' breast1 and brain1, fixed bin number 16, no
resampling): 203 of 210 shared features agree to 1e-6 relative; MIRP computes in single precision
(statistics agree to ~1e-7, skewness ~2e-5). Beyond 1e-6: IVH intensity fractions (``ivh_i10``,
``ivh_i90``, their difference) on MR intensities, and Moran's I / Geary's C, which MIRP approximates
for large ROIs. MIRP takes seconds per case (ITK and its own import on the first case).
"""

from __future__ import annotations

import re
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

from radrepro.case import Case, load_pair
from radrepro.errors import InputError, SettingsError
from radrepro.extractors.base import Extractor
from radrepro.settings import Settings

INSTALL_HINT = "install the optional peers with `pip install radrepro[peers]` (or `pip install mirp`)"

_FAMILIES = {"morph": "morph", "loc": "li", "stat": "stat", "ih": "ih", "ivh": "ivh", "cm": "cm", "rlm": "rlm",
             "szm": "szm", "dzm": "dzm", "ngt": "ngtdm", "ngl": "ngldm"}
_SPLINE_ORDER = {"nearest": 0, "linear": 1, "cubic": 3}
# MIRP spatial method (name suffix) -> IBSI aggregation suffix
_AGGREGATION = {"2d_avg": "2D_avg", "2d_s_mrg": "2D_comb", "2.5d_d_mrg": "2_5D_avg", "2.5d_v_mrg": "2_5D_comb",
                "3d_avg": "3D_avg", "3d_v_mrg": "3D_comb", "2d": "2D", "2.5d": "2_5D", "3d": "3D"}
_MIRP_NAME = re.compile(
    r"^(?P<base>[a-z]+_[a-z0-9_.]+?)"
    r"(?:_d[0-9.]+)?(?:_a[0-9.]+)?"
    r"(?:_(?P<agg>2d_avg|2d_s_mrg|2\.5d_d_mrg|2\.5d_v_mrg|3d_avg|3d_v_mrg|2d|2\.5d|3d))?"
    r"(?:_(?:fbn|fbs|fbsp|fbnp)_[nw][0-9.]+)?$"
)
_META_PREFIXES = ("image_", "sample_name")


def _import_mirp():
    try:
        with warnings.catch_warnings():  # itk's SWIG types warn on import
            warnings.simplefilter("ignore", DeprecationWarning)
            import mirp
    except ImportError as exc:
        raise SettingsError("the extractor 'mirp' needs the mirp package, which is not installed", INSTALL_HINT) from exc
    return mirp


def _texture_methods(dims: tuple[str, ...]) -> tuple[list[str], list[str]]:
    directional, single = [], []
    for d in dims:
        if d == "3D":
            directional += ["3d_average", "3d_volume_merge"]
            single.append("3d")
        elif d == "2.5D":
            directional += ["2.5d_direction_merge", "2.5d_volume_merge"]
            single.append("2.5d")
        else:
            directional += ["2d_average", "2d_slice_merge"]
            single.append("2d")
    return directional, single


def mirp_kwargs(settings: Settings) -> dict[str, Any]:
    """MIRP ``extract_features`` keyword arguments for ``settings`` (IBSI meaning of every field).

    Raises
    ------
    SettingsError
        For settings MIRP cannot express: pyradiomics' relative/sigma re-segmentation modes,
        intensity rounding, several GLCM distances for NGLDM.
    """
    if settings.reseg_range is not None and settings.reseg_mode != "absolute":
        raise SettingsError(
            f"setting reseg_mode = '{settings.reseg_mode}' has no MIRP equivalent",
            "use reseg_mode = 'absolute' (or outlier_sigma) with the mirp backend",
        )
    if settings.intensity_rounding is not None:
        raise SettingsError("setting intensity_rounding has no MIRP equivalent", "leave it empty for the mirp backend")
    families = ["all"] if settings.families is None else [_FAMILIES.get(f, f) for f in settings.families]
    kw: dict[str, Any] = {
        "base_feature_families": families,
        "ibsi_compliant": True,
        "by_slice": bool(settings.interpolation_2d),
        "ivh_discretisation_method": {"none": "none", "fbs": "fixed_bin_size", "fbn": "fixed_bin_number"}[
            settings.ivh_discretisation],
        "glcm_distance": [float(d) for d in settings.distances],
        "ngldm_distance": float(settings.distances[0]),
        "ngldm_difference_level": float(settings.ngldm_alpha),
    }
    if settings.discretisation == "fbs":
        kw.update(base_discretisation_method="fixed_bin_size", base_discretisation_bin_width=float(settings.bin_width))
    else:
        kw.update(base_discretisation_method="fixed_bin_number", base_discretisation_n_bins=int(settings.bin_count))
    if settings.ivh_discretisation == "fbs":
        kw["ivh_discretisation_bin_width"] = float(settings.ivh_bin_width)
    elif settings.ivh_discretisation == "fbn":
        kw["ivh_discretisation_n_bins"] = int(settings.ivh_bin_count)
    directional, single = _texture_methods(settings.texture_dims)
    for fam in ("glcm", "glrlm"):
        kw[f"{fam}_spatial_method"] = directional
    for fam in ("glszm", "gldzm", "ngtdm", "ngldm"):
        kw[f"{fam}_spatial_method"] = single
    if settings.spacing is not None:
        x, y, z = settings.spacing
        kw.update(new_spacing=[z, y, x], spline_order=_SPLINE_ORDER[settings.interpolator], anti_aliasing=False,
                  roi_spline_order=_SPLINE_ORDER[settings.mask_interpolator],
                  roi_interpolation_mask_inclusion_threshold=float(settings.mask_threshold))
    methods = []
    if settings.reseg_range is not None:
        low, high = settings.reseg_range
        methods.append("range")
        kw["resegmentation_intensity_range"] = [float("-inf") if low is None else low,
                                                float("inf") if high is None else high]
    if settings.outlier_sigma is not None:
        methods.append("sigma")
        kw["resegmentation_sigma"] = float(settings.outlier_sigma)
    if methods:
        kw["resegmentation_method"] = methods
    return kw


def ibsi_name(mirp_name: str) -> str:
    """radrepro's IBSI name for a MIRP feature column (``cm_energy_d1_3d_avg_fbn_n16`` -> ``cm_energy_3D_avg``)."""
    m = _MIRP_NAME.match(mirp_name)
    if not m:
        return mirp_name
    agg = m["agg"]
    return m["base"] + (f"_{_AGGREGATION[agg]}" if agg else "")


class MirpExtractor(Extractor):
    """MIRP run for real on one case at a time (IBSI definitions, radrepro's IBSI feature names)."""

    name = "mirp"
    convention = "ibsi"

    @property
    def version(self) -> str:
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("mirp")
        except PackageNotFoundError:
            raise SettingsError("the extractor 'mirp' needs the mirp package, which is not installed", INSTALL_HINT) from None

    def extract(self, case: Case, settings: Settings) -> pd.Series:
        """MIRP's features of ``case``; ``attrs``: ``roi_voxels``, ``seconds`` (MIRP's own run)."""
        import logging

        import numpy as np
        import SimpleITK as sitk

        mirp = _import_mirp()
        kwargs = mirp_kwargs(settings)
        image, mask = load_pair(case.image, case.mask, label=settings.label, geometry_tolerance=settings.geometry_tolerance)
        with tempfile.TemporaryDirectory(prefix="radrepro-mirp-") as tmp:
            ip, mp = Path(tmp) / "image.nii", Path(tmp) / "mask.nii"
            sitk.WriteImage(image, str(ip))
            sitk.WriteImage(mask, str(mp))
            logger = logging.getLogger("mirp")
            old = logger.level
            logger.setLevel(logging.ERROR)
            t0 = time.perf_counter()
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", DeprecationWarning)
                    tables = mirp.extract_features(image=str(ip), mask=str(mp), export_features=True, **kwargs)
            except (ValueError, TypeError) as exc:
                raise SettingsError(f"MIRP rejected the settings for case {case.id}: {str(exc).splitlines()[0][:200]}",
                                    "check the settings against radrepro.extractors.mirp_backend.mirp_kwargs") from exc
            except Exception as exc:  # noqa: BLE001 - MIRP raises many types on bad input
                raise InputError(f"MIRP failed on case {case.id}: {type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}",
                                 "check the image/mask pair with `radrepro extract`") from exc
            finally:
                logger.setLevel(old)
            seconds = time.perf_counter() - t0
        if not tables or tables[0] is None or len(tables[0]) == 0:
            raise InputError(f"MIRP returned no features for case {case.id}", "check the image/mask pair")
        row = tables[0].iloc[0]
        values: dict[str, float] = {}
        for col, v in row.items():
            if str(col).startswith(_META_PREFIXES):
                continue
            try:
                values[ibsi_name(str(col))] = float(v)
            except (TypeError, ValueError):
                continue
        out = pd.Series(values, dtype="float64", name=self.label)
        out.attrs.update(roi_voxels=int(np.count_nonzero(sitk.GetArrayViewFromImage(mask))), seconds=seconds)
        return out
