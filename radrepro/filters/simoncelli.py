"""Simoncelli non-separable wavelet (IBSI 2; phase 1 tests 8.x, phase 2 filters 8 and 9).

An isotropic band-pass filter applied in the Fourier domain (numpy FFT) to the whole image::

    H(rho) = cos(pi/2 log2(2 rho / rho_max))  for rho_max / 4 <= rho <= rho_max, else 0,
    rho_max = 2^-(level - 1)

The response is the real part of the inverse FFT of ``FFT(image) * H``. The frequency grid is the
one the IBSI 2 reference maps use: along an axis of length ``N``, centred sample ``k`` has the
coordinate ``(k - (N-1)/2) / ((N-1)/2)`` in ``[-1, 1]``, and the centred array is moved to FFT order
with ``ifftshift``. (The usual DFT grid ``2|k|/N`` fails 8.a.2 and 8.a.3.) The ``periodic`` boundary
filters the image as it is; any other boundary pads it by ``pad_width`` voxels per side first
(IBSI 2's reference values of phase 2 are reproduced with either).
"""

from __future__ import annotations

import math

import numpy as np
import scipy.fft

from radrepro.errors import SettingsError
from radrepro.filters.boundary import crop, filter_axes, pad

DEFAULT_PAD = 32


def frequency_radius(shape: tuple[int, ...]) -> np.ndarray:
    """``rho`` on IBSI 2's centred grid for an FFT of ``shape``, in FFT order."""
    coords = []
    for n in shape:
        half = (n - 1) / 2.0
        c = (np.arange(n) - half) / half if n > 1 else np.zeros(1)
        coords.append(np.fft.ifftshift(c))
    grids = np.meshgrid(*coords, indexing="ij", sparse=True)
    return np.sqrt(sum(g**2 for g in grids))


def simoncelli_transfer(shape: tuple[int, ...], level: int = 1) -> np.ndarray:
    """The band-pass transfer function ``H`` of level ``level`` on the grid of ``shape`` (FFT order)."""
    rho = frequency_radius(shape)
    rho_max = 2.0 ** -(level - 1)
    h = np.zeros(rho.shape)
    band = (rho >= rho_max / 4.0) & (rho <= rho_max)
    with np.errstate(divide="ignore"):
        h[band] = np.cos(math.pi / 2.0 * np.log2(2.0 * rho[band] / rho_max))
    return h


def real_response(f: np.ndarray, axes: tuple[int, ...], multiplier: np.ndarray) -> np.ndarray:
    """``Re(ifftn(fftn(f) * multiplier))`` over ``axes`` for a real ``f``, with real FFTs.

    For real ``f``, the real part equals the inverse transform with the Hermitian part of the
    multiplier, ``(M(k) + conj(M(-k))) / 2``, which a real inverse FFT computes from half the
    spectrum (half the memory and time of the complex transforms). ``multiplier`` is indexed by the
    filtered axes in FFT order.
    """
    m = np.asarray(multiplier)
    ax = tuple(range(m.ndim))
    mirrored = np.roll(np.flip(m, axis=ax), 1, axis=ax)  # M(-k): index (-k) mod N on every axis
    herm = (m + np.conj(mirrored)) / 2.0
    half = herm[..., : m.shape[-1] // 2 + 1]
    bshape = [1] * f.ndim
    for a, n in zip(axes, half.shape):
        bshape[a] = n
    spec = scipy.fft.rfftn(f, axes=axes, workers=1)
    spec *= half.reshape(bshape)
    return scipy.fft.irfftn(spec, s=[f.shape[a] for a in axes], axes=axes, workers=1)


def _apply_transfer(f: np.ndarray, axes: tuple[int, ...], transfer) -> np.ndarray:
    return real_response(f, axes, transfer(tuple(f.shape[a] for a in axes)))


def simoncelli_filter(image: np.ndarray, level: int = 1, dims: str = "3D", boundary: str = "periodic",
                      pad_width: int = DEFAULT_PAD) -> np.ndarray:
    """Simoncelli band-pass response of an ``(i, j, k)`` array.

    Parameters
    ----------
    image
        Intensities, axes ``(i, j, k)``.
    level
        Decomposition level (1, 2, ...): the band ``[rho_max/4, rho_max]`` with ``rho_max = 2^-(level-1)``.
    dims
        ``3D`` or ``2D`` (every i-j plane on its own).
    boundary, pad_width
        ``periodic``: no padding (the FFT wraps around); ``zero``, ``nearest`` or ``mirror``: pad by
        ``pad_width`` voxels on both sides of each filtered axis first.
    """
    if int(level) != level or level < 1:
        raise SettingsError(f"Simoncelli level {level!r} is not valid", "use an integer >= 1")
    axes = filter_axes(dims)
    f = np.asarray(image, dtype=np.float64)
    width = 0 if boundary == "periodic" else int(pad_width)
    if width:
        f = pad(f, width, boundary, axes)
    out = _apply_transfer(f, axes, lambda shape: simoncelli_transfer(shape, int(level)))
    return np.ascontiguousarray(crop(out, width, axes)) if width else out
