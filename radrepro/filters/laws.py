"""Laws kernels and energy maps (IBSI 2; phase 1 tests 3.x, phase 2 filter 4).

The 1D kernels are normalised to unit L2 norm; a name such as ``E5L5S5`` is the outer product of
E5 along i, L5 along j and S5 along k (in 2D, ``L5S5`` is L5 along i, S5 along j). The kernel is
applied by true convolution. Rotation invariance uses the 24 right-angle rotations of the 3D
kernel (4 in-plane in 2D) with voxel-wise pooling; a rotated separable kernel is still separable
(its 1D factors are permuted and reversed), so every orientation is three 1D convolutions.
The energy map is the local mean of the absolute value of the *pooled* response over a window of
``2 delta + 1`` voxels per filtered axis, with the same boundary condition (filter, pool, energy:
the order IBSI 2's reference maps 3.a.3 and 3.b.3 need).
"""

from __future__ import annotations

import re

import numpy as np

from radrepro.errors import SettingsError
from radrepro.filters.boundary import filter_axes, separable_convolve
from radrepro.filters.mean import mean_filter
from radrepro.filters.rotations import Pool, rotations

_RAW = {
    "L3": [1, 2, 1], "E3": [-1, 0, 1], "S3": [-1, 2, -1],
    "L5": [1, 4, 6, 4, 1], "E5": [-1, -2, 0, 2, 1], "S5": [-1, 0, 2, 0, -1],
    "W5": [-1, 2, 0, -2, 1], "R5": [1, -4, 6, -4, 1],
}
LAWS_KERNELS = {k: np.asarray(v, dtype=np.float64) / np.linalg.norm(v) for k, v in _RAW.items()}


def parse_laws(name: str, dims: str) -> list[np.ndarray]:
    """The normalised 1D kernels of a Laws name (``E5L5S5``), one per filtered axis in order i, j, k."""
    parts = re.findall(r"[LESWR][35]", name.upper())
    n_axes = len(filter_axes(dims))
    if "".join(parts) != name.upper() or len(parts) != n_axes or any(p not in LAWS_KERNELS for p in parts):
        raise SettingsError(
            f"Laws kernel {name!r} is not valid for {dims} filtering",
            f"use {n_axes} of {', '.join(LAWS_KERNELS)} (e.g. {'E5L5S5' if n_axes == 3 else 'L5S5'})",
        )
    return [LAWS_KERNELS[p] for p in parts]


def laws_filter(image: np.ndarray, kernel: str, dims: str = "3D", boundary: str = "zero",
                rotation_invariant: bool = False, pooling: str = "max",
                energy_distance: int | None = None) -> np.ndarray:
    """Laws response (or energy map) of an ``(i, j, k)`` array.

    Parameters
    ----------
    image
        Intensities, axes ``(i, j, k)``.
    kernel
        Laws name, one 1D kernel per filtered axis (``E5L5S5`` in 3D, ``L5S5`` in 2D).
    dims, boundary
        ``3D`` / ``2D``; ``zero``, ``nearest``, ``periodic`` or ``mirror``.
    rotation_invariant, pooling
        Pool (``max``, ``average``, ``min``) the responses of the 24 (3D) or 4 (2D) kernel rotations.
    energy_distance
        Laws energy map distance ``delta`` in voxels, or ``None`` for the plain response.
    """
    axes = filter_axes(dims)
    factors = parse_laws(kernel, dims)
    pool = Pool(pooling)
    for perm, flips in (rotations(dims) if rotation_invariant else [(tuple(range(3)), ())]):
        # rotate(K) = transpose(K, perm) then flip: axis a of the result holds factor perm[a]
        kernels = {}
        for a in axes:
            h = factors[perm[a]]
            kernels[a] = h[::-1] if a in flips else h
        pool.add(separable_convolve(image, kernels, boundary))
    response = pool.value()
    if energy_distance is None:
        return response
    if int(energy_distance) != energy_distance or energy_distance < 0:
        raise SettingsError(f"Laws energy distance {energy_distance!r} is not valid", "use an integer >= 0 (voxels)")
    return mean_filter(np.abs(response), 2 * int(energy_distance) + 1, dims, boundary)
