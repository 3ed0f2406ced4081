"""Intensity-based statistical features (IBSI 1, section 3.3; family UHIW).

Computed from the intensities of the voxels in the intensity mask, without discretisation.
"""

from __future__ import annotations

import numpy as np

from radrepro._numba import jit
from radrepro.registry import Feature

FEATURES = (
    Feature("stat_mean", "Q4LE", "Mean", "stat", "firstorder_Mean"),
    Feature("stat_var", "ECT3", "Variance", "stat", "firstorder_Variance"),
    Feature("stat_skew", "KE2A", "Skewness", "stat", "firstorder_Skewness"),
    # pyradiomics' Kurtosis is not excess kurtosis (it is this + 3): no pyradiomics name
    Feature("stat_kurt", "IPH6", "(Excess) kurtosis", "stat"),
    Feature("stat_median", "Y12H", "Median", "stat", "firstorder_Median"),
    Feature("stat_min", "1GSF", "Minimum", "stat", "firstorder_Minimum"),
    Feature("stat_p10", "QG58", "10th percentile", "stat", "firstorder_10Percentile"),
    Feature("stat_p90", "8DWT", "90th percentile", "stat", "firstorder_90Percentile"),
    Feature("stat_max", "84IY", "Maximum", "stat", "firstorder_Maximum"),
    Feature("stat_iqr", "SALO", "Interquartile range", "stat", "firstorder_InterquartileRange"),
    Feature("stat_range", "2OJQ", "Range", "stat", "firstorder_Range"),
    Feature("stat_mad", "4FUA", "Mean absolute deviation", "stat", "firstorder_MeanAbsoluteDeviation"),
    Feature("stat_rmad", "1128", "Robust mean absolute deviation", "stat", "firstorder_RobustMeanAbsoluteDeviation"),
    Feature("stat_medad", "N72L", "Median absolute deviation", "stat"),
    Feature("stat_cov", "7TET", "Coefficient of variation", "stat"),
    Feature("stat_qcod", "9S40", "Quartile coefficient of dispersion", "stat"),
    Feature("stat_energy", "N8CA", "Energy", "stat", "firstorder_Energy"),
    Feature("stat_rms", "5ZWQ", "Root mean square", "stat", "firstorder_RootMeanSquared"),
)


@jit
def _quantile(s, q):
    """Quantile of sorted ``s`` with linear interpolation between order statistics (numpy's default)."""
    pos = q * (s.size - 1)
    lo = int(np.floor(pos))
    hi = min(lo + 1, s.size - 1)
    frac = pos - lo
    return s[lo] + (s[hi] - s[lo]) * frac


def _statistics_kernel(x: np.ndarray) -> np.ndarray:
    """The 18 statistics of a contiguous float64 array, in :data:`FEATURES` order (numpy sorts it:
    many times faster than numba's sort)."""
    return _statistics_sorted(x, np.sort(x))


@jit
def _statistics_sorted(x, s):
    n = x.size
    out = np.full(18, np.nan)
    if n == 0:
        return out
    total = 0.0
    energy = 0.0
    for v in x:
        total += v
        energy += v * v
    mean = total / n
    m2 = 0.0
    m3 = 0.0
    m4 = 0.0
    mad = 0.0
    for v in x:
        d = v - mean
        m2 += d * d
        m3 += d * d * d
        m4 += d * d * d * d
        mad += abs(d)
    m2 /= n
    m3 /= n
    m4 /= n
    mad /= n
    median = _quantile(s, 0.5)
    p10 = _quantile(s, 0.1)
    p90 = _quantile(s, 0.9)
    p25 = _quantile(s, 0.25)
    p75 = _quantile(s, 0.75)
    # robust mean absolute deviation: voxels between the 10th and 90th percentile
    rsum = 0.0
    rn = 0
    for v in x:
        if p10 <= v <= p90:
            rsum += v
            rn += 1
    rmean = rsum / rn
    rmad = 0.0
    for v in x:
        if p10 <= v <= p90:
            rmad += abs(v - rmean)
    rmad /= rn
    medad = 0.0
    for v in x:
        medad += abs(v - median)
    medad /= n
    out[0] = mean
    out[1] = m2
    # IBSI: skewness and kurtosis are 0 when the variance is 0
    out[2] = m3 / m2**1.5 if m2 > 0 else 0.0
    out[3] = m4 / (m2 * m2) - 3.0 if m2 > 0 else 0.0
    out[4] = median
    out[5] = s[0]
    out[6] = p10
    out[7] = p90
    out[8] = s[n - 1]
    out[9] = p75 - p25
    out[10] = s[n - 1] - s[0]
    out[11] = mad
    out[12] = rmad
    out[13] = medad
    out[14] = np.sqrt(m2) / mean if mean != 0 else np.nan
    out[15] = (p75 - p25) / (p75 + p25) if (p75 + p25) != 0 else np.nan
    out[16] = energy
    out[17] = np.sqrt(energy / n)
    return out


def intensity_statistics(values: np.ndarray) -> dict[str, float]:
    """The 18 IBSI intensity-based statistics of a set of intensities.

    Parameters
    ----------
    values
        Intensities of the ROI voxels (any shape; flattened). Must be finite.

    Returns
    -------
    dict
        Reference tag -> value. An empty input gives NaN for every feature. For a constant ROI
        (zero variance) skewness and kurtosis are 0, as IBSI defines them; the coefficient of
        variation is NaN when the mean is 0 and the quartile coefficient of dispersion when
        ``P75 + P25 = 0`` (division by zero, which IBSI leaves undefined).
    """
    x = np.ascontiguousarray(np.asarray(values, dtype=np.float64).ravel())
    if not np.isfinite(x).all():
        raise ValueError("intensity_statistics: values must be finite (no NaN or inf)")
    res = _statistics_kernel(x)
    return {f.tag: float(v) for f, v in zip(FEATURES, res)}


def compute(roi) -> dict[str, float]:
    """Family entry point: statistics of the voxels in the ROI's intensity mask."""
    return intensity_statistics(roi.values)
