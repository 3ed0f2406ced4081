"""Riesz transform of LoG and Simoncelli responses (IBSI 2; phase 1 tests 9.a, 9.b.1, 10.b.1).

For an order ``l = (l_i, l_j, l_k)`` with ``L = l_i + l_j + l_k`` the Fourier multiplier is::

    R(w) = (-1j)^L sqrt(L! / (l_i! l_j! l_k!)) w_i^l_i w_j^l_j w_k^l_k / |w|^L,   R(0) = 0

on the ordinary DFT frequencies (numpy's sign convention); the response is the real part. The
Riesz-LoG pads the image with the boundary condition by the LoG kernel radius, applies the LoG
(:mod:`radrepro.filters.log`) and the multiplier on the padded grid, and crops. The
Riesz-Simoncelli pads by ``pad_width`` (default 32) and applies both multipliers on the padded grid.
These conventions (sign, axis order, padding) were inferred from the IBSI 2 reference maps
(``README_tests.md`` of the IBSI 2 data: PARTIAL confirmation).
"""

from __future__ import annotations

import math

import numpy as np

from radrepro.errors import SettingsError
from radrepro.filters.boundary import crop, filter_axes, pad
from radrepro.filters.log import log_filter
from radrepro.filters.simoncelli import DEFAULT_PAD, real_response, simoncelli_transfer


def riesz_transfer(shape: tuple[int, ...], order: tuple[int, ...]) -> np.ndarray:
    """The Riesz multiplier of ``order`` on the DFT grid of ``shape`` (FFT order)."""
    if len(order) != len(shape) or any(int(o) != o or o < 0 for o in order) or sum(order) == 0:
        raise SettingsError(f"Riesz order {order!r} is not valid", f"use {len(shape)} integers >= 0, not all 0")
    freqs = np.meshgrid(*[np.fft.fftfreq(n) for n in shape], indexing="ij", sparse=True)
    total = int(sum(order))
    norm = np.sqrt(sum(f**2 for f in freqs))
    coef = (-1j) ** total * math.sqrt(math.factorial(total) / math.prod(math.factorial(int(o)) for o in order))
    num = np.ones(norm.shape, dtype=np.complex128)
    for f, o in zip(freqs, order):
        num = num * f ** int(o)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = coef * num / norm**total
    r[norm == 0] = 0.0
    return r


def _apply(f: np.ndarray, axes, transfer: np.ndarray) -> np.ndarray:
    return real_response(f, axes, transfer)


def riesz_log_filter(image: np.ndarray, sigma: float, order: tuple[int, ...], dims: str = "3D",
                     boundary: str = "zero", truncate: float = 4.0) -> np.ndarray:
    """Riesz-transformed LoG of an ``(i, j, k)`` array (``sigma`` in voxels, ``order`` per filtered axis)."""
    axes = filter_axes(dims)
    radius = int(truncate * float(sigma) + 0.5)
    f = pad(np.asarray(image, dtype=np.float64), radius, boundary, axes)
    g = log_filter(f, sigma, dims, boundary, truncate)
    t = riesz_transfer(tuple(g.shape[a] for a in axes), tuple(order))
    return np.ascontiguousarray(crop(_apply(g, axes, t), radius, axes))


def riesz_simoncelli_filter(image: np.ndarray, level: int, order: tuple[int, ...], dims: str = "3D",
                            boundary: str = "nearest", pad_width: int = DEFAULT_PAD) -> np.ndarray:
    """Riesz-transformed Simoncelli band-pass of an ``(i, j, k)`` array."""
    axes = filter_axes(dims)
    width = 0 if boundary == "periodic" else int(pad_width)
    f = np.asarray(image, dtype=np.float64)
    if width:
        f = pad(f, width, boundary, axes)
    shape = tuple(f.shape[a] for a in axes)
    t = simoncelli_transfer(shape, int(level)) * riesz_transfer(shape, tuple(order))
    out = _apply(f, axes, t)
    return np.ascontiguousarray(crop(out, width, axes)) if width else out

