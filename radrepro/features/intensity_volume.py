"""Intensity-volume histogram features (IBSI 1, section 3.5; family P88C).

The IVH is evaluated at the discretised intensities ``i`` of the range ``G`` (step ``w_d``), with
its own discretisation (:func:`radrepro.processing.discretise.discretise_ivh`):

- fractional volume ``nu_i``: the fraction of voxels with intensity ``>= i``;
- intensity fraction ``gamma_i = (i - min G) / (max G - min G)``.

``V_x`` is the largest ``nu`` with ``gamma >= x``; ``I_x`` the smallest ``i`` with ``nu_i <= x``
(when every grid intensity of ``G`` is still held by more than ``x`` of the volume, the next grid
intensity above ``G``). Fractions are compared in exact integer arithmetic (counts and percents),
so that a fraction that is exactly ``x`` on paper is never lost to rounding.
"""

from __future__ import annotations

import numpy as np

from radrepro._numba import jit
from radrepro.processing.discretise import IVHData, discretise_ivh, grid_size
from radrepro.registry import Feature

FEATURES = (
    Feature("ivh_v10", "NK6P", "Volume fraction at 10% intensity", "ivh"),
    Feature("ivh_v90", "4279", "Volume fraction at 90% intensity", "ivh"),
    Feature("ivh_i10", "PWN1", "Intensity at 10% volume", "ivh"),
    Feature("ivh_i90", "BOHI", "Intensity at 90% volume", "ivh"),
    Feature("ivh_diff_v10_v90", "WITY", "Volume fraction difference between 10% and 90% intensity", "ivh"),
    Feature("ivh_diff_i10_i90", "JXJA", "Intensity difference between 10% and 90% volume", "ivh"),
    Feature("ivh_auc", "9CMM", "Area under the IVH curve", "ivh"),
)

# a grid larger than this (e.g. 'none' on intensities spanning 10^9) is a settings mistake
MAX_GRID = 50_000_000


@jit
def _count_ge(x, k):
    """Number of values in sorted ``x`` that are >= ``k``."""
    return x.size - np.searchsorted(x, k, side="left")


@jit
def _volume_at(x, span, k_last, percent):
    """``V_percent``: volume fraction at the first grid point with ``gamma >= percent / 100``."""
    if span <= 0:
        return np.nan
    k = int(np.ceil(percent * span / 100.0))
    while k > 0 and (k - 1) * 100.0 >= percent * span:
        k -= 1
    while k * 100.0 < percent * span:
        k += 1
    if k > k_last:
        return np.nan
    return _count_ge(x, float(k)) / x.size


@jit
def _intensity_at(x, percent):
    """Grid index of ``I_percent``: the first grid point ``k`` with ``count(x >= k) * 100 <= percent * N``."""
    n = x.size
    m = (percent * n) // 100  # most voxels allowed at or above the intensity
    if m >= n:
        return 0.0
    v = x[n - m - 1]  # the intensity must exceed this value
    if v < 0:
        return 0.0
    return np.floor(v) + 1.0


@jit
def _ivh_kernel(x, span, k_last):
    out = np.full(7, np.nan)
    if x.size == 0:
        return out
    out[0] = _volume_at(x, span, k_last, 10)
    out[1] = _volume_at(x, span, k_last, 90)
    out[2] = _intensity_at(x, 10)
    out[3] = _intensity_at(x, 90)
    # area under the curve: trapezoidal rule over gamma in [0, 1]; 0 for a single grid point
    if k_last == 0 or span <= 0:
        out[6] = 0.0
    else:
        n = x.size
        j = 0  # first value >= k
        auc = 0.0
        prev = 0.0
        for k in range(k_last + 1):
            while j < n and x[j] < k:
                j += 1
            cur = (n - j) / n
            if k > 0:
                auc += 0.5 * (prev + cur) / span
            prev = cur
        out[6] = auc
    return out


def ivh_features(data: IVHData) -> dict[str, float]:
    """The IBSI intensity-volume histogram features of discretised intensities.

    Parameters
    ----------
    data
        Output of :func:`radrepro.processing.discretise.discretise_ivh`.

    Returns
    -------
    dict
        Reference tag -> value; NaN for an empty ROI. When the range ``G`` is a single
        intensity, the volume fractions at 10 % and 90 % intensity are NaN (no intensity fraction
        reaches them) and the area under the curve is 0.
    """
    x = np.ascontiguousarray(data.x, dtype=np.float64)
    if x.size == 0:
        return {f.tag: float("nan") for f in FEATURES}
    k_last = grid_size(data.span)
    if k_last > MAX_GRID:
        from radrepro.errors import SettingsError

        raise SettingsError(
            f"the intensity-volume histogram would have {k_last + 1} grid intensities "
            f"(range {data.span * data.step:g} with step {data.step:g})",
            "set ivh_discretisation = 'fbn' (with ivh_bin_count) or 'fbs' (with ivh_bin_width) "
            "for images whose intensities are not integers in a small range",
        )
    res = _ivh_kernel(x, float(data.span), k_last)
    v10, v90 = res[0], res[1]
    i10 = data.origin + res[2] * data.step
    i90 = data.origin + res[3] * data.step
    values = (v10, v90, i10, i90, v10 - v90, i10 - i90, res[6])
    return {f.tag: float(v) for f, v in zip(FEATURES, values)}


def compute(roi) -> dict[str, float]:
    """Family entry point: IVH of the intensity mask with the settings' IVH discretisation."""
    return ivh_features(discretise_ivh(roi.values, roi.settings, roi.reseg_bounds))
