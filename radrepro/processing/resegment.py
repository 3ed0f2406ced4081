"""Re-segmentation of the intensity mask (IBSI 1, section 2.5)."""

from __future__ import annotations

import numpy as np

from radrepro.settings import Settings


def resegment(image: np.ndarray, mask: np.ndarray, settings: Settings) -> np.ndarray:
    """The intensity mask: ``mask`` restricted by range, then by outlier filtering.

    Range re-segmentation keeps voxels with ``low <= I <= high``. Outlier filtering keeps voxels
    within mean +- ``outlier_sigma`` x standard deviation (population sd) of the voxels left by the
    range step. The morphological mask is not changed. The result may be empty; families then
    return NaN.
    """
    keep = mask.copy()
    if settings.reseg_range is not None and settings.reseg_mode == "absolute":
        low, high = settings.reseg_range
        if low is not None:
            keep &= image >= low
        if high is not None:
            keep &= image <= high
    if settings.outlier_sigma is not None and keep.any():
        v = image[keep]
        mu, sd = v.mean(), v.std()
        keep &= (image >= mu - settings.outlier_sigma * sd) & (image <= mu + settings.outlier_sigma * sd)
    return keep
