"""Gabor filter (IBSI 2; phase 1 tests 4.x, phase 2 filter 5).

For voxel offsets ``(i, j)`` from the kernel centre, with ``sigma`` and ``lambda`` in voxels::

    x~ =  i cos(theta) + j sin(theta)        y~ = -i sin(theta) + j cos(theta)
    g(i, j) = exp(-(x~^2 + gamma^2 y~^2) / (2 sigma^2)) * exp(1j 2 pi x~ / lambda)

without a normalisation constant (the envelope peaks at 1), truncated at radius
``ceil(4 sigma max(1, 1/gamma))``. The response is the modulus of the complex convolution of each
2D plane. Rotation invariance averages (or max-pools) the moduli for ``theta_n = n * theta_step``
over ``[0, 2 pi)``; the modulus at ``theta + pi`` equals that at ``theta`` for a real image (the kernel
is the complex conjugate), so each distinct angle modulo ``pi`` is computed once and weighted.
``orthogonal_planes`` repeats the 2D procedure in the i-j, i-k and j-k planes and averages the three maps.

The convolution is done with numpy FFTs of the padded planes (the kernel is dense, up to 81 x 81,
so a direct convolution would be slow); the image FFT is computed once per plane family.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.fft

from radrepro.errors import SettingsError
from radrepro.filters.boundary import pad
from radrepro.filters.rotations import Pool


def gabor_kernel(sigma: float, lambda_: float, gamma: float, theta: float, radius: int | None = None) -> np.ndarray:
    """The complex 2D Gabor kernel, indexed ``(i, j)`` with the centre at ``[radius, radius]``."""
    if radius is None:
        radius = gabor_radius(sigma, gamma)
    r = np.arange(-radius, radius + 1, dtype=np.float64)
    i, j = np.meshgrid(r, r, indexing="ij")
    xt = i * math.cos(theta) + j * math.sin(theta)
    yt = -i * math.sin(theta) + j * math.cos(theta)
    return np.exp(-(xt**2 + gamma**2 * yt**2) / (2.0 * sigma**2)) * np.exp(1j * 2.0 * math.pi * xt / lambda_)


def gabor_radius(sigma: float, gamma: float) -> int:
    """Kernel radius ``ceil(4 sigma max(1, 1/gamma))`` in voxels."""
    return int(math.ceil(4.0 * sigma * max(1.0, 1.0 / gamma) - 1e-9))


def _angles(theta: float | None, theta_step: float | None) -> list[tuple[float, int]]:
    """(angle, weight) pairs: one angle, or ``n * step`` over ``[0, 2 pi)`` folded modulo pi when step divides pi."""
    if theta_step is None:
        return [(float(theta or 0.0), 1)]
    n = int(round(2.0 * math.pi / theta_step))
    if n < 1 or abs(n * theta_step - 2.0 * math.pi) > 1e-6:
        raise SettingsError(f"Gabor theta_step {theta_step!r} does not divide 2 pi", "use e.g. pi/4 or pi/8")
    if n % 2 == 0:  # theta and theta + pi give the same modulus
        return [(k * theta_step, 2) for k in range(n // 2)]
    return [(k * theta_step, 1) for k in range(n)]


def _gabor_planes(image: np.ndarray, plane_axes: tuple[int, int], boundary: str, sigma: float, lambda_: float,
                  gamma: float, angles: list[tuple[float, int]], pooling: str) -> np.ndarray:
    radius = gabor_radius(sigma, gamma)
    padded = pad(np.asarray(image, dtype=np.float64), radius, boundary, plane_axes)
    # Output voxel x sits at padded index x + 2 radius of the linear convolution; it reads padded
    # indices x .. x + 2 radius only, so a circular convolution of the padded length does not wrap there.
    fshape = [scipy.fft.next_fast_len(padded.shape[a]) for a in plane_axes]
    spectrum = scipy.fft.fftn(padded, s=fshape, axes=plane_axes, workers=1)
    pool = Pool(pooling)
    bshape = [1] * image.ndim
    for a, n in zip(plane_axes, fshape):
        bshape[a] = n
    for ang, weight in angles:
        k = gabor_kernel(sigma, lambda_, gamma, ang, radius)
        kf = scipy.fft.fftn(k, s=fshape, workers=1).reshape(bshape)
        full = scipy.fft.ifftn(spectrum * kf, axes=plane_axes, workers=1)
        # full linear convolution: output index x of the padded image sits at x + radius
        index = [slice(None)] * image.ndim
        for a in plane_axes:
            index[a] = slice(2 * radius, 2 * radius + image.shape[a])
        mod = np.abs(full[tuple(index)])
        pool.add(mod, weight)
    return pool.value()


def gabor_filter(image: np.ndarray, sigma: float, lambda_: float, gamma: float = 1.0, theta: float = 0.0,
                 theta_step: float | None = None, boundary: str = "zero", pooling: str = "average",
                 orthogonal_planes: bool = False) -> np.ndarray:
    """Gabor modulus response of an ``(i, j, k)`` array, filtered in 2D planes.

    Parameters
    ----------
    image
        Intensities, axes ``(i, j, k)``.
    sigma, lambda_
        Envelope width and wavelength in **voxels**.
    gamma
        Spatial aspect ratio.
    theta
        Orientation in radians, from +i towards +j (used when ``theta_step`` is ``None``).
    theta_step
        Rotation invariance: pool over ``n * theta_step`` for ``n = 0 .. 2 pi / theta_step - 1``.
    boundary
        ``zero``, ``nearest``, ``periodic`` or ``mirror``.
    pooling
        ``average`` or ``max`` over orientations.
    orthogonal_planes
        Average the results of the i-j, i-k and j-k plane families (else i-j planes only).
    """
    if not (sigma > 0 and lambda_ > 0 and gamma > 0):
        raise SettingsError("Gabor sigma, lambda and gamma must be > 0", "check the filter settings")
    angles = _angles(theta, theta_step)
    families = [(0, 1), (0, 2), (1, 2)] if orthogonal_planes else [(0, 1)]
    maps = [_gabor_planes(image, pa, boundary, sigma, lambda_, gamma, angles, pooling) for pa in families]
    return maps[0] if len(maps) == 1 else sum(maps) / len(maps)
