"""Intensity histogram features (IBSI 1, section 3.4; family ZVCW).

Computed from the discretised grey levels ``X_d`` of the voxels in the intensity mask
(:attr:`radrepro.processing.ROI.levels`). The histogram ``H`` has one bin per grey level
``1..N_g`` (``N_g`` = :attr:`~radrepro.processing.ROI.n_levels`), empty bins included; its gradient
is ``H'_1 = n_2 - n_1``, ``H'_i = (n_{i+1} - n_{i-1}) / 2`` inside and ``H'_{N_g} = n_{N_g} - n_{N_g-1}``.
The 16 moment and percentile features have the same definitions as the intensity statistics,
applied to ``X_d``.
"""

from __future__ import annotations

import numpy as np

from radrepro._numba import jit
from radrepro.features.statistics import _statistics_kernel
from radrepro.registry import Feature

FEATURES = (
    Feature("ih_mean", "X6K6", "Mean discretised intensity", "ih"),
    Feature("ih_var", "CH89", "Discretised intensity variance", "ih"),
    Feature("ih_skew", "88K1", "Discretised intensity skewness", "ih"),
    Feature("ih_kurt", "C3I7", "(Excess) discretised intensity kurtosis", "ih"),
    Feature("ih_median", "WIFQ", "Median discretised intensity", "ih"),
    Feature("ih_min", "1PR8", "Minimum discretised intensity", "ih"),
    Feature("ih_p10", "GPMT", "10th discretised intensity percentile", "ih"),
    Feature("ih_p90", "OZ0C", "90th discretised intensity percentile", "ih"),
    Feature("ih_max", "3NCY", "Maximum discretised intensity", "ih"),
    Feature("ih_mode", "AMMC", "Intensity histogram mode", "ih"),
    Feature("ih_iqr", "WR0O", "Discretised intensity interquartile range", "ih"),
    Feature("ih_range", "5Z3W", "Discretised intensity range", "ih"),
    Feature("ih_mad", "D2ZX", "Intensity histogram mean absolute deviation", "ih"),
    Feature("ih_rmad", "WRZB", "Intensity histogram robust mean absolute deviation", "ih"),
    Feature("ih_medad", "4RNL", "Intensity histogram median absolute deviation", "ih"),
    Feature("ih_cov", "CWYJ", "Intensity histogram coefficient of variation", "ih"),
    Feature("ih_qcod", "SLWD", "Intensity histogram quartile coefficient of dispersion", "ih"),
    Feature("ih_entropy", "TLU2", "Discretised intensity entropy", "ih", "firstorder_Entropy"),
    Feature("ih_uniformity", "BJ5W", "Discretised intensity uniformity", "ih", "firstorder_Uniformity"),
    Feature("ih_max_grad", "12CE", "Maximum histogram gradient", "ih"),
    Feature("ih_max_grad_g", "8E6O", "Maximum histogram gradient intensity", "ih"),
    Feature("ih_min_grad", "VQB3", "Minimum histogram gradient", "ih"),
    Feature("ih_min_grad_g", "RHQZ", "Minimum histogram gradient intensity", "ih"),
)

# positions of the statistics kernel's outputs (see radrepro.features.statistics.FEATURES) that
# the histogram shares, in this family's order up to the mode
_SHARED_BEFORE_MODE = (0, 1, 2, 3, 4, 5, 6, 7, 8)
_SHARED_AFTER_MODE = (9, 10, 11, 12, 13, 14, 15)


@jit
def _histogram_kernel(levels, n_levels):
    """Mode, entropy, uniformity and histogram gradient features of grey levels ``levels``."""
    out = np.full(7, np.nan)
    n = levels.size
    if n == 0:
        return out
    counts = np.zeros(n_levels + 1, dtype=np.int64)  # index 0 unused
    total = 0.0
    for g in levels:
        counts[g] += 1
        total += g
    mean = total / n
    # mode: highest count; ties go to the level closest to the mean, then to the lower level
    best = -1
    for i in range(1, n_levels + 1):
        if best < 0 or counts[i] > counts[best]:
            best = i
        elif counts[i] == counts[best] and abs(i - mean) < abs(best - mean):
            best = i
    out[0] = best
    entropy = 0.0
    uniformity = 0.0
    for i in range(1, n_levels + 1):
        if counts[i] > 0:
            p = counts[i] / n
            entropy -= p * np.log2(p)
            uniformity += p * p
    out[1] = entropy
    out[2] = uniformity
    # histogram gradient; first maximum / minimum wins ties
    gmax = -np.inf
    gmin = np.inf
    imax = 0
    imin = 0
    for i in range(1, n_levels + 1):
        if n_levels == 1:
            grad = 0.0
        elif i == 1:
            grad = float(counts[2] - counts[1])
        elif i == n_levels:
            grad = float(counts[n_levels] - counts[n_levels - 1])
        else:
            grad = (counts[i + 1] - counts[i - 1]) / 2.0
        if grad > gmax:
            gmax = grad
            imax = i
        if grad < gmin:
            gmin = grad
            imin = i
    out[3] = gmax
    out[4] = imax
    out[5] = gmin
    out[6] = imin
    return out


def intensity_histogram(levels: np.ndarray, n_levels: int | None = None) -> dict[str, float]:
    """The 23 IBSI intensity histogram features of a set of grey levels.

    Parameters
    ----------
    levels
        Discretised grey levels (integers >= 1) of the voxels in the intensity mask, any shape.
    n_levels
        Number of histogram bins ``N_g`` (default: the highest level present). Must be at least
        the highest level.

    Returns
    -------
    dict
        Reference tag -> value; NaN for every feature of an empty input. For a single grey level
        (zero variance) skewness and kurtosis are 0 and every gradient is 0, as IBSI defines them.
    """
    g = np.ascontiguousarray(np.asarray(levels).ravel())
    if g.size and not np.issubdtype(g.dtype, np.integer):
        if not np.all(np.isfinite(g)) or not np.all(g == np.round(g)):
            raise ValueError("intensity_histogram: levels must be integers >= 1")
    g = g.astype(np.int64)
    if g.size and g.min() < 1:
        raise ValueError("intensity_histogram: levels must be integers >= 1")
    top = int(g.max()) if g.size else 0
    n = top if n_levels is None else int(n_levels)
    if n < top:
        raise ValueError(f"intensity_histogram: n_levels = {n} is below the highest level {top}")
    stats = _statistics_kernel(g.astype(np.float64))
    hist = _histogram_kernel(g, n)
    values = [stats[i] for i in _SHARED_BEFORE_MODE] + [hist[0]] + [stats[i] for i in _SHARED_AFTER_MODE]
    values += list(hist[1:])
    return {f.tag: float(v) for f, v in zip(FEATURES, values)}


def compute(roi) -> dict[str, float]:
    """Family entry point: histogram of the ROI's grey levels in its intensity mask."""
    return intensity_histogram(roi.levels[roi.int_mask], max(roi.n_levels, 0) or None)
