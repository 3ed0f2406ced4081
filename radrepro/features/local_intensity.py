"""Local intensity features (IBSI 1, section 3.2; family 9ST6).

The local mean around a voxel is the mean intensity of every image voxel whose centre lies within
``r = (3 / (4 pi))^(1/3) cm`` (a 1 cm^3 sphere, about 6.2 mm) of the voxel's centre, the voxel itself
included. Voxels outside the ROI count (the processed image before re-segmentation); voxels
beyond the image's edge, and non-finite voxels (NaN padding), do not exist and are not counted.

- local intensity peak (VJGA): the local mean around the voxel of highest intensity in the
  intensity mask; when several voxels share it, the highest of their local means;
- global intensity peak (0F91): the highest local mean over every voxel of the intensity mask.

Each local mean sums the sphere row by row along x, each row a difference of prefix sums of the
image's rows (exact for the integer intensities of CT; otherwise within rounding of the direct sum).
"""

from __future__ import annotations

import numpy as np

from radrepro._numba import jit
from radrepro.processing.roi import LOCAL_RADIUS_MM
from radrepro.registry import Feature

FEATURES = (
    Feature("loc_peak_loc", "VJGA", "Local intensity peak", "loc"),
    Feature("loc_peak_glob", "0F91", "Global intensity peak", "loc"),
)


def sphere_offsets(spacing_xyz: tuple[float, float, float], radius: float = LOCAL_RADIUS_MM) -> np.ndarray:
    """Voxel offsets ``(dz, dy, dx)`` whose centres lie within ``radius`` mm (int64, shape (n, 3))."""
    sx, sy, sz = (float(s) for s in spacing_xyz)
    ez, ey, ex = (int(np.floor(radius / s)) for s in (sz, sy, sx))
    dz, dy, dx = np.meshgrid(np.arange(-ez, ez + 1), np.arange(-ey, ey + 1), np.arange(-ex, ex + 1), indexing="ij")
    dist2 = (dz * sz) ** 2 + (dy * sy) ** 2 + (dx * sx) ** 2
    keep = dist2 <= radius * radius
    return np.ascontiguousarray(np.stack([dz[keep], dy[keep], dx[keep]], axis=1).astype(np.int64))


def sphere_rows(spacing_xyz: tuple[float, float, float], radius: float = LOCAL_RADIUS_MM) -> np.ndarray:
    """The sphere of :func:`sphere_offsets` as rows along x: ``(dz, dy, half-width in x)`` (int64, ``(n, 3)``).

    For given ``(dz, dy)`` the offsets ``dx`` in the sphere are ``-w..w``: the distance grows with ``|dx|``.
    """
    off = sphere_offsets(spacing_xyz, radius)
    rows = off[off[:, 2] >= 0]  # each (dz, dy) row: dx = 0..w, ordered by dz, dy, dx
    last = np.ones(len(rows), dtype=bool)
    last[:-1] = (rows[1:, 0] != rows[:-1, 0]) | (rows[1:, 1] != rows[:-1, 1])
    return np.ascontiguousarray(rows[last])


@jit
def _local_intensity_kernel(image, mask, rows):
    out = np.full(2, np.nan)
    nz, ny, nx = image.shape
    top = -np.inf
    found = False
    for z in range(nz):
        for y in range(ny):
            for x in range(nx):
                if mask[z, y, x]:
                    found = True
                    if image[z, y, x] > top:
                        top = image[z, y, x]
    if not found:
        return out
    # prefix sums along x of the finite intensities and of their count (NaN padding does not exist):
    # a sphere row x0..x1 sums to s[x1 + 1] - s[x0]
    total = np.zeros((nz, ny, nx + 1))
    count = np.zeros((nz, ny, nx + 1), dtype=np.int64)
    all_finite = True
    for z in range(nz):
        for y in range(ny):
            t = 0.0
            c = 0
            for x in range(nx):
                v = image[z, y, x]
                if np.isfinite(v):
                    t += v
                    c += 1
                else:
                    all_finite = False
                total[z, y, x + 1] = t
                count[z, y, x + 1] = c
    # where the whole sphere lies inside a finite image, each row is two loads at fixed flat
    # offsets and the count is the sphere's
    nr = rows.shape[0]
    rz = 0
    ry = 0
    rx = 0
    size = 0
    lo_off = np.empty(nr, dtype=np.int64)
    hi_off = np.empty(nr, dtype=np.int64)
    for k in range(nr):
        rz = max(rz, abs(rows[k, 0]))
        ry = max(ry, abs(rows[k, 1]))
        rx = max(rx, rows[k, 2])
        size += 2 * rows[k, 2] + 1
        base = (rows[k, 0] * ny + rows[k, 1]) * (nx + 1)
        lo_off[k] = base - rows[k, 2]
        hi_off[k] = base + rows[k, 2] + 1
    flat = total.ravel()
    peak_glob = -np.inf
    peak_loc = -np.inf
    for z in range(nz):
        for y in range(ny):
            inner_zy = all_finite and rz <= z < nz - rz and ry <= y < ny - ry
            for x in range(nx):
                if mask[z, y, x]:
                    s = 0.0
                    if inner_zy and rx <= x < nx - rx:
                        i = (z * ny + y) * (nx + 1) + x
                        for k in range(nr):
                            s += flat[i + hi_off[k]] - flat[i + lo_off[k]]
                        m = s / size
                    else:
                        n = 0
                        for k in range(nr):
                            zz = z + rows[k, 0]
                            yy = y + rows[k, 1]
                            if 0 <= zz < nz and 0 <= yy < ny:
                                lo = max(x - rows[k, 2], 0)
                                hi = min(x + rows[k, 2] + 1, nx)
                                s += total[zz, yy, hi] - total[zz, yy, lo]
                                n += count[zz, yy, hi] - count[zz, yy, lo]
                        m = s / n
                    if m > peak_glob:
                        peak_glob = m
                    if image[z, y, x] == top and m > peak_loc:
                        peak_loc = m
    out[0] = peak_loc
    out[1] = peak_glob
    return out


def local_intensity(image: np.ndarray, mask: np.ndarray, spacing: tuple[float, float, float]) -> dict[str, float]:
    """Local and global intensity peak.

    Parameters
    ----------
    image
        Intensities ``(z, y, x)`` around the ROI (not re-segmented); it must reach at least the
        sphere's radius beyond the mask wherever the original image does.
    mask
        Intensity mask (bool, same shape): the voxels whose local means are compared.
    spacing
        Voxel spacing ``(x, y, z)`` in mm.

    Returns
    -------
    dict
        Reference tag -> value; NaN for an empty mask.
    """
    img = np.ascontiguousarray(image, dtype=np.float64)
    msk = np.ascontiguousarray(mask, dtype=np.bool_)
    if img.ndim != 3 or img.shape != msk.shape:
        raise ValueError(f"local_intensity: image {img.shape} and mask {msk.shape} must be equal 3D shapes")
    if len(spacing) != 3 or not all(s > 0 for s in spacing):
        raise ValueError(f"local_intensity: spacing must be three positive numbers, not {spacing}")
    if not np.isfinite(img[msk]).all():
        raise ValueError("local_intensity: intensities inside the mask must be finite (no NaN or inf)")
    res = _local_intensity_kernel(img, msk, sphere_rows(spacing))
    return {f.tag: float(v) for f, v in zip(FEATURES, res)}


def compute(roi) -> dict[str, float]:
    """Family entry point: peaks over the intensity mask, means over the processed image."""
    return local_intensity(roi.image, roi.int_mask, roi.spacing)
