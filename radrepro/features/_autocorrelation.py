"""Moran's I and Geary's C of the intensities in a mask, exactly, in O(L log L) instead of O(n^2).

IBSI 1 (Moran's I N365, Geary's C NPT7) weights every pair of distinct ROI voxels by their
inverse distance ``w_ij = 1 / ||x_i - x_j||`` (mm). With ``d_i = x_i - mean`` inside the mask and 0 outside,
``m`` the mask, ``K`` the inverse-distance kernel (``K(0) = 0``) and ``*`` convolution over the
ROI's bounding box, every double sum over pairs is a sum over voxels of a convolution:

- ``sum_{i != j} w_ij               = sum(m (K * m))``
- ``sum_{i != j} w_ij d_i d_j       = sum(d (K * d))``
- ``sum_{i != j} w_ij (d_i - d_j)^2 = 2 sum(d^2 (K * m)) - 2 sum(d (K * d))``

The convolutions are circular, of length ``>= 2 n_axis - 1`` per axis (even, fast for scipy's
FFT), which makes them equal to the linear ones on the box (no wrap-around reaches it), and each sum
``sum(a (K * b))`` is read off the spectra by Parseval's theorem, ``sum_k conj(A_k) K_k B_k / N``:
three forward real FFTs (``m``, ``d``, ``d^2``) and no inverse. The fields' transforms skip their
zero padding (x, then y, then z block by block, summing each block while it is in the caches); the
kernel is even, so its transform is a DCT-I of one octant. Exact up to floating-point rounding
(relative error ~1e-15 against the previous FFT convolutions, ~5e-12 against the pair-by-pair
sum, which itself rounds more).
Memory stays bounded: when the FFT of the whole box would exceed :data:`MAX_FFT_POINTS`, the box is
cut into slabs along its first axis and the convolution is summed over (source slab, target slab)
pairs, each an FFT of at most that size (k slabs cost about k times one whole-box FFT). When the
pair count is small, or the bounding box so sparse that the FFTs would cost more than the pairs
(two small far-apart parts of an ROI), the pairs are summed directly in numba instead.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import fft as sfft

from radrepro._numba import jit
from radrepro.processing.roi import bounding_box

# The direct sum costs about this many FFT "points x log2 points" units per voxel pair; it wins
# below the break-even point. Measured on the development machine (numba pair loop vs scipy.fft).
_PAIR_COST = 1.0
# Largest FFT (points of one padded slab): a few complex arrays of half this size, ~0.3 GB each.
MAX_FFT_POINTS = 2**25


@jit
def _pairs_kernel(coords, d):
    """Sums over pairs i < j: (sum w, sum w d_i d_j, sum w (d_i - d_j)^2)."""
    n = coords.shape[0]
    sw = 0.0
    cross = 0.0
    sq = 0.0
    for i in range(n):
        zi = coords[i, 0]
        yi = coords[i, 1]
        xi = coords[i, 2]
        di = d[i]
        for j in range(i + 1, n):
            dz = zi - coords[j, 0]
            dy = yi - coords[j, 1]
            dx = xi - coords[j, 2]
            w = 1.0 / math.sqrt(dz * dz + dy * dy + dx * dx)
            sw += w
            cross += w * di * d[j]
            diff = di - d[j]
            sq += w * diff * diff
    return sw, cross, sq


def _fast(n: int) -> int:
    """The smallest even FFT length ``>= n`` that scipy transforms fast (even: see :func:`_kernel_spectrum`)."""
    return 2 * sfft.next_fast_len((n + 1) // 2, real=True)


def _slab_plan(shape: tuple[int, int, int], max_points: int) -> tuple[int, tuple[int, int, int]]:
    """Slab thickness along axis 0 and the FFT shape of one (source, target) slab pair."""
    nz, ny, nx = shape
    plane = _fast(2 * ny - 1) * _fast(2 * nx - 1)
    t = nz
    while t > 1 and _fast(2 * t - 1) * plane > max_points:
        t = (t + 1) // 2
    return t, (_fast(2 * t - 1), _fast(2 * ny - 1), _fast(2 * nx - 1))


def _axis_offsets(n_fft: int, before: int, after: int, shift: int, h: float) -> np.ndarray:
    """Offsets in mm in circular layout: ``shift + q`` at index ``q mod n_fft`` for ``-before <= q <= after``."""
    p = np.arange(n_fft)
    q = np.where(p <= after, p, p - n_fft)
    off = (shift + q).astype(np.float64) * h
    off[(q < -before) | (q > after)] = np.inf  # never reached
    return off


def _kernel_spectrum(fft_shape, before_after_shift, spacing_zyx) -> np.ndarray:
    """Spectrum of the inverse-distance kernel ``1 / r`` (0 at ``r = 0`` and where never reached).

    The kernel in circular layout (offset ``q`` at index ``q mod n``, ``n`` even) is even along
    every axis where it reaches as far back as forward without a shift (always along y and x;
    along z unless it joins two slabs), and the transform of an even sequence is a DCT-I of its
    ``n / 2 + 1`` non-negative offsets. Returns the spectrum at ``k <= n / 2`` along those axes (the
    spectrum is even there: ``K(k) = K(n - k)``) and along x, and at every ``kz`` when z is uneven:
    real ``(nz / 2 + 1, ny / 2 + 1, nx / 2 + 1)`` or complex ``(nz, ny / 2 + 1, nx / 2 + 1)``.
    """
    (lz, ly, lx), (bz, by, bx) = fft_shape, before_after_shift
    hz, hy, hx = spacing_zyx
    even_z = bz[0] == bz[1] and bz[2] == 0
    oz = _axis_offsets(lz, *bz, hz)[: lz // 2 + 1 if even_z else lz]
    oy = _axis_offsets(ly, *by, hy)[: ly // 2 + 1]
    ox = _axis_offsets(lx, *bx, hx)[: lx // 2 + 1]
    r2 = oz[:, None, None] ** 2 + oy[None, :, None] ** 2 + ox[None, None, :] ** 2
    r2[r2 == 0.0] = np.inf
    kernel = 1.0 / np.sqrt(r2)
    if even_z:
        return sfft.dctn(kernel, type=1)
    return sfft.fft(sfft.dctn(kernel, type=1, axes=(1, 2)), axis=0)


def _plane_spectra(a: np.ndarray, fft_shape) -> np.ndarray:
    """``a``'s transform along x (real, ``nx_fft // 2 + 1`` columns) then y, zero padded: ``(nz, ny_fft, nh)``.

    Axis by axis, so that the zero padding is never transformed; a few planes at a time, in place,
    so that no padded copy of the whole array is made; z follows block by block.
    """
    lz, ly, lx = fft_shape
    nz, ny = a.shape[:2]
    out = np.empty((nz, ly, lx // 2 + 1), dtype=np.complex128)
    planes = max(1, _BLOCK_BYTES // (16 * ly * (lx // 2 + 1)))
    for z0 in range(0, nz, planes):
        chunk = out[z0 : z0 + planes]
        chunk[:, :ny] = sfft.rfft(a[z0 : z0 + planes], n=lx, axis=2)
        chunk[:, ny:] = 0.0
        sfft.fft(chunk, axis=1, overwrite_x=True)
    return out


@jit
def _spectral_sums(mt, dt, d2t, kernel, ms, ds, y0, ny):
    """``(sum(m_t (K (*) m_s)), sum(d_t (K (*) d_s)), sum(d_t^2 (K (*) m_s)))`` by Parseval's theorem.

    Arguments are rows ``y0..`` of the ``rfftn`` spectra ``(nz, ny, nx // 2 + 1)`` of real arrays
    (``nx`` even) and the kernel's spectrum from :func:`_kernel_spectrum`, read at ``n - k`` where
    it holds ``k <= n / 2`` only. ``(*)`` is circular convolution. The full spectrum's other half is
    the complex conjugate of this one, so the columns ``0 < kx < nx / 2`` count twice. Unnormalised
    (times the number of FFT points), summed row by row.
    """
    nz, rows, nh = mt.shape
    fold_z = kernel.shape[0] != nz
    sw = 0.0
    cross = 0.0
    dkm = 0.0
    for r in range(rows):
        ky = y0 + r
        if 2 * ky > ny:
            ky = ny - ky
        for z in range(nz):
            kz = nz - z if fold_z and 2 * z > nz else z
            p_sw = 0.0
            p_cross = 0.0
            p_dkm = 0.0
            for x in range(nh):
                w = 1.0 if x == 0 or x == nh - 1 else 2.0
                kr = w * kernel[kz, ky, x].real
                ki = w * kernel[kz, ky, x].imag
                a = mt[z, r, x]
                b = ms[z, r, x]  # Re(conj(a) k b) = Re(k) Re(conj(a) b) - Im(k) Im(conj(a) b)
                p_sw += kr * (a.real * b.real + a.imag * b.imag) - ki * (a.real * b.imag - a.imag * b.real)
                a = d2t[z, r, x]
                p_dkm += kr * (a.real * b.real + a.imag * b.imag) - ki * (a.real * b.imag - a.imag * b.real)
                a = dt[z, r, x]
                b = ds[z, r, x]
                p_cross += kr * (a.real * b.real + a.imag * b.imag) - ki * (a.real * b.imag - a.imag * b.real)
            sw += p_sw
            cross += p_cross
            dkm += p_dkm
    return sw, cross, dkm


def _z_spectrum(out: np.ndarray, f: np.ndarray) -> None:
    """``out`` (``nz_fft`` planes) = the transform along z of ``f`` (fewer planes, zero padded), in place."""
    nz = f.shape[0]
    out[:nz] = f
    out[nz:] = 0.0
    sfft.fft(out, axis=0, overwrite_x=True)


# rows of y frequencies whose z transforms are summed at once: small enough to stay in the caches
_BLOCK_BYTES = 2**20


def _fft_sums(m: np.ndarray, d: np.ndarray, spacing_zyx, max_points: int) -> tuple[float, float, float]:
    """The three pair sums by slab-wise FFT convolution and Parseval's theorem (module docstring)."""
    nz, ny, nx = m.shape
    t, fft_shape = _slab_plan(m.shape, max_points)
    lz, ly, lx = fft_shape
    rows = max(1, _BLOCK_BYTES // (16 * lz * (lx // 2 + 1)))
    slabs = [(a, min(a + t, nz)) for a in range(0, nz, t) if m[a : a + t].any()]
    mf = m.astype(np.float64)
    total = np.zeros(3)
    for b0, b1 in slabs:  # target slab
        target = [_plane_spectra(f, fft_shape) for f in (mf[b0:b1], d[b0:b1], d[b0:b1] ** 2)]
        for a0, a1 in slabs:  # source slab
            plan = ((a1 - a0 - 1, b1 - b0 - 1, b0 - a0), (ny - 1, ny - 1, 0), (nx - 1, nx - 1, 0))
            kernel = _kernel_spectrum(fft_shape, plan, spacing_zyx)
            source = target[:2] if a0 == b0 else [_plane_spectra(f[a0:a1], fft_shape) for f in (mf, d)]
            buffers = np.zeros((5 if a0 != b0 else 3, lz, rows, lx // 2 + 1), dtype=np.complex128)
            for y0 in range(0, ly, rows):
                y1 = min(y0 + rows, ly)
                spectra = [buf[:, : y1 - y0] for buf in buffers]
                for buf, f in zip(spectra, target if a0 == b0 else target + source):
                    _z_spectrum(buf, f[:, y0:y1])
                ms, ds = spectra[:2] if a0 == b0 else spectra[3:]
                total += _spectral_sums(*spectra[:3], kernel, ms, ds, y0, ly)
    sw, cross, dkm = (float(v) for v in total / math.prod(fft_shape))
    return sw, cross, 2.0 * dkm - 2.0 * cross


METHODS = ("auto", "fft", "pairs")


def choose_method(mask: np.ndarray, max_points: int = MAX_FFT_POINTS) -> str:
    """``pairs`` when summing the pairs is cheaper than the (slab-wise) FFTs, else ``fft``."""
    box = bounding_box(mask)
    return _choose(tuple(b.stop - b.start for b in box), int(np.count_nonzero(mask[box])), max_points)


def _choose(shape: tuple[int, int, int], n: int, max_points: int) -> str:
    t, fft_shape = _slab_plan(shape, max_points)
    points = math.prod(fft_shape)
    slabs = -(-shape[0] // t)
    fft_cost = slabs * slabs * points * math.log2(max(points, 2))
    return "pairs" if n * (n - 1) / 2 * _PAIR_COST < fft_cost else "fft"


def pair_sums(
    values: np.ndarray,
    mask: np.ndarray,
    spacing_xyz: tuple[float, float, float],
    method: str = "auto",
    max_points: int = MAX_FFT_POINTS,
) -> tuple[float, float, float]:
    """``(sum w, sum w d_i d_j, sum w (d_i - d_j)^2)`` over ordered pairs ``i != j`` of mask voxels.

    Parameters
    ----------
    values
        Intensities ``(z, y, x)``; only those inside ``mask`` are read.
    mask
        Boolean mask, same shape, at least one voxel.
    spacing_xyz
        Voxel spacing ``(x, y, z)`` in mm.
    method
        ``fft`` (convolutions), ``pairs`` (direct sum) or ``auto`` (:func:`choose_method`).
    max_points
        Largest FFT, in points; a larger box is convolved slab by slab.
    """
    if method not in METHODS:
        raise ValueError(f"moran_geary: method must be one of {', '.join(METHODS)}, not {method!r}")
    box = bounding_box(mask)
    m = mask[box]
    v = values[box][m]
    if method == "auto":
        method = _choose(m.shape, v.size, max_points)
    d_vals = v - v.mean()
    shape = m.shape
    spacing_zyx = tuple(float(s) for s in reversed(spacing_xyz))
    if method == "pairs":
        coords = np.ascontiguousarray(np.argwhere(m) * np.asarray(spacing_zyx))
        sw, cross, sq = _pairs_kernel(coords, np.ascontiguousarray(d_vals))
        return 2.0 * sw, 2.0 * cross, 2.0 * sq
    d = np.zeros(shape)
    d[m] = d_vals
    return _fft_sums(m, d, spacing_zyx, max_points)


def moran_geary(
    values: np.ndarray,
    mask: np.ndarray,
    spacing_xyz: tuple[float, float, float],
    method: str = "auto",
    max_points: int = MAX_FFT_POINTS,
) -> tuple[float, float]:
    """Moran's I and Geary's C of the intensities in ``mask`` (IBSI 1 N365, NPT7).

    ``I = n / sum(w) * sum(w d_i d_j) / sum(d_i^2)`` and
    ``C = (n - 1) / (2 sum(w)) * sum(w (d_i - d_j)^2) / sum(d_i^2)``, sums over ``i != j``.
    NaN for fewer than two voxels or equal intensities (zero variance), where IBSI leaves them
    undefined. ``method`` and ``max_points`` as in :func:`pair_sums`.
    """
    if method not in METHODS:
        raise ValueError(f"moran_geary: method must be one of {', '.join(METHODS)}, not {method!r}")
    n = int(mask.sum())
    if n < 2:
        return math.nan, math.nan
    v = values[mask]
    s2 = float(((v - v.mean()) ** 2).sum())
    if s2 == 0.0:
        return math.nan, math.nan
    sw, cross, sq = pair_sums(values, mask, spacing_xyz, method, max_points)
    return n / sw * cross / s2, (n - 1) / (2.0 * sw) * sq / s2
