"""Zones (connected voxels of one grey level) and the distance to the ROI edge.

Shared by the size zone (GLSZM) and distance zone (GLDZM) families. Zones are labelled with a
union-find over the ROI voxels in one pass; the distance map is an exact city-block distance
transform in two raster passes. Both are linear in the number of voxels of the bounding box.
"""

from __future__ import annotations

import numpy as np

from radrepro._numba import jit
from radrepro.features import _texture


@jit
def _find(parent, i):
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


@jit
def _zones_kernel(levels, offsets, dist):
    nz, ny, nx = levels.shape
    n = nz * ny * nx
    flat = levels.ravel()
    dflat = dist.ravel()
    # neighbours are looked up in a zero-bordered copy (no bounds checks); a neighbour of equal
    # level is inside the array, at flat index i + step[k]
    padded, pstep, start = _texture.padded(levels, offsets)
    nk = offsets.shape[0]
    step = np.empty(nk, dtype=np.int64)
    for k in range(nk):
        step[k] = (offsets[k, 0] * ny + offsets[k, 1]) * nx + offsets[k, 2]
    parent = np.empty(n, dtype=np.int64)
    size = np.zeros(n, dtype=np.int64)
    n_roi = 0
    for i in range(n):
        parent[i] = i
        if flat[i] > 0:
            size[i] = 1
            n_roi += 1
    # union each ROI voxel with its equal-level neighbours along the forward offsets
    for z in range(nz):
        for y in range(ny):
            i = (z * ny + y) * nx
            ip = start[z, y]
            for x in range(nx):
                a = flat[i]
                if a > 0:
                    ri = _find(parent, i)  # the root of i's zone, kept up to date across the unions
                    for k in range(nk):
                        if padded[ip + pstep[k]] != a:
                            continue
                        rj = _find(parent, i + step[k])
                        if ri == rj:
                            continue
                        # union by size; ties attach the larger index to the smaller (deterministic)
                        if size[ri] < size[rj] or (size[ri] == size[rj] and rj < ri):
                            ri, rj = rj, ri
                        parent[rj] = ri
                        size[ri] += size[rj]
                i += 1
                ip += 1
    zone_of = np.full(n, -1, dtype=np.int64)
    z_level = np.empty(n_roi, dtype=np.int64)
    z_size = np.zeros(n_roi, dtype=np.int64)
    z_dist = np.empty(n_roi, dtype=np.int64)
    z_slice = np.empty(n_roi, dtype=np.int64)
    n_zones = 0
    for i in range(n):
        if flat[i] <= 0:
            continue
        r = _find(parent, i)
        zid = zone_of[r]
        if zid < 0:
            zid = n_zones
            zone_of[r] = zid
            z_level[zid] = flat[i]
            z_dist[zid] = dflat[i]
            z_slice[zid] = i // (ny * nx)
            n_zones += 1
        z_size[zid] += 1
        d = dflat[i]
        if d < z_dist[zid]:
            z_dist[zid] = d
    return z_level[:n_zones], z_size[:n_zones], z_dist[:n_zones], z_slice[:n_zones]


def zones(levels: np.ndarray, offsets: np.ndarray, distance: np.ndarray | None = None):
    """Zones of connected voxels with equal grey level, in one pass over the ROI.

    Parameters
    ----------
    levels
        Grey levels ``(z, y, x)``: > 0 inside the ROI, 0 outside.
    offsets
        Forward half of the connectivity, ``(n, 3)`` as ``(dz, dy, dx)``: voxels ``v`` and
        ``v + offset`` of equal level are connected. The 13 directions of
        :func:`radrepro.features._texture.directions` give 26-connectivity in 3D; the 4 in-plane
        ones give 8-connectivity within each slice (zones never cross slices).
    distance
        Optional integer map ``(z, y, x)``; each zone's distance is the minimum over its voxels.

    Returns
    -------
    level, size, distance, slice : ndarray of int64, one entry per zone
        Grey level, number of voxels, minimum of ``distance`` (0 when not given) and the slice of
        the zone's first voxel in C order. Zones are numbered in C order of their first voxel.
    """
    lv = np.ascontiguousarray(np.asarray(levels), dtype=np.int32)
    if lv.ndim != 3:
        raise ValueError(f"zones: levels must be a 3D (z, y, x) array, got {lv.ndim} dimensions")
    off = _texture.check_offsets(offsets, "zones")
    if distance is None:
        dist = np.zeros(lv.shape, dtype=np.int64)
    else:
        dist = np.ascontiguousarray(np.asarray(distance), dtype=np.int64)
        if dist.shape != lv.shape:
            raise ValueError(f"zones: distance map shape {dist.shape} differs from levels shape {lv.shape}")
    return _zones_kernel(lv, off, dist)


def roi_zones(roi, in_plane: bool):
    """:func:`zones` of a :class:`~radrepro.processing.ROI`'s grey levels (cropped as
    :func:`~radrepro.features._texture.roi_arrays` crops them), each with its distance to the
    morphological mask's edge (:func:`edge_distance`), for 3D or in-plane connectivity.

    Computed once per ROI and connectivity (kept in ``roi.shared``): GLSZM reads the sizes, GLDZM
    the distances.
    """
    key = ("zones", bool(in_plane))
    if key not in roi.shared:
        levels, morph_mask = _texture.roi_arrays(roi)
        lv = _texture.check_levels(levels, roi.n_levels, "zones")
        dist = edge_distance(morph_mask, in_plane=in_plane)
        roi.shared[key] = zones(lv, _texture.directions(in_plane), dist)
    return roi.shared[key]


@jit
def _edge_distance_kernel(mask, in_plane):
    nz, ny, nx = mask.shape
    d = np.zeros((nz, ny, nx), dtype=np.int64)
    for z in range(nz):
        for y in range(ny):
            for x in range(nx):
                if not mask[z, y, x]:
                    continue
                m = d[z, y - 1, x] if y > 0 else 0
                v = d[z, y, x - 1] if x > 0 else 0
                if v < m:
                    m = v
                if not in_plane:
                    v = d[z - 1, y, x] if z > 0 else 0
                    if v < m:
                        m = v
                d[z, y, x] = m + 1
    for z in range(nz - 1, -1, -1):
        for y in range(ny - 1, -1, -1):
            for x in range(nx - 1, -1, -1):
                if not mask[z, y, x]:
                    continue
                m = d[z, y + 1, x] if y < ny - 1 else 0
                v = d[z, y, x + 1] if x < nx - 1 else 0
                if v < m:
                    m = v
                if not in_plane:
                    v = d[z + 1, y, x] if z < nz - 1 else 0
                    if v < m:
                        m = v
                if m + 1 < d[z, y, x]:
                    d[z, y, x] = m + 1
    return d


def edge_distance(mask: np.ndarray, *, in_plane: bool = False) -> np.ndarray:
    """City-block distance of each mask voxel to the nearest voxel outside the mask.

    Voxels beyond the array count as outside, so a voxel on the ROI edge has distance 1 and voxels
    outside have 0. ``in_plane`` measures within each slice (4-connected steps); otherwise in 3D
    (6-connected steps). This is IBSI's distance to the ROI edge (section 3.9).
    """
    m = np.ascontiguousarray(np.asarray(mask, dtype=np.bool_))
    if m.ndim != 3:
        raise ValueError(f"edge_distance: mask must be a 3D (z, y, x) array, got {m.ndim} dimensions")
    return _edge_distance_kernel(m, bool(in_plane))


def zone_matrices(level, value, group, n_groups: int, n_levels: int) -> tuple[np.ndarray, np.ndarray]:
    """Count zones by (group, grey level, value), with the value axis reduced to the values present.

    Returns
    -------
    matrices, values
        ``matrices[g, a-1, u]`` = number of zones in group ``g`` with level ``a`` and value
        ``values[u]`` (int64, shape ``(n_groups, Ng, U)``); ``values`` sorted ascending.
    """
    values, inverse = np.unique(np.asarray(value), return_inverse=True)
    nu = max(len(values), 1)
    idx = (np.asarray(group) * n_levels + (np.asarray(level) - 1)) * nu + inverse.ravel()
    counts = np.bincount(idx, minlength=n_groups * n_levels * nu)
    return counts.reshape(n_groups, n_levels, nu).astype(np.int64), values
