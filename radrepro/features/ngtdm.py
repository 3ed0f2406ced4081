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
    flat, step = _texture.padded_steps(levels, offsets)
    pz, py, px = _texture.padding(offsets)
    sy = ny + 2 * py
    sx = nx + 2 * px
    for z in range(nz):
        s = z if per_slice else 0
        for y in range(ny):
            i = ((z + pz) * sy + y + py) * sx + px
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


def ngtdm_features(sn: np.ndarray) -> np.ndarray:
    """The 5 IBSI NGTDM features of a stack ``(B, 2, Ng)`` of ``(s, n)`` pairs (non-empty ``n``).

    Coarseness and strength are NaN where ``sum(p s) = 0`` or ``sum(s) = 0`` (every voxel equals its
    neighbourhood average); contrast and busyness are NaN with a single grey level present. IBSI
    gives no value there (its formulas divide by zero); other tools substitute a number (mirp: 1e6
    for coarseness, 0 for the others).
    """
    sn = np.asarray(sn, dtype=np.float64)
    s = sn[:, 0, :]
    n = sn[:, 1, :]
    ng = s.shape[1]
    lv = np.arange(1, ng + 1, dtype=np.float64)
    nvc = n.sum(axis=1)
    p = n / nvc[:, None]
    valid = p > 0
    ngp = valid.sum(axis=1).astype(np.float64)
    ps = p * s
    sum_ps = ps.sum(axis=1)
    sum_s = s.sum(axis=1)
    pair = valid[:, :, None] & valid[:, None, :]
    dl = lv[:, None] - lv[None, :]
    pi = p[:, :, None]
    pj = p[:, None, :]
    out = np.full((s.shape[0], 5), np.nan)
    out[:, 0] = np.where(sum_ps > 0, 1.0 / np.where(sum_ps > 0, sum_ps, 1.0), np.nan)
    ok = ngp > 1
    contrast = (pi * pj * dl**2).sum(axis=(1, 2)) * sum_s / nvc
    out[:, 1] = np.where(ok, contrast / np.where(ok, ngp * (ngp - 1.0), 1.0), np.nan)
    ip = lv * p
    denom = np.where(pair, np.abs(ip[:, :, None] - ip[:, None, :]), 0.0).sum(axis=(1, 2))
    out[:, 2] = np.where(denom > 0, sum_ps / np.where(denom > 0, denom, 1.0), np.nan)
    psum = np.where(pair, pi + pj, 1.0)
    cx = np.where(pair, np.abs(dl) * (ps[:, :, None] + ps[:, None, :]) / psum, 0.0).sum(axis=(1, 2))
    out[:, 3] = cx / nvc
    st = np.where(pair, (pi + pj) * dl**2, 0.0).sum(axis=(1, 2))
    out[:, 4] = np.where(sum_s > 0, st / np.where(sum_s > 0, sum_s, 1.0), np.nan)
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
