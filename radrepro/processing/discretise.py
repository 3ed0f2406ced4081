"""Intensity discretisation (IBSI 1, section 2.7) and the separate IVH discretisation (section 4.5).

Texture and intensity-histogram features read grey levels ``1..N`` from :func:`discretise`:

- fixed bin number (K15C): ``floor(N (I - min) / (max - min)) + 1``, the maximum in bin ``N``;
  ``min`` and ``max`` are those of the ROI (intensity mask). A constant ROI gets level 1.
- fixed bin size (Q3RU): ``floor((I - low) / w) + 1``, where ``low`` is the lower bound of the
  re-segmentation range when there is one, else the ROI minimum.

The intensity-volume histogram has its own discretisation (:func:`discretise_ivh`), finer than the
texture one:

- ``none``: the intensities as they are (calibrated, discrete intensities such as CT in HU), grid
  step 1; the range ``G`` is the re-segmentation range, completed by the ROI's minimum / maximum
  where it is open or absent;
- ``fbs``: fixed bin size ``w`` from the range's lower bound (else the ROI minimum), bins replaced
  by their centre intensities; ``G = [X_min + w/2, X_max - w/2]`` with ``X_max`` the upper bound of
  the range (else the ROI maximum);
- ``fbn``: fixed bin number ``N`` over the ROI's own range; ``G = [1, N]`` in bin numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from radrepro.settings import Settings


def fixed_bin_number(values: np.ndarray, n: int) -> np.ndarray:
    """Fixed-bin-number levels ``1..n`` of ``values`` (int64), IBSI K15C."""
    v = np.asarray(values, dtype=np.float64)
    if v.size == 0:
        return np.zeros(0, dtype=np.int64)
    vmin, vmax = float(v.min()), float(v.max())
    if vmax == vmin:
        return np.ones(v.shape, dtype=np.int64)
    d = np.floor(n * (v - vmin) / (vmax - vmin)).astype(np.int64) + 1
    d[d > n] = n
    return d


def fixed_bin_size(values: np.ndarray, low: float, width: float) -> np.ndarray:
    """Fixed-bin-size levels ``floor((I - low) / width) + 1`` (int64), IBSI Q3RU."""
    v = np.asarray(values, dtype=np.float64)
    return np.floor((v - low) / width).astype(np.int64) + 1


def discretise(
    image: np.ndarray,
    mask: np.ndarray,
    settings: Settings,
    low: float | None = None,
) -> tuple[np.ndarray, int, float, float]:
    """Grey levels 1..N inside ``mask`` (0 outside), IBSI definitions.

    Parameters
    ----------
    image, mask
        Intensities and the intensity mask (same shape).
    settings
        ``discretisation`` (``fbs`` / ``fbn``), ``bin_width``, ``bin_count``.
    low
        Lower bound of the re-segmentation range (fixed bin size starts there); ``None`` starts
        at the ROI minimum.

    Returns
    -------
    levels, n_levels, low, width
        The level volume (int32), the number of levels (``bin_count`` for fixed bin number, the
        highest level present for fixed bin size, 0 for an empty mask), the lower edge of bin 1
        and the bin width in intensity units (fixed bin number: ROI range / N).
    """
    levels = np.zeros(image.shape, dtype=np.int32)
    if not mask.any():
        return levels, 0, float("nan"), float("nan")
    v = image[mask]
    vmin, vmax = float(v.min()), float(v.max())
    if settings.discretisation == "fbn":
        n = settings.bin_count
        levels[mask] = fixed_bin_number(v, n)
        return levels, n, vmin, (vmax - vmin) / n
    width = settings.bin_width
    start = vmin if low is None else float(low)
    d = fixed_bin_size(v, start, width)
    levels[mask] = d
    return levels, int(d.max()), start, width


@dataclass(frozen=True)
class IVHData:
    """Intensities discretised for the intensity-volume histogram, in grid units.

    The IVH is evaluated at the grid points ``k = 0, 1, ..., floor(span)``; grid point ``k`` is
    the intensity ``origin + k * step``, and its intensity fraction is ``k / span``.

    Attributes
    ----------
    x
        Sorted voxel values in grid units (grid point ``k`` is the value ``k``), float64.
    span
        Length of the range ``G`` in grid units, ``(max G - min G) / step``.
    origin, step
        ``min G`` and the discretisation interval ``w_d`` in reported units (intensity for
        ``none`` and ``fbs``, bin number for ``fbn``).
    """

    x: np.ndarray
    span: float
    origin: float
    step: float


def discretise_ivh(values: np.ndarray, settings: Settings, bounds: tuple[float | None, float | None] = (None, None)) -> IVHData:
    """Discretisation for the intensity-volume histogram (see the module docstring).

    Parameters
    ----------
    values
        Intensities of the voxels in the intensity mask.
    settings
        ``ivh_discretisation``, ``ivh_bin_width``, ``ivh_bin_count``.
    bounds
        The re-segmentation range ``(low, high)`` in intensity units; ``None`` for an open side.
    """
    v = np.sort(np.asarray(values, dtype=np.float64).ravel())
    if v.size == 0:
        return IVHData(v, float("nan"), float("nan"), float("nan"))
    low = float(v[0]) if bounds[0] is None else float(bounds[0])
    high = float(v[-1]) if bounds[1] is None else float(bounds[1])
    method = settings.ivh_discretisation
    if method == "fbn":
        n = settings.ivh_bin_count
        x = fixed_bin_number(v, n).astype(np.float64) - 1.0
        return IVHData(np.sort(x), float(n - 1), 1.0, 1.0)
    if method == "fbs":
        w = settings.ivh_bin_width
        x = fixed_bin_size(v, low, w).astype(np.float64) - 1.0  # bin k + 1 has centre low + (k + 0.5) w
        span = max((high - low) / w - 1.0, 0.0)
        return IVHData(np.sort(x), span, low + 0.5 * w, w)
    return IVHData(v - low, max(high - low, 0.0), low, 1.0)


def grid_size(span: float) -> int:
    """Index of the last IVH grid point for a range of ``span`` grid units."""
    return int(math.floor(span + 1e-9 * max(1.0, span)))
