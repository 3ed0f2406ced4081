"""Marching cubes / marching squares meshes of a binary mask, as pyradiomics 3 builds them.

pyradiomics' shape classes (its C extension ``cshape``) place a vertex halfway on every cube edge
whose two corners differ, take the triangles of the classic marching cubes table (cases >= 128 as
the complement with the orientation flipped), and compute from that mesh:

- the surface area (sum of triangle areas) and the volume (divergence theorem: one sixth of the sum
  of the signed triple products of the triangles' vertices);
- the maximum diameters: the largest distance between two mesh vertices, over all vertices (3D) and
  over vertices with equal z (slice), y (column) or x (row) coordinate.

In 2D (marching squares) the same gives the perimeter, the enclosed area and the diameter. The
kernels below compute the same quantities with the same vertex coordinates, so that the results
agree with pyradiomics to rounding (sums taken in the same raster order).
"""

from __future__ import annotations

import numpy as np

from radrepro._numba import jit
from radrepro.conventions._pyradiomics._mc_table import CORNERS, EDGE_POINTS, TRIANGLES


def _table() -> tuple[np.ndarray, np.ndarray]:
    tri = np.full((128, 15), -1, dtype=np.int64)
    for case, edges in enumerate(TRIANGLES):
        tri[case, : len(edges)] = edges
    return tri, np.array([len(t) // 3 for t in TRIANGLES], dtype=np.int64)


_TRI, _NTRI = _table()
_EDGE_POINTS = np.array(EDGE_POINTS, dtype=np.float64)
_CORNERS = np.array(CORNERS, dtype=np.int64)

# marching squares: corners p0 (0,0), p1 (0,1), p2 (1,1), p3 (1,0) as (dy, dx); edge midpoints
# e0 p0-p1, e1 p1-p2, e2 p2-p3, e3 p3-p0; each case lists oriented segments as edge pairs
_SQ_CORNERS = np.array([(0, 0), (0, 1), (1, 1), (1, 0)], dtype=np.int64)
_SQ_EDGE_POINTS = np.array([(0.0, 0.5), (0.5, 1.0), (1.0, 0.5), (0.5, 0.0)], dtype=np.float64)
_SQ_LINES = np.array(
    [
        (-1, -1, -1, -1), (3, 0, -1, -1), (0, 1, -1, -1), (3, 1, -1, -1),
        (1, 2, -1, -1), (1, 2, 3, 0), (0, 2, -1, -1), (3, 2, -1, -1),
        (2, 3, -1, -1), (2, 0, -1, -1), (0, 1, 2, 3), (2, 1, -1, -1),
        (1, 3, -1, -1), (1, 0, -1, -1), (0, 3, -1, -1), (-1, -1, -1, -1),
    ],
    dtype=np.int64,
)


@jit
def _mesh3d_kernel(mask, spacing, tri, ntri, edge_points, corners):
    nz, ny, nx = mask.shape
    surface = 0.0
    volume = 0.0
    cap = 1024
    verts = np.empty((cap, 3), dtype=np.float64)
    nv = 0
    a = np.empty(3)
    b = np.empty(3)
    c = np.empty(3)
    # vertex edges stored per cube (edges 6, 7, 11 touch corner p7, which is never inside after the
    # complement flip): edge 6 has a vertex when p6 is inside, edge 7 when p4, edge 11 when p3
    store_corner = (6, 4, 3)
    store_edge = (6, 7, 11)
    for iz in range(nz - 1):
        for iy in range(ny - 1):
            for ix in range(nx - 1):
                case = 0
                for k in range(8):
                    if mask[iz + corners[k, 0], iy + corners[k, 1], ix + corners[k, 2]]:
                        case |= 1 << k
                sign = 1.0
                if case & 0x80:
                    case ^= 0xFF
                    sign = -1.0
                for t in range(3):
                    if case & (1 << store_corner[t]):
                        if nv == cap:
                            grown = np.empty((cap * 2, 3), dtype=np.float64)
                            grown[:cap] = verts
                            verts = grown
                            cap *= 2
                        e = store_edge[t]
                        verts[nv, 0] = (iz + edge_points[e, 0]) * spacing[0]
                        verts[nv, 1] = (iy + edge_points[e, 1]) * spacing[1]
                        verts[nv, 2] = (ix + edge_points[e, 2]) * spacing[2]
                        nv += 1
                if case == 0:
                    continue
                for t in range(ntri[case]):
                    ea = tri[case, 3 * t]
                    eb = tri[case, 3 * t + 1]
                    ec = tri[case, 3 * t + 2]
                    a[0] = (iz + edge_points[ea, 0]) * spacing[0]
                    a[1] = (iy + edge_points[ea, 1]) * spacing[1]
                    a[2] = (ix + edge_points[ea, 2]) * spacing[2]
                    b[0] = (iz + edge_points[eb, 0]) * spacing[0]
                    b[1] = (iy + edge_points[eb, 1]) * spacing[1]
                    b[2] = (ix + edge_points[eb, 2]) * spacing[2]
                    c[0] = (iz + edge_points[ec, 0]) * spacing[0]
                    c[1] = (iy + edge_points[ec, 1]) * spacing[1]
                    c[2] = (ix + edge_points[ec, 2]) * spacing[2]
                    # signed volume: triple product a . (b x c) (= (a x b) . c)
                    x0 = a[1] * b[2] - b[1] * a[2]
                    x1 = a[2] * b[0] - b[2] * a[0]
                    x2 = a[0] * b[1] - b[0] * a[1]
                    volume += sign * (x0 * c[0] + x1 * c[1] + x2 * c[2])
                    # area: half the norm of (a - c) x (b - c)
                    u0 = a[0] - c[0]
                    u1 = a[1] - c[1]
                    u2 = a[2] - c[2]
                    v0 = b[0] - c[0]
                    v1 = b[1] - c[1]
                    v2 = b[2] - c[2]
                    x0 = u1 * v2 - v1 * u2
                    x1 = u2 * v0 - v2 * u0
                    x2 = u0 * v1 - v0 * u1
                    surface += 0.5 * np.sqrt(x0 * x0 + x1 * x1 + x2 * x2)
    return surface, volume / 6.0, verts[:nv].copy()


@jit
def _max_sq_distance(points, index):
    """Largest squared distance between two of ``points[index]`` (terms summed in axis order, as pyradiomics)."""
    best = 0.0
    n = index.shape[0]
    d = points.shape[1]
    for i in range(n):
        p = index[i]
        for j in range(i + 1, n):
            q = index[j]
            s = 0.0
            for k in range(d):
                t = points[p, k] - points[q, k]
                s += t * t
            if s > best:
                best = s
    return best


@jit
def _cross(points, u, v, o, a, b):
    return (points[a, u] - points[o, u]) * (points[b, v] - points[o, v]) - (points[a, v] - points[o, v]) * (
        points[b, u] - points[o, u]
    )


@jit
def _hull_2d(points, index, u, v):
    """Vertices of the convex hull of ``points[index]`` in coordinates ``(u, v)`` (monotone chain)."""
    n = index.shape[0]
    if n < 3:
        return index.copy()
    first = np.argsort(points[index, v], kind="mergesort")
    second = np.argsort(points[index[first], u], kind="mergesort")
    order = index[first[second]]
    hull = np.empty(2 * n, dtype=np.int64)
    k = 0
    for i in range(n):
        while k >= 2 and _cross(points, u, v, hull[k - 2], hull[k - 1], order[i]) <= 0:
            k -= 1
        hull[k] = order[i]
        k += 1
    lower = k + 1
    for i in range(n - 2, -1, -1):
        while k >= lower and _cross(points, u, v, hull[k - 2], hull[k - 1], order[i]) <= 0:
            k -= 1
        hull[k] = order[i]
        k += 1
    return hull[: max(k - 1, 1)].copy()


@jit
def _plane_diameters(points, axis):
    """Largest squared distance between vertices of equal coordinate ``axis``, and the hull vertices of
    every such plane (a superset of the 3D hull's vertices)."""
    order = np.argsort(points[:, axis], kind="mergesort")
    n = order.shape[0]
    u = 1 if axis == 0 else 0
    v = 1 if axis == 2 else 2
    best = 0.0
    keep = np.zeros(n, dtype=np.bool_)
    start = 0
    while start < n:
        stop = start + 1
        while stop < n and points[order[stop], axis] == points[order[start], axis]:
            stop += 1
        hull = _hull_2d(points, order[start:stop], u, v)
        for h in hull:
            keep[h] = True
        d = _max_sq_distance(points, hull)
        if d > best:
            best = d
        start = stop
    return best, np.flatnonzero(keep)


def mesh_3d(mask: np.ndarray, spacing) -> tuple[float, float, tuple[float, float, float, float]]:
    """Surface area, volume and diameters of the marching cubes mesh of a padded mask.

    Parameters
    ----------
    mask
        Boolean ``(z, y, x)`` mask with at least one empty voxel on every side.
    spacing
        Voxel spacing ``(z, y, x)`` in mm.

    Returns
    -------
    surface, volume, (slice, column, row, 3d)
        Surface area (mm^2), volume (mm^3), and the maximum diameters (mm) among vertices of equal z,
        equal y, equal x, and among all vertices.
    """
    m = np.ascontiguousarray(np.asarray(mask, dtype=np.uint8))
    if m.ndim != 3:
        raise ValueError(f"mesh_3d: mask must be 3D (z, y, x), got {m.ndim} dimensions")
    sp = np.ascontiguousarray(np.asarray(spacing, dtype=np.float64))
    surface, volume, verts = _mesh3d_kernel(m, sp, _TRI, _NTRI, _EDGE_POINTS, _CORNERS)
    if verts.shape[0] < 2:
        return surface, volume, (0.0, 0.0, 0.0, 0.0)
    planes = []
    candidates = None
    for axis in range(3):
        d, hull = _plane_diameters(verts, axis)
        planes.append(float(np.sqrt(d)))
        if candidates is None or hull.size < candidates.size:
            candidates = hull
    d3 = float(np.sqrt(_max_sq_distance(verts, candidates)))
    return surface, volume, (planes[0], planes[1], planes[2], d3)


@jit
def _mesh2d_kernel(mask, spacing, lines, edge_points, corners):
    ny, nx = mask.shape
    perimeter = 0.0
    surface = 0.0
    cap = 1024
    verts = np.empty((cap, 2), dtype=np.float64)
    nv = 0
    for iy in range(ny - 1):
        for ix in range(nx - 1):
            case = 0
            for k in range(4):
                if mask[iy + corners[k, 0], ix + corners[k, 1]]:
                    case |= 1 << k
            if case == 0 or case == 15:
                continue
            for t in range(2):
                ea = lines[case, 2 * t]
                if ea < 0:
                    break
                eb = lines[case, 2 * t + 1]
                a0 = (iy + edge_points[ea, 0]) * spacing[0]
                a1 = (ix + edge_points[ea, 1]) * spacing[1]
                b0 = (iy + edge_points[eb, 0]) * spacing[0]
                b1 = (ix + edge_points[eb, 1]) * spacing[1]
                surface += a0 * b1 - b0 * a1
                d0 = a0 - b0
                d1 = a1 - b1
                perimeter += np.sqrt(d0 * d0 + d1 * d1)
            # vertices on edges 3 (p3-p0) and 2 (p2-p3), which touch p3: after the complement flip
            # p3 is outside, so edge 3 has a vertex when p0 is inside and edge 2 when p2 is
            if case > 7:
                case ^= 0xF
            for t in range(2):
                corner = 0 if t == 0 else 2
                e = 3 if t == 0 else 2
                if case & (1 << corner):
                    if nv == cap:
                        grown = np.empty((cap * 2, 2), dtype=np.float64)
                        grown[:cap] = verts
                        verts = grown
                        cap *= 2
                    verts[nv, 0] = (iy + edge_points[e, 0]) * spacing[0]
                    verts[nv, 1] = (ix + edge_points[e, 1]) * spacing[1]
                    nv += 1
    return perimeter, surface / 2.0, verts[:nv].copy()


def mesh_2d(mask: np.ndarray, spacing) -> tuple[float, float, float]:
    """Perimeter, enclosed area and maximum diameter of the marching squares contour of a padded mask.

    Parameters
    ----------
    mask
        Boolean ``(y, x)`` mask with at least one empty pixel on every side.
    spacing
        Pixel spacing ``(y, x)`` in mm.
    """
    m = np.ascontiguousarray(np.asarray(mask, dtype=np.uint8))
    if m.ndim != 2:
        raise ValueError(f"mesh_2d: mask must be 2D (y, x), got {m.ndim} dimensions")
    sp = np.ascontiguousarray(np.asarray(spacing, dtype=np.float64))
    perimeter, surface, verts = _mesh2d_kernel(m, sp, _SQ_LINES, _SQ_EDGE_POINTS, _SQ_CORNERS)
    if verts.shape[0] < 2:
        return perimeter, surface, 0.0
    hull = _hull_2d(verts, np.arange(verts.shape[0]), 0, 1)
    return perimeter, surface, float(np.sqrt(_max_sq_distance(verts, hull)))
