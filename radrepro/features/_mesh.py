"""Geometry helpers of the morphology family: the ROI mesh, its hull, bounding boxes and ellipsoids.

Pure functions of arrays (no settings, no I/O). Coordinates are in mm, in ``(z, y, x)`` order like
the image arrays; every feature built from them is invariant to that choice.

- :func:`roi_mesh`: the IBSI ROI mesh, marching cubes (scikit-image, Lewiner's variant, which
  resolves the ambiguous cube configurations so that the mesh is closed and consistently oriented)
  at iso-level 0.5 on the morphological mask, padded by one empty voxel on every side so that the
  mesh closes where the ROI touches the mask array's edge;
- :func:`mesh_volume_area`: the signed-tetrahedron volume and the triangle area sum;
- :func:`max_distance`: the largest distance between two points (numba, run on hull vertices);
- :func:`oriented_box`: an approximate oriented minimum bounding box (hull-face orientations,
  rotating calipers in each face's plane);
- :func:`enclosing_ellipsoid`: the minimum volume enclosing ellipsoid (Khachiyan's algorithm with away steps);
- :func:`ellipsoid_area`: the ellipsoid surface area as IBSI defines it (a Legendre series).
"""

from __future__ import annotations

import math

import numpy as np

from radrepro._numba import jit
from radrepro.processing.roi import bounding_box

# IBSI 1 (area density of the approximate enclosing ellipsoid, RDD2) sums its series up to this order.
ELLIPSOID_SERIES_ORDER = 20


def roi_mesh(mask: np.ndarray, spacing_xyz: tuple[float, float, float]) -> tuple[np.ndarray, np.ndarray]:
    """The ROI mesh of a boolean mask: vertices ``(n, 3)`` in mm (``z, y, x``) and faces ``(m, 3)``.

    The mask is cropped to its bounding box and padded with one empty voxel per side, so the mesh
    is closed. Vertex coordinates are relative to the padded box's first voxel centre.
    """
    from skimage.measure import marching_cubes

    box = bounding_box(mask)
    padded = np.pad(mask[box], 1).astype(np.float32)
    sx, sy, sz = (float(s) for s in spacing_xyz)
    verts, faces, _, _ = marching_cubes(padded, level=0.5, spacing=(sz, sy, sx), method="lewiner")
    return np.ascontiguousarray(verts, dtype=np.float64), np.ascontiguousarray(faces, dtype=np.int64)


@jit
def _line_extremes(keys, axis, keep):
    """Clear ``keep`` for points strictly between two others on a line along ``axis``.

    ``keys``: integer coordinates ``(n, 3)`` (non-negative); a line is the points that share the
    two other coordinates.
    """
    a = 1 if axis == 0 else 0
    b = 1 if axis == 2 else 2
    na = 0
    nb = 0
    for i in range(keys.shape[0]):
        na = max(na, keys[i, a] + 1)
        nb = max(nb, keys[i, b] + 1)
    lo = np.empty((na, nb), dtype=np.int64)
    hi = np.empty((na, nb), dtype=np.int64)
    for r in range(na):
        for c in range(nb):
            lo[r, c] = 1 << 62
            hi[r, c] = -1
    for i in range(keys.shape[0]):
        v = keys[i, axis]
        lo[keys[i, a], keys[i, b]] = min(lo[keys[i, a], keys[i, b]], v)
        hi[keys[i, a], keys[i, b]] = max(hi[keys[i, a], keys[i, b]], v)
    for i in range(keys.shape[0]):
        v = keys[i, axis]
        if v != lo[keys[i, a], keys[i, b]] and v != hi[keys[i, a], keys[i, b]]:
            keep[i] = False


def hull_candidates(verts: np.ndarray, spacing_xyz: tuple[float, float, float]) -> np.ndarray:
    """Boolean mask of the mesh vertices that can be convex-hull vertices (a superset of them).

    Mesh vertices from :func:`roi_mesh` sit on the half-voxel grid; one strictly between two others
    on a line along an axis is a convex combination of them, never a hull vertex. Dropping those
    leaves Qhull a fifth of the points and the same hull.
    """
    sx, sy, sz = (float(s) for s in spacing_xyz)
    keys = np.rint(verts / np.array([sz, sy, sx]) * 2.0).astype(np.int64)
    keys -= keys.min(axis=0)
    keep = np.ones(len(verts), dtype=np.bool_)
    for axis in range(3):
        _line_extremes(keys, axis, keep)
    return keep


@jit
def _mesh_kernel(verts, faces):
    """(signed volume x 6, area x 2) of a triangle mesh, summed in blocks of faces."""
    volume = 0.0
    area = 0.0
    block_v = 0.0
    block_a = 0.0
    for f in range(faces.shape[0]):
        i, j, k = faces[f, 0], faces[f, 1], faces[f, 2]
        az, ay, ax = verts[i, 0], verts[i, 1], verts[i, 2]
        bz, by, bx = verts[j, 0], verts[j, 1], verts[j, 2]
        cz, cy, cx = verts[k, 0], verts[k, 1], verts[k, 2]
        block_v += az * (by * cx - bx * cy) + ay * (bx * cz - bz * cx) + ax * (bz * cy - by * cz)
        uz, uy, ux = bz - az, by - ay, bx - ax
        vz, vy, vx = cz - az, cy - ay, cx - ax
        nz, ny, nx = uy * vx - ux * vy, ux * vz - uz * vx, uz * vy - uy * vz
        block_a += math.sqrt(nz * nz + ny * ny + nx * nx)
        if f % 256 == 255:
            volume += block_v
            area += block_a
            block_v = 0.0
            block_a = 0.0
    return volume + block_v, area + block_a


def mesh_volume_area(verts: np.ndarray, faces: np.ndarray) -> tuple[float, float]:
    """Volume (sum of signed tetrahedra) and surface area of a closed, consistently oriented
    triangle mesh, in one pass over its faces."""
    v6, a2 = _mesh_kernel(np.ascontiguousarray(verts, dtype=np.float64), np.ascontiguousarray(faces, dtype=np.int64))
    return abs(v6) / 6.0, 0.5 * a2


@jit
def _max_distance_kernel(points):
    best = 0.0
    n = points.shape[0]
    for i in range(n):
        for j in range(i + 1, n):
            d = 0.0
            for k in range(points.shape[1]):
                t = points[i, k] - points[j, k]
                d += t * t
            if d > best:
                best = d
    return math.sqrt(best)


def max_distance(points: np.ndarray) -> float:
    """Largest Euclidean distance between two of ``points`` ``(n, d)``; 0 for fewer than two."""
    return float(_max_distance_kernel(np.ascontiguousarray(points, dtype=np.float64)))


# ---------------------------------------------------------------------------------------------
# oriented minimum bounding box


@jit
def _lex_order(x, y):
    """Indices that sort the points by x, then y (bottom-up merge sort, stable)."""
    n = x.size
    order = np.arange(n)
    buf = np.empty(n, dtype=np.int64)
    width = 1
    while width < n:
        for lo in range(0, n, 2 * width):
            mid = min(lo + width, n)
            hi = min(lo + 2 * width, n)
            i = lo
            j = mid
            k = lo
            while i < mid and j < hi:
                a = order[i]
                b = order[j]
                if x[b] < x[a] or (x[b] == x[a] and y[b] < y[a]):
                    buf[k] = b
                    j += 1
                else:
                    buf[k] = a
                    i += 1
                k += 1
            while i < mid:
                buf[k] = order[i]
                i += 1
                k += 1
            while j < hi:
                buf[k] = order[j]
                j += 1
                k += 1
        order, buf = buf, order
        width *= 2
    return order


@jit
def _hull_2d(x, y):
    """Indices of the 2D convex hull of (x, y), counter-clockwise (Andrew's monotone chain)."""
    n = x.size
    order = _lex_order(x, y)
    hull = np.empty(2 * n + 1, dtype=np.int64)
    k = 0
    for t in range(n):
        i = order[t]
        while k >= 2:
            a = hull[k - 2]
            b = hull[k - 1]
            if (x[b] - x[a]) * (y[i] - y[a]) - (y[b] - y[a]) * (x[i] - x[a]) <= 0.0:
                k -= 1
            else:
                break
        hull[k] = i
        k += 1
    low = k + 1
    for t in range(n - 2, -1, -1):
        i = order[t]
        while k >= low:
            a = hull[k - 2]
            b = hull[k - 1]
            if (x[b] - x[a]) * (y[i] - y[a]) - (y[b] - y[a]) * (x[i] - x[a]) <= 0.0:
                k -= 1
            else:
                break
        hull[k] = i
        k += 1
    return hull[: max(k - 1, 1)]


@jit
def _outside_octagon(x, y):
    """The points not strictly inside the octagon of the extremes along x, y, x + y and x - y
    (Akl-Toussaint): they hold every 2D hull vertex, and usually far fewer points to sort."""
    n = x.size
    idx = np.zeros(8, dtype=np.int64)  # max x, max x+y, max y, max y-x, min x, min x+y, min y, min y-x
    for i in range(1, n):
        if x[i] > x[idx[0]]:
            idx[0] = i
        if x[i] + y[i] > x[idx[1]] + y[idx[1]]:
            idx[1] = i
        if y[i] > y[idx[2]]:
            idx[2] = i
        if y[i] - x[i] > y[idx[3]] - x[idx[3]]:
            idx[3] = i
        if x[i] < x[idx[4]]:
            idx[4] = i
        if x[i] + y[i] < x[idx[5]] + y[idx[5]]:
            idx[5] = i
        if y[i] < y[idx[6]]:
            idx[6] = i
        if y[i] - x[i] < y[idx[7]] - x[idx[7]]:
            idx[7] = i
    # the octagon counter-clockwise, repeated corners dropped
    px = np.empty(8)
    py = np.empty(8)
    m = 0
    for k in range(8):
        a = idx[k]
        if m == 0 or x[a] != px[m - 1] or y[a] != py[m - 1]:
            px[m] = x[a]
            py[m] = y[a]
            m += 1
    while m > 1 and px[m - 1] == px[0] and py[m - 1] == py[0]:
        m -= 1
    if m < 3:
        return x, y
    keep = np.zeros(n, dtype=np.bool_)
    kept = 0
    for i in range(n):
        inside = True
        for k in range(m):
            ax = px[k]
            ay = py[k]
            bx = px[(k + 1) % m]
            by = py[(k + 1) % m]
            if (bx - ax) * (y[i] - ay) - (by - ay) * (x[i] - ax) <= 0.0:
                inside = False
                break
        if not inside:
            keep[i] = True
            kept += 1
    cx = np.empty(kept)
    cy = np.empty(kept)
    j = 0
    for i in range(n):
        if keep[i]:
            cx[j] = x[i]
            cy[j] = y[i]
            j += 1
    return cx, cy


@jit
def _oriented_box_kernel(points, normals):
    """Smallest box over orientations with one face normal in ``normals``: (volume, area, extents)."""
    best = np.full(5, np.nan)
    best[0] = np.inf
    n = points.shape[0]
    x = np.empty(n)
    y = np.empty(n)
    for q in range(normals.shape[0]):
        nz, ny, nx = normals[q, 0], normals[q, 1], normals[q, 2]
        # a unit vector perpendicular to the normal, then the third axis
        if abs(nz) < 0.9:
            uz, uy, ux = 1.0 - nz * nz, -nz * ny, -nz * nx  # e_z minus its part along n
        else:
            uz, uy, ux = -ny * nz, 1.0 - ny * ny, -ny * nx
        norm = math.sqrt(uz * uz + uy * uy + ux * ux)
        uz /= norm
        uy /= norm
        ux /= norm
        vz = ny * ux - nx * uy
        vy = nx * uz - nz * ux
        vx = nz * uy - ny * uz
        s_lo = np.inf
        s_hi = -np.inf
        for i in range(n):
            pz, py, px = points[i, 0], points[i, 1], points[i, 2]
            si = pz * nz + py * ny + px * nx
            s_lo = min(s_lo, si)
            s_hi = max(s_hi, si)
            x[i] = pz * uz + py * uy + px * ux
            y[i] = pz * vz + py * vy + px * vx
        depth = s_hi - s_lo
        cx, cy = _outside_octagon(x, y)
        hull = _hull_2d(cx, cy)
        h = hull.size
        if h < 3:
            continue
        hx = np.empty(h)
        hy = np.empty(h)
        for t in range(h):
            hx[t] = cx[hull[t]]
            hy[t] = cy[hull[t]]
        # rotating calipers: for each hull edge (counter-clockwise), the extreme points along the
        # edge and along its inward normal advance monotonically round the hull
        jmax = 0
        jmin = 0
        kfar = 0
        for e in range(h):
            ex = hx[(e + 1) % h] - hx[e]
            ey = hy[(e + 1) % h] - hy[e]
            length = math.sqrt(ex * ex + ey * ey)
            if length == 0.0:
                continue
            ex /= length
            ey /= length
            if e == 0:  # first edge: full scan
                for t in range(h):
                    if hx[t] * ex + hy[t] * ey > hx[jmax] * ex + hy[jmax] * ey:
                        jmax = t
                    if hx[t] * ex + hy[t] * ey < hx[jmin] * ex + hy[jmin] * ey:
                        jmin = t
                    if -hx[t] * ey + hy[t] * ex > -hx[kfar] * ey + hy[kfar] * ex:
                        kfar = t
            else:
                for _ in range(h):
                    nxt = (jmax + 1) % h
                    if hx[nxt] * ex + hy[nxt] * ey > hx[jmax] * ex + hy[jmax] * ey:
                        jmax = nxt
                    else:
                        break
                for _ in range(h):
                    nxt = (jmin + 1) % h
                    if hx[nxt] * ex + hy[nxt] * ey < hx[jmin] * ex + hy[jmin] * ey:
                        jmin = nxt
                    else:
                        break
                for _ in range(h):
                    nxt = (kfar + 1) % h
                    if -hx[nxt] * ey + hy[nxt] * ex > -hx[kfar] * ey + hy[kfar] * ex:
                        kfar = nxt
                    else:
                        break
            w1 = (hx[jmax] - hx[jmin]) * ex + (hy[jmax] - hy[jmin]) * ey
            w2 = -(hx[kfar] - hx[e]) * ey + (hy[kfar] - hy[e]) * ex
            vol = w1 * w2 * depth
            if vol < best[0]:
                best[0] = vol
                best[1] = 2.0 * (w1 * w2 + w1 * depth + w2 * depth)
                best[2] = depth
                best[3] = w1
                best[4] = w2
    return best


def oriented_box(points: np.ndarray, normals: np.ndarray) -> tuple[float, float]:
    """Volume and surface area of an approximate oriented minimum bounding box of ``points``.

    IBSI 1 allows an approximation of the OMBB. This one tries every orientation that has one box
    face parallel to a face of the convex hull (``normals``: the hull's unit face normals) and,
    for each, the 2D minimum-area rectangle of the points projected on that face's plane (a
    rectangle side is flush with a 2D hull edge; rotating calipers, linear in the 2D hull's
    vertices). The exact minimum (O'Rourke) can be smaller when
    no box face is flush with a hull face; the box found always encloses the points.
    """
    pts = np.ascontiguousarray(points - points.mean(axis=0), dtype=np.float64)
    res = _oriented_box_kernel(pts, np.ascontiguousarray(normals, dtype=np.float64))
    return float(res[0]), float(res[1])


def unique_normals(normals: np.ndarray, decimals: int = 9) -> np.ndarray:
    """Distinct unit normals (a hull facet split into several triangles gives repeated normals)."""
    rounded = np.round(normals, decimals) + 0.0  # +0.0 turns -0.0 into 0.0
    _, first = np.unique(rounded, axis=0, return_index=True)
    return np.ascontiguousarray(normals[np.sort(first)])


# ---------------------------------------------------------------------------------------------
# ellipsoids


# iterations between exact recomputations of X(u)^-1 and M from the weights (rank-one updates in between)
_MVEE_REFRESH = 64


@jit
def _mvee_exact(q, u, m):
    """``X(u)^-1`` and ``M_i = q_i^T X(u)^-1 q_i`` (into ``m``) from the weights."""
    n, e = q.shape
    x = np.zeros((e, e))
    for i in range(n):
        if u[i] > 0.0:
            for r in range(e):
                for c in range(e):
                    x[r, c] += u[i] * q[i, r] * q[i, c]
    xi = _invert(x)
    for i in range(n):
        acc = 0.0
        for r in range(e):
            row = 0.0
            for c in range(e):
                row += xi[r, c] * q[i, c]
            acc += q[i, r] * row
        m[i] = acc
    return xi


@jit
def _mvee_kernel(points, tol, max_iter):
    """Khachiyan's algorithm with Todd and Yildirim's away steps (the WA-TY algorithm).

    Weights ``u`` on the points (dual problem); ``M_i = q_i^T X(u)^-1 q_i`` with ``q_i = (p_i, 1)``
    and ``X(u) = sum u_i q_i q_i^T``. Each step moves weight towards the point with the largest
    ``M`` (it sticks out most) or away from the weighted point with the smallest ``M``, whichever
    is further from optimal; it stops when every ``M_i <= (1 + tol) (d + 1)`` and every weighted
    ``M_i >= (1 - tol) (d + 1)``, so that the ellipsoid grown by ``1 + tol`` encloses every point
    and its volume is within a factor ``(1 + tol)^(d/2)`` of the minimum.

    A step changes ``X`` by a rank-one term, ``X+ = (1 - t) X + t q_j q_j^T``, so ``X^-1`` and every
    ``M_i`` follow by Sherman-Morrison in O(n d) instead of O(n d^2); they are recomputed from
    ``u`` every :data:`_MVEE_REFRESH` steps and before stopping, so rounding does not accumulate.
    """
    n, d = points.shape
    e = d + 1
    q = np.ones((n, e))
    for i in range(n):
        for k in range(d):
            q[i, k] = points[i, k]
    u = np.full(n, 1.0 / n)
    m = np.empty(n)
    g = np.empty(e)
    xi = _mvee_exact(q, u, m)
    exact = True
    it = 0
    while it < max_iter:
        it += 1
        jp = 0
        jm = -1
        for i in range(n):
            if m[i] > m[jp]:
                jp = i
            if u[i] > 0.0 and (jm < 0 or m[i] < m[jm]):
                jm = i
        eps_plus = m[jp] / e - 1.0
        eps_minus = 1.0 - m[jm] / e
        if eps_plus <= tol and eps_minus <= tol:
            if exact:
                break
            xi = _mvee_exact(q, u, m)  # confirm on exact values
            exact = True
            continue
        if eps_plus > eps_minus:
            j = jp
            step = (m[j] - e) / (e * (m[j] - 1.0))
        else:
            j = jm
            step = (m[j] - e) / (e * (m[j] - 1.0))  # negative: an away step
            step = max(step, -u[j] / (1.0 - u[j]))  # at most drop the point
        for i in range(n):
            u[i] *= 1.0 - step
        u[j] += step
        if u[j] < 0.0:
            u[j] = 0.0
        if it % _MVEE_REFRESH == 0:
            xi = _mvee_exact(q, u, m)
            exact = True
            continue
        # Sherman-Morrison: X+^-1 = (X^-1 - t g g^T / (1 - t + t M_j)) / (1 - t), g = X^-1 q_j
        for r in range(e):
            acc = 0.0
            for c in range(e):
                acc += xi[r, c] * q[j, c]
            g[r] = acc
        denom = 1.0 - step + step * m[j]
        scale = 1.0 / (1.0 - step)
        for r in range(e):
            for c in range(e):
                xi[r, c] = (xi[r, c] - step * g[r] * g[c] / denom) * scale
        for i in range(n):
            h = 0.0
            for c in range(e):
                h += q[i, c] * g[c]
            m[i] = (m[i] - step * h * h / denom) * scale
        exact = False
    centre = np.zeros(d)
    for i in range(n):
        for k in range(d):
            centre[k] += u[i] * points[i, k]
    shape = np.zeros((d, d))
    for i in range(n):
        for r in range(d):
            for c in range(d):
                shape[r, c] += u[i] * (points[i, r] - centre[r]) * (points[i, c] - centre[c])
    return shape * d, it


@jit
def _invert(a):
    """Inverse of a small symmetric positive definite matrix (Gauss-Jordan, partial pivoting)."""
    k = a.shape[0]
    w = np.zeros((k, 2 * k))
    for r in range(k):
        for c in range(k):
            w[r, c] = a[r, c]
        w[r, k + r] = 1.0
    for col in range(k):
        piv = col
        for r in range(col + 1, k):
            if abs(w[r, col]) > abs(w[piv, col]):
                piv = r
        if piv != col:
            for c in range(2 * k):
                w[col, c], w[piv, c] = w[piv, c], w[col, c]
        p = w[col, col]
        for c in range(2 * k):
            w[col, c] /= p
        for r in range(k):
            if r != col:
                f = w[r, col]
                if f != 0.0:
                    for c in range(2 * k):
                        w[r, c] -= f * w[col, c]
    return w[:, k:].copy()


def enclosing_ellipsoid(points: np.ndarray, tol: float = 1e-9, max_iter: int = 100_000) -> np.ndarray:
    """Semi-axis lengths (descending) of the minimum volume enclosing ellipsoid of ``points`` (n, 3).

    Khachiyan's algorithm with away steps (IBSI 1 allows an approximation), on the points given
    (use the convex hull's vertices), to a relative optimality gap ``tol`` (see :func:`_mvee_kernel`).
    The ellipsoid is ``(x - c)^T A (x - c) <= 1`` with ``A = inv(d * cov_u)``, so the semi-axes
    are the square roots of the eigenvalues of ``d * cov_u``. Points that span less than three
    dimensions have no enclosing ellipsoid of positive volume: NaN.
    """
    pts = np.ascontiguousarray(points - points.mean(axis=0), dtype=np.float64)
    if pts.shape[0] < 4 or np.linalg.matrix_rank(pts) < 3:
        return np.full(3, math.nan)
    shape, _ = _mvee_kernel(pts, float(tol), int(max_iter))
    ev = np.clip(np.linalg.eigvalsh(shape), 0.0, None)
    return np.sqrt(ev)[::-1]


def ellipsoid_area(a: float, b: float, c: float, order: int = ELLIPSOID_SERIES_ORDER) -> float:
    """Ellipsoid surface area as IBSI 1 defines it, semi-axes ``a >= b >= c``.

    IBSI 1 (approximate enclosing ellipsoid, RDD2) writes the area as a Legendre series summed
    up to ``order`` 20: ``A = 4 pi a b sum_nu (alpha beta)^nu / (1 - 4 nu^2) P_nu(x)`` with
    ``alpha = sqrt(1 - b^2/a^2)``, ``beta = sqrt(1 - c^2/a^2)``, ``x = (alpha^2 + beta^2) / (2 alpha beta)``.
    The reference values are computed with it (it is not the exact ellipsoid area: for the IBSI
    digital phantom it is 4 % below). ``Q_nu = (alpha beta)^nu P_nu(x)`` follows Bonnet's recursion
    ``(nu + 1) Q_{nu+1} = (2 nu + 1) p Q_nu - nu q Q_{nu-1}``, ``p = (alpha^2 + beta^2) / 2``,
    ``q = (alpha beta)^2``, which stays defined when ``alpha`` or ``beta`` is 0 (spheroids, spheres).
    """
    if not (a > 0 and b > 0 and c > 0):
        return math.nan
    alpha2 = max(1.0 - (b * b) / (a * a), 0.0)
    beta2 = max(1.0 - (c * c) / (a * a), 0.0)
    p = 0.5 * (alpha2 + beta2)
    q = alpha2 * beta2
    q_prev, q_cur = 1.0, p
    total = 1.0 + p / (1.0 - 4.0)
    for nu in range(1, order):
        q_next = ((2 * nu + 1) * p * q_cur - nu * q * q_prev) / (nu + 1)
        q_prev, q_cur = q_cur, q_next
        total += q_cur / (1.0 - 4.0 * (nu + 1) ** 2)
    return 4.0 * math.pi * a * b * total
