"""pyradiomics ``firstorder``: intensity statistics of the ROI voxels (``voxelArrayShift`` for energy)."""

from __future__ import annotations

import numpy as np

from radrepro.conventions._pyradiomics.common import EPS, ClassInput, selected

NAME = "firstorder"
FEATURES = {
    "10Percentile": "enabled", "90Percentile": "enabled", "Energy": "enabled", "Entropy": "enabled",
    "InterquartileRange": "enabled", "Kurtosis": "enabled", "Maximum": "enabled",
    "MeanAbsoluteDeviation": "enabled", "Mean": "enabled", "Median": "enabled", "Minimum": "enabled",
    "Range": "enabled", "RobustMeanAbsoluteDeviation": "enabled", "RootMeanSquared": "enabled",
    "Skewness": "enabled", "StandardDeviation": "deprecated", "TotalEnergy": "enabled",
    "Uniformity": "enabled", "Variance": "enabled",
}


def compute(data: ClassInput, names=None) -> dict[str, float]:
    """First-order features of the ROI (pyradiomics 3.0.1 definitions)."""
    x = data.prepared.image[data.prepared.roi].astype("float")
    shift = data.settings.voxel_array_shift
    _, counts = np.unique(data.levels[data.prepared.roi], return_counts=True)
    p = counts.astype("float") / float(counts.sum())
    mean = np.nanmean(x)
    centred = x - mean

    def moment(k):
        return np.nanmean(np.power(centred, k))

    def percentile(q):
        return np.nanpercentile(x, q)

    def skewness():
        m2, m3 = moment(2), moment(3)
        return m3 / (m2 if m2 != 0 else 1.0) ** 1.5

    def kurtosis():
        m2, m4 = moment(2), moment(4)
        return m4 / (m2 if m2 != 0 else 1.0) ** 2.0

    def robust_mad():
        p10, p90 = percentile(10), percentile(90)
        kept = x[(x - p10 >= 0) & (x - p90 <= 0)]
        return np.nanmean(np.absolute(kept - np.nanmean(kept)))

    energy = lambda: np.nansum((x + shift) ** 2)  # noqa: E731
    funcs = {
        "Energy": energy,
        "TotalEnergy": lambda: energy() * np.multiply.reduce(data.prepared.spacing),
        "Entropy": lambda: -1.0 * np.sum(p * np.log2(p + EPS)),
        "Minimum": lambda: np.nanmin(x),
        "10Percentile": lambda: percentile(10),
        "90Percentile": lambda: percentile(90),
        "Maximum": lambda: np.nanmax(x),
        "Mean": lambda: mean,
        "Median": lambda: np.nanmedian(x),
        "InterquartileRange": lambda: percentile(75) - percentile(25),
        "Range": lambda: np.nanmax(x) - np.nanmin(x),
        "MeanAbsoluteDeviation": lambda: np.nanmean(np.absolute(centred)),
        "RobustMeanAbsoluteDeviation": robust_mad,
        "RootMeanSquared": lambda: np.sqrt(np.nansum((x + shift) ** 2) / float(x.size)) if x.size else 0.0,
        "StandardDeviation": lambda: np.nanstd(x),
        "Skewness": skewness,
        "Kurtosis": kurtosis,
        "Variance": lambda: np.nanstd(x) ** 2,
        "Uniformity": lambda: np.nansum(p**2),
    }
    return {n: float(funcs[n]()) for n in selected(FEATURES, names, NAME)}
