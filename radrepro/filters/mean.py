"""Mean filter (IBSI 2, section on the mean filter; phase 1 tests 1.x, phase 2 filter 2).

Each response voxel is the plain average over a cube of ``support`` voxels per filtered axis,
centred on the voxel. scipy.ndimage.uniform_filter1d does exactly this along one axis (odd support,
centred window) with the boundary modes of :mod:`radrepro.filters.boundary`, so it is used as is.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from radrepro.errors import SettingsError
from radrepro.filters.boundary import filter_axes, ndimage_mode


def mean_filter(image: np.ndarray, support: int, dims: str = "3D", boundary: str = "zero") -> np.ndarray:
    """Mean filter response of an ``(i, j, k)`` array.

    Parameters
    ----------
    image
        Intensities, axes ``(i, j, k)``.
    support
        Odd window size ``M`` in voxels per filtered axis.
    dims
        ``3D`` (M x M x M) or ``2D`` (M x M in every i-j plane).
    boundary
        ``zero``, ``nearest``, ``periodic`` or ``mirror``.
    """
    if int(support) != support or support < 1 or support % 2 == 0:
        raise SettingsError(f"mean filter support {support!r} is not valid", "use an odd number of voxels (e.g. 5)")
    mode = ndimage_mode(boundary)
    out = np.asarray(image, dtype=np.float64)
    for axis in filter_axes(dims):
        out = ndimage.uniform_filter1d(out, int(support), axis=axis, mode=mode, cval=0.0)
    return out
