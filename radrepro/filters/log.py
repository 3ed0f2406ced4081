"""Laplacian of Gaussian (IBSI 2; phase 1 tests 2.x, phase 2 filter 3, first stage of 9.x).

IBSI 2 computes the LoG in voxel units (``sigma_vox = sigma_mm / spacing``) without scale
normalisation, truncated at radius ``floor(4 sigma_vox + 0.5)``. That is the sum over the filtered
axes of the second derivative of a sampled, unit-sum Gaussian along that axis, smoothed by the
same Gaussian along the other filtered axes: scipy.ndimage.gaussian_filter1d with ``order=2`` /
``order=0`` and ``truncate=4`` builds exactly these kernels (its radius is
``int(truncate * sigma + 0.5)``), so it is used instead of a hand-written kernel. Both this and the
analytic kernel reproduce the reference maps of tests 2.a-2.c.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from radrepro.errors import SettingsError
from radrepro.filters.boundary import filter_axes, ndimage_mode


def log_filter(image: np.ndarray, sigma: float | tuple[float, ...], dims: str = "3D", boundary: str = "zero",
               truncate: float = 4.0) -> np.ndarray:
    """LoG response of an ``(i, j, k)`` array.

    Parameters
    ----------
    image
        Intensities, axes ``(i, j, k)``.
    sigma
        Gaussian scale in **voxels**, one number or one per filtered axis.
    dims
        ``3D`` or ``2D`` (every i-j plane).
    boundary
        ``zero``, ``nearest``, ``periodic`` or ``mirror``.
    truncate
        Kernel radius in standard deviations (IBSI: 4).
    """
    axes = filter_axes(dims)
    sig = (float(sigma),) * len(axes) if np.isscalar(sigma) else tuple(float(s) for s in sigma)
    if len(sig) != len(axes) or any(not s > 0 for s in sig):
        raise SettingsError(f"LoG sigma {sigma!r} is not valid", "use a positive scale (in mm in the filter settings)")
    mode = ndimage_mode(boundary)
    f = np.asarray(image, dtype=np.float64)
    out = np.zeros_like(f)
    for d in axes:
        part = f
        for a, s in zip(axes, sig):
            part = ndimage.gaussian_filter1d(part, s, axis=a, order=2 if a == d else 0, mode=mode,
                                             cval=0.0, truncate=truncate)
        out += part
    return out
