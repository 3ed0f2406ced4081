"""Neighbourhood grey tone difference matrix features (IBSI 1, section 3.10; family IPET).

For each ROI voxel of level ``i``, the neighbourhood average ``A`` is the mean level of the ROI
voxels within Chebyshev distance ``delta`` (centre excluded; in-plane only for 2D). Voxels with no
ROI neighbour are left out. The NGTDM holds, per level, ``n_i`` (number of voxels counted) and
``s_i = sum |i - A|``. Aggregations ``2D`` (per slice, averaged), ``2_5D`` (slice matrices merged)
and ``3D``.
"""

from __future__ import annotations

import numpy as np

from radrepro._numba import jit
from radrepro.features import _texture
from radrepro.registry import Feature

FEATURES = (
    Feature("ngt_coarseness", "QCDE", "Coarseness", "ngt", "ngtdm_Coarseness"),
    Feature("ngt_contrast", "65HE", "Contrast", "ngt", "ngtdm_Contrast"),
    Feature("ngt_busyness", "NQ30", "Busyness", "ngt", "ngtdm_Busyness"),
    Feature("ngt_complexity", "HDEZ", "Complexity", "ngt", "ngtdm_Complexity"),
    Feature("ngt_strength", "1X9X", "Strength", "ngt", "ngtdm_Strength"),
)


@jit
def _ngtdm_kernel(levels, offsets, n_levels, per_slice):
    nz, ny, nx = levels.shape
    ns = nz if per_slice else 1
    s_out = np.zeros((ns, n_levels), dtype=np.float64)
    n_out = np.zeros((ns, n_levels), dtype=np.int64)
    alone = np.zeros((ns, n_levels), dtype=np.int64)  # ROI voxels without ROI neighbours, per level
    flat, step, start = _texture.padded(levels, offsets)
    for z in range(nz):
        s = z if per_slice else 0
        for y in range(ny):
            i = start[z, y]
            for x in range(nx):
                a = flat[i + x]
                if a <= 0:
                    continue
                total = 0
                count = 0
                for k in range(step.size):
                    b = flat[i + x + step[k]]
                    if b > 0:
                        total += b
                        count += 1
                if count == 0:
                    alone[s, a - 1] += 1
                    continue
                s_out[s, a - 1] += abs(a - total / count)
                n_out[s, a - 1] += 1
    return s_out, n_out, alone


def ngtdm_matrices(levels: np.ndarray, offsets: np.ndarray, n_levels: int, *, per_slice: bool = False):
    """Neighbourhood grey tone differences, in one pass over the ROI.

    Parameters
    ----------
    levels
        Grey levels ``(z, y, x)``: 1..``n_levels`` inside the ROI, 0 outside.
    offsets
        The neighbourhood, ``(n, 3)`` as ``(dz, dy, dx)`` (all of it, both signs), e.g.
        :func:`radrepro.features._texture.neighbourhood`.
    n_levels
        Number of grey levels Ng.
    per_slice
        One row per slice (2D aggregation with an in-plane neighbourhood); otherwise one row.

    Returns
    -------
    s, n
        ``s[r, i-1]`` (float64) = sum over counted voxels of level ``i`` of ``|i - A|`` with ``A`` the
        mean level of the voxel's neighbours inside the ROI; ``n[r, i-1]`` (int64) = number of such
        voxels. A voxel without ROI neighbours is not counted. Shapes ``(n_slices or 1, Ng)``.
    """
    lv = _texture.check_levels(levels, n_levels, "ngtdm_matrices")
    off = _texture.check_offsets(offsets, "ngtdm_matrices")
    s, n, _ = _ngtdm_kernel(lv, off, int(n_levels), bool(per_slice))
    return s, n


def ngtdm_isolated(levels: np.ndarray, offsets: np.ndarray, n_levels: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`ngtdm_matrices` (one row) plus, per grey level, the ROI voxels without ROI neighbours.

    IBSI leaves those voxels out; pyradiomics counts them in ``n`` (with nothing added to ``s``).

    Returns
    -------
    s, n, isolated
        Shapes ``(Ng,)``: ``s`` and ``n`` as :func:`ngtdm_matrices`, ``isolated`` (int64) the
        voxels of each level that have no neighbour inside the ROI.
    """
    lv = _texture.check_levels(levels, n_levels, "ngtdm_isolated")
    off = _texture.check_offsets(offsets, "ngtdm_isolated")
    s, n, isolated = _ngtdm_kernel(lv, off, int(n_levels), False)
    return s[0], n[0], isolated[0]


# per-matrix sums of :func:`ngtdm_sums` (p = n / nv over the levels with n > 0, i their grey levels,
# pairs over those levels), in column order
SUMS = ("nv", "n_levels", "sum_ps", "sum_s", "contrast", "abs_diff", "complexity", "strength")


@jit
def _ngtdm_sums_kernel(sn):
    nb = sn.shape[0]
    out = np.empty((nb, len(SUMS)))
    for b in range(nb):
        s = sn[b, 0]
        n = sn[b, 1]
        levels = np.flatnonzero(n != 0)
        m = levels.shape[0]
        i = (levels + 1).astype(np.float64)
        nk = n[levels]
        sk = s[levels]
        nv = 0.0
        for a in range(m):
            nv += nk[a]
        p = nk / nv
        ps = p * sk
        sum_ps = 0.0
        sum_s = 0.0
        for a in range(m):
            sum_ps += ps[a]
            sum_s += sk[a]
        contrast = 0.0
        abs_diff = 0.0
        complexity = 0.0
        strength = 0.0
        for a in range(m):
            for c in range(m):
                d = i[a] - i[c]
                d2 = d * d
                contrast += p[a] * p[c] * d2
                abs_diff += abs(i[a] * p[a] - i[c] * p[c])
                complexity += abs(d) * (ps[a] + ps[c]) / (p[a] + p[c])
                strength += (p[a] + p[c]) * d2
        o = out[b]
        o[0] = nv
        o[1] = m
        o[2] = sum_ps
        o[3] = sum_s
        o[4] = contrast
        o[5] = abs_diff
        o[6] = complexity
        o[7] = strength
    return out


def ngtdm_sums(sn: np.ndarray) -> np.ndarray:
    """The sums the NGTDM features are made of, for a stack ``(B, 2, Ng)`` of ``(s, n)`` pairs
    (columns :data:`SUMS`); shared by the IBSI features (:func:`ngtdm_features`) and the
    pyradiomics convention's (which counts voxels without neighbours in ``n``)."""
    sn = np.ascontiguousarray(sn, dtype=np.float64)
    if sn.ndim != 3 or sn.shape[1] != 2:
        raise ValueError(f"ngtdm_sums: expected a stack of (s, n) pairs, shape (B, 2, Ng), got {sn.shape}")
    return _ngtdm_sums_kernel(sn)


def ngtdm_features(sn: np.ndarray) -> np.ndarray:
    """The 5 IBSI NGTDM features of a stack ``(B, 2, Ng)`` of ``(s, n)`` pairs (non-empty ``n``).

    Coarseness and strength are NaN where ``sum(p s) = 0`` or ``sum(s) = 0`` (every voxel equals its
    neighbourhood average); contrast and busyness are NaN with a single grey level present. IBSI
    gives no value there (its formulas divide by zero); other tools substitute a number (mirp: 1e6
    for coarseness, 0 for the others).
    """
    nv, ngp, sum_ps, sum_s, contrast, abs_diff, complexity, strength = ngtdm_sums(sn).T
    out = np.full((nv.shape[0], 5), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        out[:, 0] = np.where(sum_ps > 0, 1.0 / sum_ps, np.nan)
        out[:, 1] = np.where(ngp > 1, contrast * sum_s / nv / (ngp * (ngp - 1.0)), np.nan)
        out[:, 2] = np.where(abs_diff > 0, sum_ps / abs_diff, np.nan)
        out[:, 3] = complexity / nv
        out[:, 4] = np.where(sum_s > 0, strength / sum_s, np.nan)
    return out


def ngtdm_ibsi(levels: np.ndarray, n_levels: int, dims=("3D",), distance: int = 1) -> dict[str, float]:
    """IBSI NGTDM features of a grey-level volume for the aggregations in ``dims``."""
    dims = tuple(d for d in ("2D", "2.5D", "3D") if d in dims)
    lv = _texture.check_levels(levels, n_levels, "ngtdm")
    if int(distance) < 1:
        raise ValueError(f"ngtdm: distance must be an integer >= 1, got {distance!r}")
    if n_levels == 0 or not lv.any():
        return _texture.nan_result(FEATURES, dims, directional=False)
    values = {}
    for in_plane, wanted in ((True, "2D" in dims or "2.5D" in dims), (False, "3D" in dims)):
        if not wanted:
            continue
        s, n, _ = _ngtdm_kernel(lv, _texture.neighbourhood(int(distance), in_plane), int(n_levels), in_plane)
        sn = np.stack([s, n.astype(np.float64)], axis=1)
        # a matrix is empty when no voxel was counted: zero s with zero n
        if in_plane:
            values.update(_texture.aggregate_plain(sn, None, ngtdm_features, len(FEATURES)))
        else:
            values.update(_texture.aggregate_plain(None, sn, ngtdm_features, len(FEATURES)))
    return _texture.tagged(FEATURES, values, [_texture.SUFFIXES_PLAIN[d] for d in dims])


def compute(roi) -> dict[str, float]:
    """Family entry point: IBSI NGTDM features of the ROI for ``roi.settings.texture_dims``."""
    return ngtdm_ibsi(_texture.roi_arrays(roi)[0], roi.n_levels, _texture.texture_dims(roi), roi.settings.distances[0])
