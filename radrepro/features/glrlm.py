"""Grey level run length matrix features (IBSI 1, section 3.7; family TP0I).

A run is a maximal line of consecutive ROI voxels with the same grey level along a direction. The
GLRLM of a direction counts runs by grey level (rows) and length (columns). The 16 features are
computed from each matrix and aggregated as in :mod:`radrepro.features._texture`. The run
percentage divides the number of runs by the number of voxels the matrix represents, which for a
merged matrix is the sum over the merged ones (IBSI).
"""

from __future__ import annotations

import numpy as np

from radrepro._numba import jit
from radrepro.features import _texture
from radrepro.registry import Feature

FEATURES = (
    Feature("rlm_sre", "22OV", "Short runs emphasis", "rlm", "glrlm_ShortRunEmphasis"),
    Feature("rlm_lre", "W4KF", "Long runs emphasis", "rlm", "glrlm_LongRunEmphasis"),
    Feature("rlm_lgre", "V3SW", "Low grey level run emphasis", "rlm", "glrlm_LowGrayLevelRunEmphasis"),
    Feature("rlm_hgre", "G3QZ", "High grey level run emphasis", "rlm", "glrlm_HighGrayLevelRunEmphasis"),
    Feature("rlm_srlge", "HTZT", "Short run low grey level emphasis", "rlm", "glrlm_ShortRunLowGrayLevelEmphasis"),
    Feature("rlm_srhge", "GD3A", "Short run high grey level emphasis", "rlm", "glrlm_ShortRunHighGrayLevelEmphasis"),
    Feature("rlm_lrlge", "IVPO", "Long run low grey level emphasis", "rlm", "glrlm_LongRunLowGrayLevelEmphasis"),
    Feature("rlm_lrhge", "3KUM", "Long run high grey level emphasis", "rlm", "glrlm_LongRunHighGrayLevelEmphasis"),
    Feature("rlm_glnu", "R5YN", "Grey level non-uniformity", "rlm", "glrlm_GrayLevelNonUniformity"),
    Feature("rlm_glnu_norm", "OVBL", "Normalised grey level non-uniformity", "rlm", "glrlm_GrayLevelNonUniformityNormalized"),
    Feature("rlm_rlnu", "W92Y", "Run length non-uniformity", "rlm", "glrlm_RunLengthNonUniformity"),
    Feature("rlm_rlnu_norm", "IC23", "Normalised run length non-uniformity", "rlm", "glrlm_RunLengthNonUniformityNormalized"),
    Feature("rlm_r_perc", "9ZK5", "Run percentage", "rlm", "glrlm_RunPercentage"),
    Feature("rlm_gl_var", "8CE5", "Grey level variance", "rlm", "glrlm_GrayLevelVariance"),
    Feature("rlm_rl_var", "SXLW", "Run length variance", "rlm", "glrlm_RunVariance"),
    Feature("rlm_rl_entr", "HJ9O", "Run entropy", "rlm", "glrlm_RunEntropy"),
)


@jit
def _glrlm_kernel(levels, directions, n_levels, per_slice):
    nz, ny, nx = levels.shape
    nd = directions.shape[0]
    ns = nz if per_slice else 1
    # the longest possible run: the longest line through the array along any of the directions
    max_len = 1
    for d in range(nd):
        line = nz + ny + nx
        if directions[d, 0] != 0:
            line = min(line, (nz - 1) // abs(directions[d, 0]) + 1)
        if directions[d, 1] != 0:
            line = min(line, (ny - 1) // abs(directions[d, 1]) + 1)
        if directions[d, 2] != 0:
            line = min(line, (nx - 1) // abs(directions[d, 2]) + 1)
        max_len = max(max_len, line)
    out = np.zeros((ns, nd, n_levels, max_len), dtype=np.int64)
    # a zero border as wide as the longest step ends every run, so the walks need no bounds checks
    flat, step, start = _texture.padded(levels, directions)
    for z in range(nz):
        s = z if per_slice else 0
        for y in range(ny):
            i = start[z, y]
            for x in range(nx):
                a = flat[i]
                if a > 0:
                    for d in range(nd):
                        # a run starts here when the previous voxel along the direction differs
                        if flat[i - step[d]] == a:
                            continue
                        length = 1
                        j = i + step[d]
                        while flat[j] == a:
                            length += 1
                            j += step[d]
                        out[s, d, a - 1, length - 1] += 1
                i += 1
    return out


def glrlm_matrices(levels: np.ndarray, directions: np.ndarray, n_levels: int, *, per_slice: bool = False) -> np.ndarray:
    """Run length counts, one matrix per direction, in one pass over the ROI.

    Parameters
    ----------
    levels
        Grey levels ``(z, y, x)``: 1..``n_levels`` inside the ROI, 0 outside.
    directions
        Direction vectors ``(n_dir, 3)`` as ``(dz, dy, dx)``; a direction and its opposite give the
        same runs, so pass one of each pair (:func:`radrepro.features._texture.directions`).
    n_levels
        Number of grey levels Ng (rows).
    per_slice
        Keep one set of matrices per slice (the slice of the run's first voxel), for 2D aggregation
        with in-plane directions.

    Returns
    -------
    ndarray of int64, shape ``(n_slices or 1, n_dir, Ng, L)``
        ``L`` is the longest line through the array along any of the directions (the longest
        possible run), e.g. ``max(ny, nx)`` for the in-plane directions.
        ``out[s, d, a-1, l-1]`` = number of maximal runs of ``l`` consecutive voxels of level ``a``
        along ``directions[d]``; each ROI voxel is in exactly one run per direction.
    """
    lv = _texture.check_levels(levels, n_levels, "glrlm_matrices")
    dirs = _texture.check_offsets(directions, "glrlm_matrices")
    return _glrlm_kernel(lv, dirs, int(n_levels), bool(per_slice))


def glrlm_features(P: np.ndarray) -> np.ndarray:
    """The 16 IBSI GLRLM features of each matrix in a stack ``(B, Ng, max_len)`` (non-empty).

    The number of voxels of a matrix (for the run percentage) is ``sum(L * r[a, L])``.
    """
    P = np.asarray(P, dtype=np.float64)
    lengths = np.arange(1, P.shape[2] + 1, dtype=np.float64)
    nv = (P.sum(axis=1) * lengths).sum(axis=1)
    return _texture.zone_like_features(P, lengths, nv)[:, :16]


def glrlm_ibsi(levels: np.ndarray, n_levels: int, dims=("3D",)) -> dict[str, float]:
    """IBSI GLRLM features of a grey-level volume for the aggregations in ``dims``.

    Returns reference tag with aggregation suffix -> value (NaN for an empty ROI).
    """
    dims = tuple(d for d in ("2D", "2.5D", "3D") if d in dims)
    lv = _texture.check_levels(levels, n_levels, "glrlm")
    if n_levels == 0 or not lv.any():
        return _texture.nan_result(FEATURES, dims, directional=True)
    mats_2d = mats_3d = None
    if "2D" in dims or "2.5D" in dims:
        mats_2d = _glrlm_kernel(lv, _texture.directions(True), int(n_levels), True)
    if "3D" in dims:
        mats_3d = _glrlm_kernel(lv, _texture.directions(False), int(n_levels), False)[0]
    values = _texture.aggregate_directional(mats_2d, mats_3d, glrlm_features, len(FEATURES))
    order = [s for d in dims for s in _texture.SUFFIXES_DIRECTIONAL[d]]
    return _texture.tagged(FEATURES, values, order)


def compute(roi) -> dict[str, float]:
    """Family entry point: IBSI GLRLM features of the ROI for ``roi.settings.texture_dims``."""
    return glrlm_ibsi(_texture.roi_arrays(roi)[0], roi.n_levels, _texture.texture_dims(roi))
