"""Re-segmentation of the intensity mask (IBSI 1, section 2.5).

Two methods, alone or combined:

- range re-segmentation (USB3): keep voxels with ``low <= I <= high``;
- intensity outlier filtering (7ACA): keep voxels within ``mean +- k sd`` of the ROI's intensities
  (population standard deviation, ``k = outlier_sigma``, IBSI uses 3).

When both are set, IBSI keeps the intersection of the two intensity ranges; the outlier range is
computed from the voxels of the mask *before* re-segmentation (this is what the IBSI reference
values of configuration E need). The morphological mask is never changed.
"""

from __future__ import annotations

import numpy as np

from radrepro.settings import Settings


def range_bounds(values: np.ndarray, settings: Settings) -> tuple[float | None, float | None]:
    """The re-segmentation range in intensity units, ``(low, high)``; ``None`` for an open side.

    ``reseg_mode`` says how ``reseg_range`` is read: ``absolute`` intensities (IBSI), ``relative``
    to the ROI's maximum, or ``sigma`` (multiples of the standard deviation around the mean); the
    last two are pyradiomics' modes and use ``values``, the ROI's intensities.
    """
    if settings.reseg_range is None:
        return None, None
    low, high = settings.reseg_range
    if settings.reseg_mode == "absolute" or values.size == 0:
        return low, high
    if settings.reseg_mode == "relative":
        top = float(values.max())
        return (None if low is None else low * top), (None if high is None else high * top)
    mu, sd = float(values.mean()), float(values.std())
    return (None if low is None else mu + low * sd), (None if high is None else mu + high * sd)


def outlier_bounds(values: np.ndarray, sigma: float) -> tuple[float, float]:
    """``(mean - sigma sd, mean + sigma sd)`` of ``values`` (population standard deviation)."""
    if values.size == 0:
        return float("nan"), float("nan")
    mu, sd = float(values.mean()), float(values.std())
    return mu - sigma * sd, mu + sigma * sd


def resegment(image: np.ndarray, mask: np.ndarray, settings: Settings) -> np.ndarray:
    """The intensity mask: ``mask`` restricted by the range and by outlier filtering.

    Parameters
    ----------
    image
        Intensities, any shape.
    mask
        The morphological mask (bool, same shape as ``image``).
    settings
        ``reseg_range`` / ``reseg_mode`` and ``outlier_sigma``.

    Returns
    -------
    numpy.ndarray
        Boolean intensity mask. It may be empty; feature families then return NaN.
    """
    if image.shape != mask.shape:
        raise ValueError(f"resegment: image {image.shape} and mask {mask.shape} differ in shape")
    keep = mask.astype(bool, copy=True)
    if settings.reseg_range is None and settings.outlier_sigma is None:
        return keep
    values = image[keep]
    low, high = range_bounds(values, settings)
    if settings.outlier_sigma is not None and values.size:
        o_low, o_high = outlier_bounds(values, settings.outlier_sigma)
        low = o_low if low is None else max(low, o_low)
        high = o_high if high is None else min(high, o_high)
    if low is not None:
        keep &= image >= low
    if high is not None:
        keep &= image <= high
    return keep
