"""Nyxus (scalable feature extraction, PolusAI) as an optional extractor backend.

Install with ``pip install radrepro[peers]`` (tested: nyxus 0.11.0 wheel on Python 3.11 with numpy
2.2; ``pip install -c constraints.txt nyxus`` changes no pinned version). Nyxus is imported only when
this backend runs.

The case's image and ROI (``settings.label``) go to ``nyxus.Nyxus3D(..., ibsi=True)`` as NIfTI files
in a temporary folder. What Nyxus cannot take from radrepro settings: it works in voxel units
(spacing is not used: volumes and lengths are in voxels), it discretises texture with its own
``coarse_gray_depth`` grey levels, and it has no resampling or re-segmentation. So this backend
refuses settings that ask for resampling or re-segmentation, and renames only the intensity
statistics whose definitions are IBSI's (``3MEAN`` -> ``stat_mean``, ``3VARIANCE_BIASED`` ->
``stat_var``, ...; :data:`IBSI_NAMES`); every other feature keeps Nyxus' name with a ``nyxus_``
prefix, so that it never lines up with a feature it does not equal.

Measured against radrepro's IBSI engine (pyradiomics' breast1, brain1, lung1): variance, skewness,
excess kurtosis, mean and median absolute deviation and range agree to 1e-13; Nyxus moves intensities
so that the image minimum is 0 (lung1, CT: every location statistic is +1024) and uses another
percentile definition (10th/90th percentile, IQR, QCOD differ by up to 1%). Nyxus' coefficient of
variation uses the unbiased standard deviation, so it is not mapped to ``stat_cov``.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import pandas as pd

from radrepro.case import Case, load_pair
from radrepro.errors import InputError, SettingsError
from radrepro.extractors.base import Extractor
from radrepro.settings import Settings

INSTALL_HINT = "install the optional peers with `pip install radrepro[peers]` (or `pip install nyxus`)"

# Nyxus 3D intensity features with IBSI's definition -> radrepro IBSI tag
IBSI_NAMES = {
    "3MEAN": "stat_mean",
    "3VARIANCE_BIASED": "stat_var",
    "3SKEWNESS": "stat_skew",
    "3EXCESS_KURTOSIS": "stat_kurt",
    "3MEDIAN": "stat_median",
    "3MIN": "stat_min",
    "3P10": "stat_p10",
    "3P90": "stat_p90",
    "3MAX": "stat_max",
    "3INTERQUARTILE_RANGE": "stat_iqr",
    "3RANGE": "stat_range",
    "3MEAN_ABSOLUTE_DEVIATION": "stat_mad",
    "3ROBUST_MEAN_ABSOLUTE_DEVIATION": "stat_rmad",
    "3MEDIAN_ABSOLUTE_DEVIATION": "stat_medad",
    "3QCOD": "stat_qcod",
    "3ENERGY": "stat_energy",
    "3ROOT_MEAN_SQUARED": "stat_rms",
}
_META = {"intensity_image", "mask_image", "ROI_label", "t_index"}


def _import_nyxus():
    try:
        import nyxus
    except ImportError as exc:
        raise SettingsError("the extractor 'nyxus' needs the nyxus package, which is not installed", INSTALL_HINT) from exc
    return nyxus


class NyxusExtractor(Extractor):
    """Nyxus 3D features (IBSI mode) of one case at a time."""

    name = "nyxus"
    convention = "nyxus"

    def __init__(self, features: tuple[str, ...] = ("*3D_ALL*",), threads: int = 1) -> None:
        self.features = list(features)
        self.threads = threads

    @property
    def version(self) -> str:
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("nyxus")
        except PackageNotFoundError:
            raise SettingsError("the extractor 'nyxus' needs the nyxus package, which is not installed", INSTALL_HINT) from None

    def extract(self, case: Case, settings: Settings) -> pd.Series:
        """Nyxus' features of ``case``; ``attrs``: ``roi_voxels``, ``seconds`` (Nyxus' own run)."""
        import numpy as np
        import SimpleITK as sitk

        if settings.spacing is not None or settings.reseg_range is not None or settings.outlier_sigma is not None:
            raise SettingsError(
                "the nyxus backend cannot resample or re-segment (settings spacing / reseg_range / outlier_sigma)",
                "leave them empty to compare with nyxus",
            )
        nyxus = _import_nyxus()
        image, mask = load_pair(case.image, case.mask, label=settings.label, geometry_tolerance=settings.geometry_tolerance)
        with tempfile.TemporaryDirectory(prefix="radrepro-nyxus-") as tmp:
            ip, mp = Path(tmp) / "image.nii", Path(tmp) / "mask.nii"
            sitk.WriteImage(image, str(ip))
            sitk.WriteImage(mask, str(mp))
            t0 = time.perf_counter()
            try:
                nyx = nyxus.Nyxus3D(self.features, n_feature_calc_threads=self.threads, ibsi=True, verbose=0)
                table = nyx.featurize_files([str(ip)], [str(mp)], False)
            except Exception as exc:  # noqa: BLE001 - the C++ core raises RuntimeError/IOError/ValueError
                raise InputError(f"Nyxus failed on case {case.id}: {type(exc).__name__}: {str(exc)[:200]}",
                                 "check the image/mask pair with `radrepro extract`") from exc
            seconds = time.perf_counter() - t0
        if table is None or len(table) != 1:
            raise InputError(f"Nyxus returned {0 if table is None else len(table)} ROIs for case {case.id}, expected 1",
                             "check the mask")
        values = {}
        for col, v in table.iloc[0].items():
            if col in _META:
                continue
            values[IBSI_NAMES.get(col, f"nyxus_{col}")] = float(v)
        out = pd.Series(values, dtype="float64", name=self.label)
        out.attrs.update(roi_voxels=int(np.count_nonzero(sitk.GetArrayViewFromImage(mask))), seconds=seconds)
        return out
