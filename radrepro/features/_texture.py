"""Shared helpers of the six texture families: directions, neighbourhoods, aggregation.

Arrays are indexed ``(z, y, x)``; z is the slice axis. A grey-level volume (``levels``) holds
1..Ng inside the region of interest and 0 outside, as :class:`radrepro.processing.ROI` provides it.

Aggregation (IBSI 1, section 3.1.2) turns the matrices of a family into one value per feature:

- directional families (GLCM, GLRLM) have six: ``2D_avg`` (one matrix per slice and in-plane
  direction, features averaged over all of them), ``2D_comb`` (directions merged per slice, averaged
  over slices), ``2_5D_avg`` (slices merged per direction, averaged over directions), ``2_5D_comb``
  (all 2D matrices merged), ``3D_avg`` (one matrix per 3D direction, averaged) and ``3D_comb``
  (all 3D matrices merged);
- the other families have three: ``2D`` (per slice, averaged), ``2_5D`` (slices merged), ``3D``.

Empty matrices (slices without ROI voxels, directions without voxel pairs) are left out of every
average, as IBSI does. A feature that is undefined for a matrix (NaN) is left out of its average; a
feature undefined for every matrix is NaN.

Matrix builders meant for reuse (e.g. by the pyradiomics convention), each one pass over the ROI,
each documenting exactly what it counts:

- :func:`radrepro.features.glcm.glcm_matrices` (ordered pairs per offset; symmetrise yourself),
- :func:`radrepro.features.glrlm.glrlm_matrices` (runs per direction),
- :func:`radrepro.features.glszm.glszm_matrices` and :func:`radrepro.features._zones.zones`
  (26- or in-plane 8-connected zones),
- :func:`radrepro.features.gldzm.gldzm_matrices` and :func:`radrepro.features._zones.edge_distance`,
- :func:`radrepro.features.ngtdm.ngtdm_matrices` and :func:`radrepro.features.ngldm.ngldm_matrices`
  (any neighbourhood from :func:`neighbourhood`, NGLDM with coarseness ``alpha``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from radrepro._numba import jit
from radrepro.registry import Feature

# The 13 unique 3D directions (dz, dy, dx) of the 26-neighbourhood; the first 4 are in-plane.
DIRECTIONS_3D = np.array(
    [(0, 0, 1), (0, 1, 1), (0, 1, 0), (0, 1, -1)]
    + [(1, dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)],
    dtype=np.int64,
)
DIRECTIONS_2D = DIRECTIONS_3D[:4].copy()

SUFFIXES_DIRECTIONAL = {"2D": ("2D_avg", "2D_comb"), "2.5D": ("2_5D_avg", "2_5D_comb"), "3D": ("3D_avg", "3D_comb")}
SUFFIXES_PLAIN = {"2D": "2D", "2.5D": "2_5D", "3D": "3D"}


def directions(in_plane: bool) -> np.ndarray:
    """Unique direction vectors ``(dz, dy, dx)``: 4 in-plane ones, or all 13 of 3D (a copy)."""
    return (DIRECTIONS_2D if in_plane else DIRECTIONS_3D).copy()


def neighbourhood(distance: int, in_plane: bool) -> np.ndarray:
    """All offsets ``(dz, dy, dx)`` with Chebyshev norm 1..``distance`` (centre excluded).

    In-plane: ``(2d+1)^2 - 1`` offsets with ``dz = 0``; 3D: ``(2d+1)^3 - 1`` offsets. Ordered by
    z, then y, then x, so that kernels visit neighbours in a fixed order.
    """
    r = range(-distance, distance + 1)
    zs = (0,) if in_plane else r
    out = [(dz, dy, dx) for dz in zs for dy in r for dx in r if (dz, dy, dx) != (0, 0, 0)]
    return np.array(out, dtype=np.int64)


@jit
def padded(levels, offsets):
    """``levels`` in a border of zeros as wide as the largest ``|offset|`` per axis, flattened (C order).

    Returns ``(flat, steps, start)``: voxel ``(z, y, x)`` is ``flat[start[z, y] + x]`` and its
    neighbour at ``offsets[k]`` is ``steps[k]`` further. Kernels step by these flat offsets and stop
    at the zeros instead of checking bounds.
    """
    nz, ny, nx = levels.shape
    pz = 0
    py = 0
    px = 0
    for k in range(offsets.shape[0]):
        pz = max(pz, abs(offsets[k, 0]))
        py = max(py, abs(offsets[k, 1]))
        px = max(px, abs(offsets[k, 2]))
    sy = ny + 2 * py
    sx = nx + 2 * px
    steps = np.empty(offsets.shape[0], dtype=np.int64)
    for k in range(offsets.shape[0]):
        steps[k] = (offsets[k, 0] * sy + offsets[k, 1]) * sx + offsets[k, 2]
    flat = np.zeros((nz + 2 * pz) * sy * sx, dtype=levels.dtype)
    start = np.empty((nz, ny), dtype=np.int64)
    for z in range(nz):  # loops, not a slice assignment: numba compiles these ten times faster
        for y in range(ny):
            base = ((z + pz) * sy + y + py) * sx + px
            start[z, y] = base
            for x in range(nx):
                flat[base + x] = levels[z, y, x]
    return flat, steps, start


def roi_arrays(roi) -> tuple[np.ndarray, np.ndarray]:
    """A ROI's grey levels and morphological mask, cropped to that mask's bounding box.

    Texture kernels loop over their whole input; outside the morphological mask the levels are 0
    and distances to its edge are the same, so the margin :func:`radrepro.processing.prepare`
    keeps for local intensity is only work. Computed once per ROI (``roi.shared``).
    """
    if "texture_arrays" not in roi.shared:
        from radrepro.processing.roi import bounding_box

        box = bounding_box(roi.morph_mask)
        roi.shared["texture_arrays"] = (
            np.ascontiguousarray(roi.levels[box]),
            np.ascontiguousarray(roi.morph_mask[box]),
        )
    return roi.shared["texture_arrays"]


def texture_dims(roi) -> tuple[str, ...]:
    """The aggregations asked for by the ROI's settings, in the order 2D, 2.5D, 3D."""
    dims = tuple(roi.settings.texture_dims)
    return tuple(d for d in ("2D", "2.5D", "3D") if d in dims)


def nan_result(features: tuple[Feature, ...], dims: Iterable[str], directional: bool) -> dict[str, float]:
    """Every tag of ``features`` for ``dims``, valued NaN (empty ROI)."""
    out: dict[str, float] = {}
    for dim in dims:
        suffixes = SUFFIXES_DIRECTIONAL[dim] if directional else (SUFFIXES_PLAIN[dim],)
        for suffix in suffixes:
            out.update({f"{f.tag}_{suffix}": float("nan") for f in features})
    return out


_CHUNK_ELEMENTS = 1 << 21  # matrix entries per feature-function call


def _mean_rows(values: np.ndarray) -> np.ndarray:
    """Column means over the finite entries of a (B, F) array; NaN where a column has none."""
    finite = np.isfinite(values)
    count = finite.sum(axis=0)
    total = np.where(finite, values, 0.0).sum(axis=0)
    out = np.full(values.shape[1], np.nan)
    np.divide(total, count, out=out, where=count > 0)
    return out


def averaged(mats: np.ndarray, feature_fn: Callable[..., np.ndarray], n_features: int, *extra: np.ndarray) -> np.ndarray:
    """Features of each non-empty matrix in a stack, averaged.

    Parameters
    ----------
    mats
        Stack of matrices, shape ``(B, ...)``; a matrix is empty when all its entries are 0.
    feature_fn
        ``feature_fn(nonempty_mats, *nonempty_extra) -> (b, n_features)``.
    extra
        Per-matrix arrays of shape ``(B, ...)`` passed along (e.g. voxel counts).
    """
    flat = mats.reshape(mats.shape[0], -1)
    keep = flat.any(axis=1)
    if not keep.any():
        return np.full(n_features, np.nan)
    mats = mats[keep]
    extra = tuple(e[keep] for e in extra)
    # bounded memory: feature functions make several float copies of their input
    step = max(1, _CHUNK_ELEMENTS // max(flat.shape[1], 1))
    parts = []
    with np.errstate(divide="ignore", invalid="ignore"):
        for start in range(0, mats.shape[0], step):
            chunk = slice(start, start + step)
            parts.append(np.asarray(feature_fn(mats[chunk], *(e[chunk] for e in extra)), dtype=np.float64))
    return _mean_rows(np.concatenate(parts).reshape(mats.shape[0], n_features))


def aggregate_directional(
    mats_2d: np.ndarray | None,
    mats_3d: np.ndarray | None,
    feature_fn: Callable[[np.ndarray], np.ndarray],
    n_features: int,
) -> dict[str, np.ndarray]:
    """The six IBSI aggregations of a directional family.

    Parameters
    ----------
    mats_2d
        Per-slice, per-in-plane-direction matrices, shape ``(n_slices, 4, ...)``, or None to skip
        2D and 2.5D.
    mats_3d
        Per-3D-direction matrices of the whole volume, shape ``(13, ...)``, or None to skip 3D.
    """
    out = {}
    if mats_2d is not None:
        per = mats_2d.reshape((-1,) + mats_2d.shape[2:])
        out["2D_avg"] = averaged(per, feature_fn, n_features)
        out["2D_comb"] = averaged(mats_2d.sum(axis=1), feature_fn, n_features)
        out["2_5D_avg"] = averaged(mats_2d.sum(axis=0), feature_fn, n_features)
        out["2_5D_comb"] = averaged(mats_2d.sum(axis=(0, 1))[None], feature_fn, n_features)
    if mats_3d is not None:
        out["3D_avg"] = averaged(mats_3d, feature_fn, n_features)
        out["3D_comb"] = averaged(mats_3d.sum(axis=0)[None], feature_fn, n_features)
    return out


def aggregate_plain(
    mats_2d: np.ndarray | None,
    mats_3d: np.ndarray | None,
    feature_fn: Callable[..., np.ndarray],
    n_features: int,
    nv_2d: np.ndarray | None = None,
    nv_3d: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """The three IBSI aggregations of a non-directional family.

    ``mats_2d`` has shape ``(n_slices, ...)`` (one matrix per slice), ``mats_3d`` shape ``(1, ...)``.
    ``nv_2d`` / ``nv_3d`` (voxel counts per matrix), when given, are passed to ``feature_fn`` as a
    second argument and summed with the matrices for 2.5D.
    """
    out = {}
    if mats_2d is not None:
        extra = () if nv_2d is None else (np.asarray(nv_2d, dtype=np.float64),)
        out["2D"] = averaged(mats_2d, feature_fn, n_features, *extra)
        extra25 = () if nv_2d is None else (np.array([float(np.sum(nv_2d))]),)
        out["2_5D"] = averaged(mats_2d.sum(axis=0)[None], feature_fn, n_features, *extra25)
    if mats_3d is not None:
        extra = () if nv_3d is None else (np.asarray(nv_3d, dtype=np.float64),)
        out["3D"] = averaged(mats_3d, feature_fn, n_features, *extra)
    return out


def tagged(features: tuple[Feature, ...], values_by_suffix: dict[str, np.ndarray], order: Iterable[str]) -> dict[str, float]:
    """``{tag_suffix: value}`` for each suffix in ``order`` present in ``values_by_suffix``."""
    out: dict[str, float] = {}
    for suffix in order:
        if suffix in values_by_suffix:
            vals = values_by_suffix[suffix]
            out.update({f"{f.tag}_{suffix}": float(v) for f, v in zip(features, vals)})
    return out


def check_levels(levels: np.ndarray, n_levels: int, name: str) -> np.ndarray:
    """``levels`` as a C-contiguous int32 (z, y, x) array with values 0..n_levels (0 = outside)."""
    arr = np.asarray(levels)
    if arr.ndim != 3:
        raise ValueError(f"{name}: levels must be a 3D (z, y, x) array, got {arr.ndim} dimensions")
    if not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{name}: levels must hold integer grey levels (0 outside the ROI), got {arr.dtype}")
    if n_levels < 0:
        raise ValueError(f"{name}: n_levels must be >= 0, got {n_levels}")
    if arr.size and (arr.min() < 0 or arr.max() > n_levels):
        raise ValueError(f"{name}: grey levels must lie in 0..n_levels={n_levels}, found {arr.min()}..{arr.max()}")
    return np.ascontiguousarray(arr, dtype=np.int32)


def check_offsets(offsets: np.ndarray, name: str) -> np.ndarray:
    """``offsets`` as a C-contiguous int64 (n, 3) array of (dz, dy, dx) vectors, none zero."""
    arr = np.ascontiguousarray(np.asarray(offsets, dtype=np.int64))
    if arr.ndim != 2 or arr.shape[1] != 3:
        raise ValueError(f"{name}: offsets must have shape (n, 3) as (dz, dy, dx), got {arr.shape}")
    if (np.abs(arr).sum(axis=1) == 0).any():
        raise ValueError(f"{name}: offsets must not contain the zero vector")
    return arr


def zone_like_features(
    P: np.ndarray, j: np.ndarray, nv: np.ndarray, *, levels: np.ndarray | None = None,
    counts: np.ndarray | None = None, eps: float = 0.0,
) -> np.ndarray:
    """The 17 features shared by GLRLM, GLSZM, GLDZM and NGLDM, for a stack of matrices.

    Parameters
    ----------
    P
        Counts, shape ``(B, Ng, U)``: rows are grey levels (1..Ng unless ``levels`` says otherwise),
        columns have the values ``j`` (run length, zone size, zone distance or dependence count + 1).
    j
        Column values, shape ``(U,)``.
    nv
        Number of voxels each matrix represents, shape ``(B,)`` (for run/zone percentage).
    levels
        Row values, shape ``(Ng,)``; default 1..Ng. The pyradiomics convention passes the grey
        levels present in the ROI (it drops the others from its matrices).
    counts
        Number of runs / zones per matrix, shape ``(B,)``; default the sum of each matrix.
    eps
        Added to each probability inside the entropy's logarithm (pyradiomics adds machine epsilon).

    Returns
    -------
    ndarray, shape (B, 17)
        In order: small-j emphasis, large-j emphasis, low grey level emphasis, high grey level
        emphasis, small-j low grey, small-j high grey, large-j low grey, large-j high grey, grey
        level non-uniformity, its normalised form, j non-uniformity, its normalised form,
        percentage (Ns / nv), grey level variance, j variance, entropy (log2), energy.
    """
    P = np.ascontiguousarray(P, dtype=np.float64)
    j = np.ascontiguousarray(j, dtype=np.float64)
    if P.ndim != 3 or j.shape != (P.shape[2],):
        raise ValueError(f"zone_like_features: P must be (B, Ng, U) with U column values, got {P.shape} and {j.shape}")
    nv = np.ascontiguousarray(np.broadcast_to(np.asarray(nv, dtype=np.float64), (P.shape[0],)))
    i = np.arange(1.0, P.shape[1] + 1) if levels is None else np.ascontiguousarray(levels, dtype=np.float64)
    n = P.sum(axis=(1, 2)) if counts is None else np.ascontiguousarray(counts, dtype=np.float64)
    return _zone_like_kernel(P, i, j, n, nv, float(eps))


@jit
def _zone_like_kernel(P, i, j, n, nv, eps):
    """(B, 17) features of :func:`zone_like_features`; zero cells add nothing and are skipped."""
    nb, ng, nu = P.shape
    out = np.empty((nb, 17))
    pi = np.empty(ng)
    pj = np.empty(nu)
    for b in range(nb):
        pi[:] = 0.0
        pj[:] = 0.0
        ns = n[b]
        s4 = 0.0
        s5 = 0.0
        s6 = 0.0
        s7 = 0.0
        entropy = 0.0
        energy = 0.0
        for a in range(ng):
            i2 = i[a] * i[a]
            for u in range(nu):
                v = P[b, a, u]
                if v == 0.0:
                    continue
                j2 = j[u] * j[u]
                pi[a] += v
                pj[u] += v
                s4 += v / (i2 * j2)
                s5 += v * i2 / j2
                s6 += v * j2 / i2
                s7 += v * i2 * j2
                p = v / ns
                if p > 0.0:
                    entropy -= p * np.log2(p + eps)
                    energy += p * p
        o = out[b]
        e0 = 0.0
        e1 = 0.0
        e10 = 0.0
        mu_j = 0.0
        for u in range(nu):
            j2 = j[u] * j[u]
            e0 += pj[u] / j2
            e1 += pj[u] * j2
            e10 += pj[u] * pj[u]
            mu_j += pj[u] / ns * j[u]
        e2 = 0.0
        e3 = 0.0
        e8 = 0.0
        mu_i = 0.0
        for a in range(ng):
            i2 = i[a] * i[a]
            e2 += pi[a] / i2
            e3 += pi[a] * i2
            e8 += pi[a] * pi[a]
            mu_i += pi[a] / ns * i[a]
        var_i = 0.0
        for a in range(ng):
            var_i += pi[a] / ns * (i[a] - mu_i) ** 2
        var_j = 0.0
        for u in range(nu):
            var_j += pj[u] / ns * (j[u] - mu_j) ** 2
        o[0] = e0 / ns
        o[1] = e1 / ns
        o[2] = e2 / ns
        o[3] = e3 / ns
        o[4] = s4 / ns
        o[5] = s5 / ns
        o[6] = s6 / ns
        o[7] = s7 / ns
        o[8] = e8 / ns
        o[9] = e8 / (ns * ns)
        o[10] = e10 / ns
        o[11] = e10 / (ns * ns)
        o[12] = ns / nv[b]
        o[13] = var_i
        o[14] = var_j
        o[15] = entropy
        o[16] = energy
    return out
