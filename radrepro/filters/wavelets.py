"""Separable wavelets, undecimated (IBSI 2; phase 1 tests 5.x-7.x, phase 2 filters 6 and 7).

The filters are PyWavelets' orthogonal analysis filters (``pywt.Wavelet(name).dec_lo`` low-pass,
``.dec_hi`` high-pass): IBSI 2 prescribes these exact coefficient tables (haar, db2, db3, coif1, ...),
so they are taken from PyWavelets rather than retyped. The transform is the undecimated
(stationary, *a trous*) one, done here with explicit 1D convolutions because IBSI 2 fixes an
alignment that ``pywt.swtn`` does not use: for a filter of length ``N`` the response at ``x`` is
``sum_n h[n] f(x + floor(N/2) - n)`` (:func:`radrepro.filters.boundary.separable_convolve`).

Subband letters map to axes in order: ``LHL`` is L along i, H along j, L along k (``LH`` in 2D).
Level ``l > 1``: the image is first filtered with the low-pass of every level below ``l`` along every
filtered axis, then with the level-``l`` filters of the requested subband. A level-``l`` filter is
the level-1 filter with ``2^(l-1) - 1`` zeros inserted after every tap (including the last).
Rotation invariance rotates the *image* (24 right-angle rotations in 3D, 4 in 2D), filters it with
the un-rotated filter bank, rotates the response back and pools (IBSI 2: rotating an even-length
kernel about its own centre is not the same and does not reproduce test 5.a.2).
"""

from __future__ import annotations

import numpy as np
import pywt

from radrepro.errors import SettingsError
from radrepro.filters.boundary import filter_axes, separable_convolve
from radrepro.filters.rotations import Pool, rotate, rotations, unrotate


def wavelet_filters(wavelet: str) -> tuple[np.ndarray, np.ndarray]:
    """The level-1 analysis low-pass and high-pass filters of ``wavelet`` (PyWavelets name)."""
    try:
        w = pywt.Wavelet(wavelet)
    except ValueError:
        raise SettingsError(f"wavelet {wavelet!r} is not known", "use a PyWavelets discrete wavelet: haar, db2, db3, coif1, ...") from None
    if not w.orthogonal:
        raise SettingsError(f"wavelet {wavelet!r} is not orthogonal", "use an orthogonal wavelet: haar, dbN, symN, coifN")
    return np.asarray(w.dec_lo, dtype=np.float64), np.asarray(w.dec_hi, dtype=np.float64)


def dilate(h: np.ndarray, level: int) -> np.ndarray:
    """The level-``level`` filter: ``2^(level-1) - 1`` zeros after every tap of ``h``."""
    step = 2 ** (level - 1)
    out = np.zeros(h.size * step)
    out[::step] = h
    return out


def _check_subband(subband: str, dims: str) -> str:
    n = len(filter_axes(dims))
    s = subband.upper()
    if len(s) != n or set(s) - {"L", "H"}:
        raise SettingsError(f"wavelet subband {subband!r} is not valid for {dims} filtering",
                            f"use {n} letters of L and H in axis order i, j{', k' if n == 3 else ''} (e.g. {'LLH' if n == 3 else 'LH'})")
    return s


def _decompose(image: np.ndarray, lo: np.ndarray, hi: np.ndarray, subband: str, level: int, axes, boundary: str):
    out = image
    for lev in range(1, level):
        out = separable_convolve(out, {a: dilate(lo, lev) for a in axes}, boundary)
    kernels = {a: dilate(lo if c == "L" else hi, level) for a, c in zip(axes, subband)}
    return separable_convolve(out, kernels, boundary)


def wavelet_filter(image: np.ndarray, wavelet: str, subband: str, level: int = 1, dims: str = "3D",
                   boundary: str = "zero", rotation_invariant: bool = False, pooling: str = "average") -> np.ndarray:
    """Undecimated separable wavelet response (one subband) of an ``(i, j, k)`` array.

    Parameters
    ----------
    image
        Intensities, axes ``(i, j, k)``.
    wavelet
        PyWavelets name: ``haar``, ``db2``, ``db3``, ``coif1``, ...
    subband
        One letter (L or H) per filtered axis, in order i, j, k.
    level
        Decomposition level (1, 2, ...).
    dims, boundary
        ``3D`` / ``2D``; ``zero``, ``nearest``, ``periodic`` or ``mirror``.
    rotation_invariant, pooling
        Pool (``average``, ``max``, ``min``) over the right-angle rotations of the image.
    """
    lo, hi = wavelet_filters(wavelet)
    sub = _check_subband(subband, dims)
    if int(level) != level or level < 1:
        raise SettingsError(f"wavelet level {level!r} is not valid", "use an integer >= 1")
    axes = filter_axes(dims)
    f = np.asarray(image, dtype=np.float64)
    if not rotation_invariant:
        return _decompose(f, lo, hi, sub, int(level), axes, boundary)
    pool = Pool(pooling)
    for rot in rotations(dims):
        pool.add(unrotate(_decompose(np.ascontiguousarray(rotate(f, rot)), lo, hi, sub, int(level), axes, boundary), rot))
    return pool.value()
