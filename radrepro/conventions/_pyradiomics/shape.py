"""pyradiomics ``shape``: 3D shape from the marching cubes mesh and the voxel coordinates' PCA."""

from __future__ import annotations

import numpy as np

from radrepro._numba import jit
from radrepro.conventions._pyradiomics.common import ClassInput, selected
from radrepro.conventions._pyradiomics.mesh import mesh_3d

NAME = "shape"
FEATURES = {
    "Compactness1": "deprecated", "Compactness2": "deprecated", "Elongation": "enabled", "Flatness": "enabled",
    "LeastAxisLength": "enabled", "MajorAxisLength": "enabled", "Maximum2DDiameterColumn": "enabled",
    "Maximum2DDiameterRow": "enabled", "Maximum2DDiameterSlice": "enabled", "Maximum3DDiameter": "enabled",
    "MeshVolume": "enabled", "MinorAxisLength": "enabled", "SphericalDisproportion": "deprecated",
    "Sphericity": "enabled", "SurfaceArea": "enabled", "SurfaceVolumeRatio": "enabled", "VoxelVolume": "enabled",
}


@jit
def _coordinates(mask, spacing, n):
    """Physical coordinates of the mask's ``n`` voxels, one row per axis, in ``np.where`` order."""
    nz, ny, nx = mask.shape
    out = np.empty((3, n))
    k = 0
    for iz in range(nz):
        for iy in range(ny):
            for ix in range(nx):
                if mask[iz, iy, ix]:
                    out[0, k] = iz * spacing[0]
                    out[1, k] = iy * spacing[1]
                    out[2, k] = ix * spacing[2]
                    k += 1
    return out


@jit
def _centre(coords, mean, n):
    """``(coords - mean) / sqrt(n)``, twice (two buffers, so that numpy multiplies them as pyradiomics does)."""
    scale = np.sqrt(n)
    a = np.empty_like(coords)
    b = np.empty_like(coords)
    for k in range(coords.shape[0]):
        for i in range(coords.shape[1]):
            v = (coords[k, i] - mean[k]) / scale
            a[k, i] = v
            b[k, i] = v
    return a, b


def principal_moments(mask: np.ndarray, spacing: np.ndarray) -> tuple[np.ndarray, int]:
    """Eigenvalues (ascending) of the covariance of the ROI voxels' physical coordinates, and their count.

    ``mask`` is ``(z, y, x)`` or ``(y, x)``, ``spacing`` the matching spacing in mm. The same numbers
    as pyradiomics' ``np.where`` / ``np.mean`` / ``np.dot`` / ``np.linalg.eigvals``: the coordinates
    are built in numba in the same order with the same arithmetic, and numpy takes the mean (pairwise
    sums along the contiguous axis, as in pyradiomics' column-major array) and the product (two
    distinct buffers, ``X @ Y.T``, as pyradiomics' ``coords.T.copy() @ coords``).
    """
    m = np.ascontiguousarray(mask)
    sp = np.asarray(spacing, dtype=np.float64)
    if m.ndim not in (2, 3) or sp.shape != (m.ndim,):
        raise ValueError(
            f"principal_moments: need a 2D or 3D mask and one spacing per axis, got shapes {m.shape} and {sp.shape}"
        )
    n = int(np.count_nonzero(m))
    if m.ndim == 2:
        coords = _coordinates(m[None], np.concatenate(([0.0], sp)), n)[1:]
    else:
        coords = _coordinates(m, sp, n)
    a, b = _centre(coords, np.mean(coords, axis=1), float(n))
    eig = np.linalg.eigvals(np.dot(a, b.T))
    eig[(eig < 0) & (eig > -1e-10)] = 0
    eig.sort()
    return eig, n


def compute(data: ClassInput, names=None) -> dict[str, float]:
    """3D shape features of the shape mask (pyradiomics 3.0.1 definitions)."""
    spacing = np.array(data.prepared.spacing[::-1])
    mask = np.pad(data.prepared.shape_roi, 1)
    surface, volume, diam = mesh_3d(mask, spacing)
    eig, n = principal_moments(mask, spacing)
    z, y, x = spacing

    def axis(k):
        return np.nan if eig[k] < 0 else np.sqrt(eig[k]) * 4

    def ratio(a, b):
        return np.nan if (eig[a] < 0 or eig[b] < 0) else np.sqrt(eig[a] / eig[b])

    funcs = {
        "MeshVolume": lambda: volume,
        "VoxelVolume": lambda: n * (z * x * y),
        "SurfaceArea": lambda: surface,
        "SurfaceVolumeRatio": lambda: surface / volume,
        "Sphericity": lambda: (36 * np.pi * volume**2) ** (1.0 / 3.0) / surface,
        "Compactness1": lambda: volume / (surface ** (3.0 / 2.0) * np.sqrt(np.pi)),
        "Compactness2": lambda: (36.0 * np.pi) * (volume**2.0) / (surface**3.0),
        "SphericalDisproportion": lambda: surface / (36 * np.pi * volume**2) ** (1.0 / 3.0),
        "Maximum3DDiameter": lambda: diam[3],
        "Maximum2DDiameterSlice": lambda: diam[0],
        "Maximum2DDiameterColumn": lambda: diam[1],
        "Maximum2DDiameterRow": lambda: diam[2],
        "MajorAxisLength": lambda: axis(2),
        "MinorAxisLength": lambda: axis(1),
        "LeastAxisLength": lambda: axis(0),
        "Elongation": lambda: ratio(1, 2),
        "Flatness": lambda: ratio(0, 2),
    }
    with np.errstate(divide="ignore", invalid="ignore"):
        return {n_: float(np.real(funcs[n_]())) for n_ in selected(FEATURES, names, NAME)}
