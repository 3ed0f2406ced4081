"""Neighbouring grey level dependence matrix features (IBSI 1, section 3.11; family REK0).

For each ROI voxel of level ``i``, the dependence ``k`` is the number of ROI voxels within
Chebyshev distance ``delta`` (centre excluded; in-plane only for 2D) whose level differs from ``i``
by at most the coarseness ``alpha``. The NGLDM counts voxels by level (rows) and ``j = k + 1``
(columns). Aggregations ``2D`` (per slice, averaged), ``2_5D`` (slice matrices merged) and ``3D``.
"""

from __future__ import annotations

import numpy as np

from radrepro._numba import jit
from radrepro.features import _texture
from radrepro.registry import Feature

FEATURES = (
    Feature("ngl_lde", "SODN", "Low dependence emphasis", "ngl", "gldm_SmallDependenceEmphasis"),
    Feature("ngl_hde", "IMOQ", "High dependence emphasis", "ngl", "gldm_LargeDependenceEmphasis"),
    Feature("ngl_lgce", "TL9H", "Low grey level count emphasis", "ngl", "gldm_LowGrayLevelEmphasis"),
    Feature("ngl_hgce", "OAE7", "High grey level count emphasis", "ngl", "gldm_HighGrayLevelEmphasis"),
    Feature("ngl_ldlge", "EQ3F", "Low dependence low grey level emphasis", "ngl", "gldm_SmallDependenceLowGrayLevelEmphasis"),
    Feature("ngl_ldhge", "JA6D", "Low dependence high grey level emphasis", "ngl", "gldm_SmallDependenceHighGrayLevelEmphasis"),
    Feature("ngl_hdlge", "NBZI", "High dependence low grey level emphasis", "ngl", "gldm_LargeDependenceLowGrayLevelEmphasis"),
    Feature("ngl_hdhge", "9QMG", "High dependence high grey level emphasis", "ngl", "gldm_LargeDependenceHighGrayLevelEmphasis"),
    Feature("ngl_glnu", "FP8K", "Grey level non-uniformity", "ngl", "gldm_GrayLevelNonUniformity"),
    Feature("ngl_glnu_norm", "5SPA", "Normalised grey level non-uniformity", "ngl", "gldm_GrayLevelNonUniformityNormalized"),
    Feature("ngl_dcnu", "Z87G", "Dependence count non-uniformity", "ngl", "gldm_DependenceNonUniformity"),
    Feature("ngl_dcnu_norm", "OKJI", "Normalised dependence count non-uniformity", "ngl", "gldm_DependenceNonUniformityNormalized"),
    Feature("ngl_dc_perc", "6XV8", "Dependence count percentage", "ngl", "gldm_DependencePercentage"),
    Feature("ngl_gl_var", "1PFV", "Grey level variance", "ngl", "gldm_GrayLevelVariance"),
    Feature("ngl_dc_var", "DNX2", "Dependence count variance", "ngl", "gldm_DependenceVariance"),
    Feature("ngl_dc_entr", "FCBV", "Dependence count entropy", "ngl", "gldm_DependenceEntropy"),
    Feature("ngl_dc_energy", "CAS9", "Dependence count energy", "ngl"),
)


@jit
def _ngldm_kernel(levels, offsets, n_levels, alpha, per_slice):
    nz, ny, nx = levels.shape
    ns = nz if per_slice else 1
    out = np.zeros((ns, n_levels, offsets.shape[0] + 1), dtype=np.int64)
    flat, step, start = _texture.padded(levels, offsets)
    for z in range(nz):
        s = z if per_slice else 0
        for y in range(ny):
            i = start[z, y]
            for x in range(nx):
                a = flat[i + x]
                if a <= 0:
                    continue
                k = 0
                for o in range(step.size):
                    b = flat[i + x + step[o]]
                    if b > 0 and abs(b - a) <= alpha:
                        k += 1
                out[s, a - 1, k] += 1
    return out


def ngldm_matrices(levels: np.ndarray, offsets: np.ndarray, n_levels: int, alpha: int = 0, *, per_slice: bool = False):
    """Grey level dependence counts, in one pass over the ROI.

    Parameters
    ----------
    levels
        Grey levels ``(z, y, x)``: 1..``n_levels`` inside the ROI, 0 outside.
    offsets
        The neighbourhood, ``(n, 3)`` as ``(dz, dy, dx)`` (all of it, both signs), e.g.
        :func:`radrepro.features._texture.neighbourhood`.
    n_levels
        Number of grey levels Ng (rows).
    alpha
        Coarseness: a neighbour is dependent when ``|level - centre level| <= alpha``.
    per_slice
        One matrix per slice (2D aggregation with an in-plane neighbourhood); otherwise one.

    Returns
    -------
    ndarray of int64, shape ``(n_slices or 1, Ng, n + 1)``
        ``out[s, i-1, k]`` = number of ROI voxels of level ``i`` with exactly ``k`` dependent
        neighbours inside the ROI (column ``k`` is IBSI's ``j = k + 1``). Every ROI voxel is
        counted once.
    """
    lv = _texture.check_levels(levels, n_levels, "ngldm_matrices")
    off = _texture.check_offsets(offsets, "ngldm_matrices")
    if int(alpha) < 0:
        raise ValueError(f"ngldm_matrices: alpha must be an integer >= 0, got {alpha!r}")
    return _ngldm_kernel(lv, off, int(n_levels), int(alpha), bool(per_slice))


def ngldm_features(P: np.ndarray) -> np.ndarray:
    """The 17 IBSI NGLDM features of each non-empty matrix ``(B, Ng, n + 1)`` (column k: j = k + 1)."""
    P = np.asarray(P, dtype=np.float64)
    j = np.arange(1, P.shape[2] + 1, dtype=np.float64)
    nv = P.sum(axis=(1, 2))
    return _texture.zone_like_features(P, j, nv)


def ngldm_ibsi(levels: np.ndarray, n_levels: int, dims=("3D",), distance: int = 1, alpha: int = 0) -> dict[str, float]:
    """IBSI NGLDM features of a grey-level volume for the aggregations in ``dims``."""
    dims = tuple(d for d in ("2D", "2.5D", "3D") if d in dims)
    lv = _texture.check_levels(levels, n_levels, "ngldm")
    if int(distance) < 1:
        raise ValueError(f"ngldm: distance must be an integer >= 1, got {distance!r}")
    if int(alpha) < 0:
        raise ValueError(f"ngldm: alpha must be an integer >= 0, got {alpha!r}")
    if n_levels == 0 or not lv.any():
        return _texture.nan_result(FEATURES, dims, directional=False)
    values = {}
    for in_plane, wanted in ((True, "2D" in dims or "2.5D" in dims), (False, "3D" in dims)):
        if not wanted:
            continue
        mats = _ngldm_kernel(lv, _texture.neighbourhood(int(distance), in_plane), int(n_levels), int(alpha), in_plane)
        if in_plane:
            values.update(_texture.aggregate_plain(mats, None, ngldm_features, len(FEATURES)))
        else:
            values.update(_texture.aggregate_plain(None, mats, ngldm_features, len(FEATURES)))
    return _texture.tagged(FEATURES, values, [_texture.SUFFIXES_PLAIN[d] for d in dims])


def compute(roi) -> dict[str, float]:
    """Family entry point: IBSI NGLDM features of the ROI for ``roi.settings.texture_dims``."""
    s = roi.settings
    levels = _texture.roi_arrays(roi)[0]
    return ngldm_ibsi(levels, roi.n_levels, _texture.texture_dims(roi), s.distances[0], s.ngldm_alpha)
