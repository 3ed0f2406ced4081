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
agree with pyradiomics to rounding (sums taken in the same raster order). The diameters are not
taken over all pairs of vertices but over the vertices of convex hulls (2D hulls of the planes'
row extremes, see :func:`_plane_hulls` and :func:`_diameters`): the farthest pair is a pair of
hull vertices, and its distance is computed with the same arithmetic, so the maxima are
bit-identical to pyradiomics' (any other pair is shorter by far more than rounding).
"""

from __future__ import annotations

import numpy as np

from radrepro._numba import jit
from radrepro.conventions._pyradiomics._mc_table import EDGE_POINTS, TRIANGLES


def _table() -> tuple[np.ndarray, np.ndarray]:
    tri = np.full((128, 15), -1, dtype=np.int64)
    for case, edges in enumerate(TRIANGLES):
        tri[case, : len(edges)] = edges
    return tri, np.array([len(t) // 3 for t in TRIANGLES], dtype=np.int64)


_TRI, _NTRI = _table()

# marching squares: corners p0 (0,0), p1 (0,1), p2 (1,1), p3 (1,0) as (dy, dx), bit k of a case set when pk
# is inside; edges e0 p0-p1, e1 p1-p2, e2 p2-p3, e3 p3-p0; each case lists oriented segments as edge pairs
_SQ_EDGE_HALF = np.array([(0, 1), (1, 2), (2, 1), (1, 0)], dtype=np.int64)  # midpoints in half pixels
_SQ_LINES = np.array(
    [
        (-1, -1, -1, -1), (3, 0, -1, -1), (0, 1, -1, -1), (3, 1, -1, -1),
        (1, 2, -1, -1), (1, 2, 3, 0), (0, 2, -1, -1), (3, 2, -1, -1),
        (2, 3, -1, -1), (2, 0, -1, -1), (0, 1, 2, 3), (2, 1, -1, -1),
        (1, 3, -1, -1), (1, 0, -1, -1), (0, 3, -1, -1), (-1, -1, -1, -1),
    ],
    dtype=np.int64,
)


def _case_lut() -> np.ndarray:
    """Cube case (bit k set when corner pk is inside) from two column codes ``left << 4 | right``.

    A column code holds the four voxels of one x position of a cube: bit 0 (z, y), bit 1 (z, y+1),
    bit 2 (z+1, y), bit 3 (z+1, y+1). The left column (x) holds p0, p3, p4, p7, the right one (x+1)
    p1, p2, p5, p6."""
    left = (0, 3, 4, 7)
    right = (1, 2, 5, 6)
    lut = np.zeros(256, dtype=np.int64)
    for code in range(256):
        case = 0
        for bit in range(4):
            if (code >> 4) & (1 << bit):
                case |= 1 << left[bit]
            if code & (1 << bit):
                case |= 1 << right[bit]
        lut[code] = case
    return lut


_CASE_LUT = _case_lut()
# edge midpoints in half voxels (dz, dy, dx), so that a vertex's lattice index is 2 * i + half
_EDGE_HALF = np.array([[int(2 * c) for c in p] for p in EDGE_POINTS], dtype=np.int64)


@jit
def _half_lattice(n, step):
    """Vertex coordinates on the half-voxel lattice: ``(i + h / 2) * step`` at index ``2 * i + h``
    (the same arithmetic as pyradiomics' ``(i + offset) * spacing``)."""
    out = np.empty(2 * n + 1)
    for j in range(2 * n + 1):
        out[j] = (j // 2 + 0.5 * (j % 2)) * step
    return out


@jit
def _mesh3d_kernel(mask, spacing, tri, ntri, edge_half, case_lut):
    """Surface, volume, vertex count, lattice coordinates and the row extremes of the vertices.

    The cubes are visited in raster order (z, y, x) and their triangles' terms summed in that
    order, with each vertex coordinate computed as ``(i + offset) * spacing`` (as pyradiomics).
    The case of a cube comes from the codes of its two x columns, so each voxel is read once per
    row; empty and full cubes have neither triangles nor vertices.

    ``lo<a>`` / ``hi<a>`` ``[plane, row]`` hold, for every plane of equal coordinate ``a`` (z, y,
    x) and every row of that plane, the smallest / largest lattice index (half voxels) of a vertex
    on that row (``hi`` -1: no vertex): rows run along x in planes of equal z or y, along y in planes
    of equal x. Each vertex is counted once: per cube only the edges 6, 7 and 11 (which touch p7)
    are recorded.
    """
    nz, ny, nx = mask.shape
    zc = _half_lattice(nz, spacing[0])
    yc = _half_lattice(ny, spacing[1])
    xc = _half_lattice(nx, spacing[2])
    n = max(nz, ny, nx)
    big = 4 * n + 4
    # lo/hi of the row extremes: [plane, row]; axis 0: (z, y) -> x, axis 1: (y, z) -> x, axis 2: (x, z) -> y
    lo0 = np.full((2 * nz, 2 * ny), big, dtype=np.int64)
    hi0 = np.full((2 * nz, 2 * ny), -1, dtype=np.int64)
    lo1 = np.full((2 * ny, 2 * nz), big, dtype=np.int64)
    hi1 = np.full((2 * ny, 2 * nz), -1, dtype=np.int64)
    lo2 = np.full((2 * nx, 2 * nz), big, dtype=np.int64)
    hi2 = np.full((2 * nx, 2 * nz), -1, dtype=np.int64)
    nv = 0
    surface = 0.0
    volume = 0.0
    for iz in range(nz - 1):
        for iy in range(ny - 1):
            r00 = mask[iz, iy]
            r01 = mask[iz, iy + 1]
            r10 = mask[iz + 1, iy]
            r11 = mask[iz + 1, iy + 1]
            right = (r00[0] != 0) | ((r01[0] != 0) << 1) | ((r10[0] != 0) << 2) | ((r11[0] != 0) << 3)
            for ix in range(nx - 1):
                left = right
                x1 = ix + 1
                right = (r00[x1] != 0) | ((r01[x1] != 0) << 1) | ((r10[x1] != 0) << 2) | ((r11[x1] != 0) << 3)
                raw = case_lut[(left << 4) | right]
                if raw == 0 or raw == 255:
                    continue
                # vertices on edges 6 (p6-p7), 7 (p7-p4), 11 (p3-p7): where their corners differ
                p7 = (raw >> 7) & 1
                for t in range(3):
                    if t == 0:
                        other = (raw >> 6) & 1
                        hz, hy, hx = 2 * iz + 2, 2 * iy + 2, 2 * ix + 1
                    elif t == 1:
                        other = (raw >> 4) & 1
                        hz, hy, hx = 2 * iz + 2, 2 * iy + 1, 2 * ix
                    else:
                        other = (raw >> 3) & 1
                        hz, hy, hx = 2 * iz + 1, 2 * iy + 2, 2 * ix
                    if other != p7:
                        nv += 1
                        if hx < lo0[hz, hy]:
                            lo0[hz, hy] = hx
                        if hx > hi0[hz, hy]:
                            hi0[hz, hy] = hx
                        if hx < lo1[hy, hz]:
                            lo1[hy, hz] = hx
                        if hx > hi1[hy, hz]:
                            hi1[hy, hz] = hx
                        if hy < lo2[hx, hz]:
                            lo2[hx, hz] = hy
                        if hy > hi2[hx, hz]:
                            hi2[hx, hz] = hy
                case = raw
                sign = 1.0
                if case & 0x80:
                    case ^= 0xFF
                    sign = -1.0
                bz = 2 * iz
                by = 2 * iy
                bx = 2 * ix
                for t in range(ntri[case]):
                    ea = tri[case, 3 * t]
                    eb = tri[case, 3 * t + 1]
                    ec = tri[case, 3 * t + 2]
                    a0 = zc[bz + edge_half[ea, 0]]
                    a1 = yc[by + edge_half[ea, 1]]
                    a2 = xc[bx + edge_half[ea, 2]]
                    b0 = zc[bz + edge_half[eb, 0]]
                    b1 = yc[by + edge_half[eb, 1]]
                    b2 = xc[bx + edge_half[eb, 2]]
                    c0 = zc[bz + edge_half[ec, 0]]
                    c1 = yc[by + edge_half[ec, 1]]
                    c2 = xc[bx + edge_half[ec, 2]]
                    # signed volume: triple product a . (b x c) (= (a x b) . c)
                    x0 = a1 * b2 - b1 * a2
                    x1 = a2 * b0 - b2 * a0
                    x2 = a0 * b1 - b0 * a1
                    volume += sign * (x0 * c0 + x1 * c1 + x2 * c2)
                    # area: half the norm of (a - c) x (b - c)
                    u0 = a0 - c0
                    u1 = a1 - c1
                    u2 = a2 - c2
                    v0 = b0 - c0
                    v1 = b1 - c1
                    v2 = b2 - c2
                    x0 = u1 * v2 - v1 * u2
                    x1 = u2 * v0 - v2 * u0
                    x2 = u0 * v1 - v0 * u1
                    surface += 0.5 * np.sqrt(x0 * x0 + x1 * x1 + x2 * x2)
    return surface, volume / 6.0, nv, zc, yc, xc, lo0, hi0, lo1, hi1, lo2, hi2


@jit
def _lattice(axis, p, r, e):
    """Lattice indices (z, y, x) of point ``e`` of row ``r`` of plane ``p`` of ``axis`` (see :func:`_mesh3d_kernel`)."""
    if axis == 0:
        return p, r, e
    if axis == 1:
        return r, p, e
    return r, e, p


@jit
def _sq_distance(zc, yc, xc, az, ay, ax, bz, by, bx):
    """Squared distance of two lattice points, terms summed in axis order (as pyradiomics)."""
    s = 0.0
    t = zc[az] - zc[bz]
    s += t * t
    t = yc[ay] - yc[by]
    s += t * t
    t = xc[ax] - xc[bx]
    s += t * t
    return s


@jit
def _cross(pr, pe, o, a, b):
    """z of the cross product (a - o) x (b - o) of lattice points ``(pr, pe)``: > 0 for a left turn."""
    return (pr[a] - pr[o]) * (pe[b] - pe[o]) - (pe[a] - pe[o]) * (pr[b] - pr[o])


@jit
def _plane_hulls(axis, lo, hi, zc, yc, xc):
    """Largest squared distance between vertices of one plane, over the planes of ``axis``, and which
    row extremes are vertices of their plane's convex hull.

    A vertex strictly between the two ends of its row is no hull vertex, so the hull of a plane is
    the hull of its row extremes, which come sorted (by row, then along the row). The hull is taken
    on the integer lattice (the spacing only scales the axes, which keeps the hull's vertices), with
    collinear points dropped; the largest distance between two vertices of a plane is between two
    hull vertices, computed with the same arithmetic as between any two of its vertices.
    """
    n_planes, n_rows = lo.shape
    on_lo = np.zeros((n_planes, n_rows), dtype=np.bool_)
    on_hi = np.zeros((n_planes, n_rows), dtype=np.bool_)
    pr = np.empty(2 * n_rows, dtype=np.int64)
    pe = np.empty(2 * n_rows, dtype=np.int64)
    hull = np.empty(4 * n_rows + 2, dtype=np.int64)
    best = 0.0
    for p in range(n_planes):
        m = 0
        for r in range(n_rows):
            if hi[p, r] >= 0:
                pr[m] = r
                pe[m] = lo[p, r]
                m += 1
                if hi[p, r] != lo[p, r]:
                    pr[m] = r
                    pe[m] = hi[p, r]
                    m += 1
        if m == 0:
            continue
        if m < 3:
            k = m
            for i in range(m):
                hull[i] = i
        else:  # monotone chain
            k = 0
            for i in range(m):
                while k >= 2:
                    o = hull[k - 2]
                    a = hull[k - 1]
                    if _cross(pr, pe, o, a, i) > 0:
                        break
                    k -= 1
                hull[k] = i
                k += 1
            lower = k + 1
            for i in range(m - 2, -1, -1):
                while k >= lower:
                    o = hull[k - 2]
                    a = hull[k - 1]
                    if _cross(pr, pe, o, a, i) > 0:
                        break
                    k -= 1
                hull[k] = i
                k += 1
            k -= 1
        for i in range(k):
            r = pr[hull[i]]
            e = pe[hull[i]]
            if e == lo[p, r]:
                on_lo[p, r] = True
            if e == hi[p, r]:
                on_hi[p, r] = True
        for i in range(k):
            az, ay, ax = _lattice(axis, p, pr[hull[i]], pe[hull[i]])
            for j in range(i + 1, k):
                bz, by, bx = _lattice(axis, p, pr[hull[j]], pe[hull[j]])
                s = _sq_distance(zc, yc, xc, az, ay, ax, bz, by, bx)
                if s > best:
                    best = s
    return best, on_lo, on_hi


@jit
def _on_hull(lo, hi, on_lo, on_hi, p, r, e):
    return (e == lo[p, r] and on_lo[p, r]) or (e == hi[p, r] and on_hi[p, r])


@jit
def _diameters(zc, yc, xc, lo0, hi0, lo1, hi1, lo2, hi2):
    """Squared maximum diameters (slice, column, row, 3D) from the row extremes of :func:`_mesh3d_kernel`.

    The 3D diameter is the largest distance between two vertices of the mesh's convex hull; a hull
    vertex is a vertex of the 2D hull of each of its three planes, so the vertices on the hulls of
    their z, y and x planes (a superset of the 3D hull's vertices) are the candidates.
    """
    d0, on_lo0, on_hi0 = _plane_hulls(0, lo0, hi0, zc, yc, xc)
    d1, on_lo1, on_hi1 = _plane_hulls(1, lo1, hi1, zc, yc, xc)
    d2, on_lo2, on_hi2 = _plane_hulls(2, lo2, hi2, zc, yc, xc)
    n_planes, n_rows = lo0.shape
    cz = np.empty(2 * n_planes * n_rows, dtype=np.int64)
    cy = np.empty_like(cz)
    cx = np.empty_like(cz)
    n = 0
    for hz in range(n_planes):
        for hy in range(n_rows):
            for side in range(2):
                if side == 0:
                    if not on_lo0[hz, hy]:
                        continue
                    hx = lo0[hz, hy]
                else:
                    if not on_hi0[hz, hy] or hi0[hz, hy] == lo0[hz, hy]:
                        continue
                    hx = hi0[hz, hy]
                if _on_hull(lo1, hi1, on_lo1, on_hi1, hy, hz, hx) and _on_hull(lo2, hi2, on_lo2, on_hi2, hx, hz, hy):
                    cz[n] = hz
                    cy[n] = hy
                    cx[n] = hx
                    n += 1
    d3 = 0.0
    for i in range(n):
        for j in range(i + 1, n):
            s = _sq_distance(zc, yc, xc, cz[i], cy[i], cx[i], cz[j], cy[j], cx[j])
            if s > d3:
                d3 = s
    return d0, d1, d2, d3, n


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
    m = np.asarray(mask)
    if m.ndim != 3:
        raise ValueError(f"mesh_3d: mask must be 3D (z, y, x), got {m.ndim} dimensions")
    if m.dtype != np.bool_:
        m = m != 0
    m = np.ascontiguousarray(m).view(np.uint8)
    sp = np.ascontiguousarray(np.asarray(spacing, dtype=np.float64))
    surface, volume, nv, zc, yc, xc, *rows = _mesh3d_kernel(m, sp, _TRI, _NTRI, _EDGE_HALF, _CASE_LUT)
    if nv < 2:
        return surface, volume, (0.0, 0.0, 0.0, 0.0)
    d = _diameters(zc, yc, xc, *rows)
    return surface, volume, (float(np.sqrt(d[0])), float(np.sqrt(d[1])), float(np.sqrt(d[2])), float(np.sqrt(d[3])))


@jit
def _mesh2d_kernel(mask, spacing, lines, edge_half):
    """Perimeter, area and the row extremes of the contour's vertices (one plane, as in :func:`_plane_hulls`)."""
    ny, nx = mask.shape
    yc = _half_lattice(ny, spacing[0])
    xc = _half_lattice(nx, spacing[1])
    lo = np.full((1, 2 * ny), 2 * nx + 2, dtype=np.int64)
    hi = np.full((1, 2 * ny), -1, dtype=np.int64)
    nv = 0
    perimeter = 0.0
    surface = 0.0
    for iy in range(ny - 1):
        r0 = mask[iy]
        r1 = mask[iy + 1]
        for ix in range(nx - 1):
            case = (r0[ix] != 0) | ((r0[ix + 1] != 0) << 1) | ((r1[ix + 1] != 0) << 2) | ((r1[ix] != 0) << 3)
            if case == 0 or case == 15:
                continue
            by = 2 * iy
            bx = 2 * ix
            for t in range(2):
                ea = lines[case, 2 * t]
                if ea < 0:
                    break
                eb = lines[case, 2 * t + 1]
                a0 = yc[by + edge_half[ea, 0]]
                a1 = xc[bx + edge_half[ea, 1]]
                b0 = yc[by + edge_half[eb, 0]]
                b1 = xc[bx + edge_half[eb, 1]]
                surface += a0 * b1 - b0 * a1
                d0 = a0 - b0
                d1 = a1 - b1
                perimeter += np.sqrt(d0 * d0 + d1 * d1)
            # vertices on edges 3 (p3-p0) and 2 (p2-p3), which touch p3: where their corners differ
            p3 = (case >> 3) & 1
            for t in range(2):
                if t == 0:
                    if (case & 1) == p3:
                        continue
                    hy, hx = by + 1, bx
                else:
                    if ((case >> 2) & 1) == p3:
                        continue
                    hy, hx = by + 2, bx + 1
                nv += 1
                if hx < lo[0, hy]:
                    lo[0, hy] = hx
                if hx > hi[0, hy]:
                    hi[0, hy] = hx
    return perimeter, surface / 2.0, nv, yc, xc, lo, hi


def mesh_2d(mask: np.ndarray, spacing) -> tuple[float, float, float]:
    """Perimeter, enclosed area and maximum diameter of the marching squares contour of a padded mask.

    Parameters
    ----------
    mask
        Boolean ``(y, x)`` mask with at least one empty pixel on every side.
    spacing
        Pixel spacing ``(y, x)`` in mm.
    """
    m = np.asarray(mask)
    if m.ndim != 2:
        raise ValueError(f"mesh_2d: mask must be 2D (y, x), got {m.ndim} dimensions")
    if m.dtype != np.bool_:
        m = m != 0
    m = np.ascontiguousarray(m).view(np.uint8)
    sp = np.ascontiguousarray(np.asarray(spacing, dtype=np.float64))
    perimeter, surface, nv, yc, xc, lo, hi = _mesh2d_kernel(m, sp, _SQ_LINES, _SQ_EDGE_HALF)
    if nv < 2:
        return perimeter, surface, 0.0
    d = _plane_hulls(0, lo, hi, np.zeros(1), yc, xc)[0]
    return perimeter, surface, float(np.sqrt(d))
