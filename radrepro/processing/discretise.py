"""Intensity discretisation (IBSI 1, section 2.7)."""

from __future__ import annotations

import numpy as np

from radrepro.settings import Settings


def discretise(image: np.ndarray, mask: np.ndarray, settings: Settings) -> tuple[np.ndarray, int, float, float]:
    """Grey levels 1..N inside ``mask`` (0 outside), IBSI definitions.

    - Fixed bin number: ``floor(N (I - min) / (max - min)) + 1``, with the maximum put in bin N;
      a constant ROI gets level 1 everywhere.
    - Fixed bin size ``w``: ``floor((I - low) / w) + 1``, where ``low`` is the lower bound of the
      re-segmentation range when there is one, else the ROI minimum.

    Returns
    -------
    levels, n_levels, low, width
        The level volume (int32), the number of levels, the lower edge of bin 1 and the bin width.
    """
    levels = np.zeros(image.shape, dtype=np.int32)
    if not mask.any():
        return levels, 0, float("nan"), float("nan")
    v = image[mask]
    vmin, vmax = float(v.min()), float(v.max())
    if settings.discretisation == "fbn":
        n = settings.bin_count
        width = (vmax - vmin) / n
        if vmax > vmin:
            d = np.floor(n * (v - vmin) / (vmax - vmin)).astype(np.int64) + 1
            d[d > n] = n
        else:
            d = np.ones(v.shape, dtype=np.int64)
        levels[mask] = d
        return levels, n, vmin, width
    width = settings.bin_width
    low = vmin
    if settings.reseg_range is not None and settings.reseg_range[0] is not None and settings.reseg_mode == "absolute":
        low = settings.reseg_range[0]
    d = np.floor((v - low) / width).astype(np.int64) + 1
    levels[mask] = d
    return levels, int(d.max()), low, width
