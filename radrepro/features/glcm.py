"""Grey level co-occurrence matrix features (IBSI 1, section 3.6; family LFYI).

For each direction ``m`` and distance ``delta`` (Chebyshev), the GLCM counts pairs of ROI voxels
``(v, v + delta m)`` by their grey levels; IBSI uses the symmetric matrix (pairs in direction ``m``
and ``-m``), i.e. ``M + M.T`` of the ordered-pair counts. Several distances are summed into one
matrix per direction. The 25 features are computed from each matrix and aggregated as in
:mod:`radrepro.features._texture`.
"""

from __future__ import annotations

import math

import numpy as np

from radrepro._numba import jit
from radrepro.features import _texture
from radrepro.registry import Feature

FEATURES = (
    Feature("cm_joint_max", "GYBY", "Joint maximum", "cm", "glcm_MaximumProbability"),
    Feature("cm_joint_avg", "60VM", "Joint average", "cm", "glcm_JointAverage"),
    Feature("cm_joint_var", "UR99", "Joint variance", "cm", "glcm_SumSquares"),
    Feature("cm_joint_entr", "TU9B", "Joint entropy", "cm", "glcm_JointEntropy"),
    Feature("cm_diff_avg", "TF7R", "Difference average", "cm", "glcm_DifferenceAverage"),
    Feature("cm_diff_var", "D3YU", "Difference variance", "cm", "glcm_DifferenceVariance"),
    Feature("cm_diff_entr", "NTRS", "Difference entropy", "cm", "glcm_DifferenceEntropy"),
    Feature("cm_sum_avg", "ZGXS", "Sum average", "cm", "glcm_SumAverage"),
    Feature("cm_sum_var", "OEEB", "Sum variance", "cm", "glcm_SumVariance"),
    Feature("cm_sum_entr", "P6QZ", "Sum entropy", "cm", "glcm_SumEntropy"),
    Feature("cm_energy", "8ZQL", "Angular second moment", "cm", "glcm_JointEnergy"),
    Feature("cm_contrast", "ACUI", "Contrast", "cm", "glcm_Contrast"),
    Feature("cm_dissimilarity", "8S9J", "Dissimilarity", "cm", "glcm_Dissimilarity"),
    Feature("cm_inv_diff", "IB1Z", "Inverse difference", "cm", "glcm_Id"),
    Feature("cm_inv_diff_norm", "NDRX", "Normalised inverse difference", "cm", "glcm_Idn"),
    Feature("cm_inv_diff_mom", "WF0Z", "Inverse difference moment", "cm", "glcm_Idm"),
    Feature("cm_inv_diff_mom_norm", "1QCO", "Normalised inverse difference moment", "cm", "glcm_Idmn"),
    Feature("cm_inv_var", "E8JP", "Inverse variance", "cm", "glcm_InverseVariance"),
    Feature("cm_corr", "NI2N", "Correlation", "cm", "glcm_Correlation"),
    Feature("cm_auto_corr", "QWB0", "Autocorrelation", "cm", "glcm_Autocorrelation"),
    Feature("cm_clust_tend", "DG8W", "Cluster tendency", "cm", "glcm_ClusterTendency"),
    Feature("cm_clust_shade", "7NFM", "Cluster shade", "cm", "glcm_ClusterShade"),
    Feature("cm_clust_prom", "AE86", "Cluster prominence", "cm", "glcm_ClusterProminence"),
    Feature("cm_info_corr1", "R8DG", "Information correlation 1", "cm", "glcm_Imc1"),
    Feature("cm_info_corr2", "JN9H", "Information correlation 2", "cm", "glcm_Imc2"),
)


@jit
def _glcm_kernel(levels, offsets, n_levels, per_slice):
    nz, ny, nx = levels.shape
    nd = offsets.shape[0]
    ns = nz if per_slice else 1
    out = np.zeros((ns, nd, n_levels, n_levels), dtype=np.int64)
    flat, step, start = _texture.padded(levels, offsets)
    for z in range(nz):
        s = z if per_slice else 0
        for y in range(ny):
            i = start[z, y]
            for x in range(nx):
                a = flat[i + x]
                if a <= 0:
                    continue
                for d in range(nd):
                    b = flat[i + x + step[d]]
                    if b > 0:
                        out[s, d, a - 1, b - 1] += 1
    return out


def glcm_matrices(levels: np.ndarray, offsets: np.ndarray, n_levels: int, *, per_slice: bool = False) -> np.ndarray:
    """Co-occurrence counts of ordered voxel pairs, one matrix per offset, in one pass over the ROI.

    Parameters
    ----------
    levels
        Grey levels ``(z, y, x)``: 1..``n_levels`` inside the ROI, 0 outside.
    offsets
        Offsets ``(n_dir, 3)`` as ``(dz, dy, dx)``, e.g. ``distance * direction``.
    n_levels
        Number of grey levels Ng (matrix size).
    per_slice
        Keep one set of matrices per slice (the slice of the first voxel of each pair), for 2D
        aggregation with in-plane offsets.

    Returns
    -------
    ndarray of int64, shape ``(n_slices or 1, n_dir, Ng, Ng)``
        ``out[s, d, a-1, b-1]`` = number of voxels ``v`` (in slice ``s``) with level ``a`` whose
        neighbour ``v + offsets[d]`` lies inside the array and has level ``b > 0``. Each ordered pair
        is counted once per offset; the symmetric IBSI matrix is ``out + out.swapaxes(-1, -2)``.
    """
    lv = _texture.check_levels(levels, n_levels, "glcm_matrices")
    off = _texture.check_offsets(offsets, "glcm_matrices")
    return _glcm_kernel(lv, off, int(n_levels), bool(per_slice))


# per-matrix sums of :func:`glcm_sums` (from the normalised matrix p, its marginals px and py, the
# diagonal sums p_{x-y} and p_{x+y}, and t = i + j - mu_x - mu_y), in column order
SUMS = (
    "joint_max", "mu_x", "mu_y", "var_x", "var_y", "cov", "hxy", "hx", "hy", "hxy1", "hxy2", "energy",
    "auto_corr", "contrast", "diff_avg", "diff_var", "diff_entr", "inv_diff", "inv_diff_norm", "inv_diff_mom",
    "inv_diff_mom_norm", "inv_var", "sum_avg", "sum_var", "sum_entr", "t2", "t3", "t4",
)


@jit
def _glcm_sums_kernel(P, levels, nl, eps):
    nb, ng, _ = P.shape
    out = np.empty((nb, len(SUMS)))
    top_level = 0
    for i in range(ng):
        top_level = max(top_level, int(levels[i]))
    px = np.empty(ng)
    py = np.empty(ng)
    pdiff = np.empty(top_level)
    psum = np.empty(2 * top_level - 1)
    for b in range(nb):
        total = 0.0
        for i in range(ng):
            for j in range(ng):
                total += P[b, i, j]
        if not total > 0.0:  # an empty or NaN matrix
            out[b, :] = np.nan
            continue
        p = P[b] / total
        px[:] = 0.0
        py[:] = 0.0
        pdiff[:] = 0.0
        psum[:] = 0.0
        top = 0.0
        hxy = 0.0
        energy = 0.0
        corr_ij = 0.0
        for i in range(ng):
            for j in range(ng):
                v = p[i, j]
                px[i] += v
                py[j] += v
                pdiff[int(abs(levels[i] - levels[j]))] += v
                psum[int(levels[i] + levels[j]) - 2] += v
                top = max(top, v)
                if v > 0.0:
                    hxy -= v * np.log2(v + eps)
                energy += v * v
                corr_ij += v * levels[i] * levels[j]
        mu_x = 0.0
        mu_y = 0.0
        hx = 0.0
        hy = 0.0
        for i in range(ng):
            mu_x += px[i] * levels[i]
            mu_y += py[i] * levels[i]
            if px[i] > 0.0:
                hx -= px[i] * np.log2(px[i] + eps)
            if py[i] > 0.0:
                hy -= py[i] * np.log2(py[i] + eps)
        var_x = 0.0
        var_y = 0.0
        for i in range(ng):
            var_x += px[i] * (levels[i] - mu_x) ** 2
            var_y += py[i] * (levels[i] - mu_y) ** 2
        diff_avg = 0.0
        for k in range(top_level):
            diff_avg += pdiff[k] * k
        diff_var = 0.0
        diff_entr = 0.0
        contrast = 0.0
        inv_diff = 0.0
        inv_diff_norm = 0.0
        inv_diff_mom = 0.0
        inv_diff_mom_norm = 0.0
        inv_var = 0.0
        for k in range(top_level):
            q = pdiff[k]
            diff_var += q * (k - diff_avg) ** 2
            if q > 0.0:
                diff_entr -= q * np.log2(q + eps)
            contrast += q * k * k
            inv_diff += q / (1.0 + k)
            inv_diff_norm += q / (1.0 + k / nl)
            inv_diff_mom += q / (1.0 + k * k)
            inv_diff_mom_norm += q / (1.0 + k * k / (nl * nl))
            if k > 0:
                inv_var += q / (k * k)
        sum_avg = 0.0
        for k in range(2 * top_level - 1):
            sum_avg += psum[k] * (k + 2)
        sum_var = 0.0
        sum_entr = 0.0
        for k in range(2 * top_level - 1):
            q = psum[k]
            sum_var += q * (k + 2 - sum_avg) ** 2
            if q > 0.0:
                sum_entr -= q * np.log2(q + eps)
        cov = 0.0
        t2 = 0.0
        t3 = 0.0
        t4 = 0.0
        hxy1 = 0.0
        hxy2 = 0.0
        for i in range(ng):
            for j in range(ng):
                v = p[i, j]
                cov += v * (levels[i] - mu_x) * (levels[j] - mu_y)
                t = levels[i] + levels[j] - mu_x - mu_y
                t2 += v * t * t
                t3 += v * t * t * t
                t4 += v * t * t * t * t
                pp = px[i] * py[j]
                if pp > 0.0:
                    lg = np.log2(pp + eps)
                    hxy1 -= v * lg
                    hxy2 -= pp * lg
        o = out[b]
        o[0] = top
        o[1] = mu_x
        o[2] = mu_y
        o[3] = var_x
        o[4] = var_y
        o[5] = cov
        o[6] = hxy
        o[7] = hx
        o[8] = hy
        o[9] = hxy1
        o[10] = hxy2
        o[11] = energy
        o[12] = corr_ij
        o[13] = contrast
        o[14] = diff_avg
        o[15] = diff_var
        o[16] = diff_entr
        o[17] = inv_diff
        o[18] = inv_diff_norm
        o[19] = inv_diff_mom
        o[20] = inv_diff_mom_norm
        o[21] = inv_var
        o[22] = sum_avg
        o[23] = sum_var
        o[24] = sum_entr
        o[25] = t2
        o[26] = t3
        o[27] = t4
    return out


def glcm_sums(
    P: np.ndarray, n_levels: float | None = None, *, levels: np.ndarray | None = None, eps: float = 0.0
) -> np.ndarray:
    """The sums every GLCM feature is made of, for each matrix in a stack (columns :data:`SUMS`).

    Shared by the IBSI features (:func:`glcm_features`) and the pyradiomics convention's.

    Parameters
    ----------
    P
        Co-occurrence counts or probabilities, shape ``(B, G, G)``; each matrix is normalised to sum 1.
        An empty (or NaN) matrix gives a row of NaN.
    n_levels
        Ng of the normalised inverse differences (default: the highest grey level).
    levels
        Grey level of each row and column, shape ``(G,)``, positive integers; default 1..G.
        The pyradiomics convention passes the levels present in the ROI (it drops the others).
    eps
        Added to each probability inside the entropies' logarithms (pyradiomics adds machine epsilon).
    """
    P = np.ascontiguousarray(P, dtype=np.float64)
    if P.ndim != 3 or P.shape[1] != P.shape[2]:
        raise ValueError(f"glcm_sums: P must be a stack of square matrices (B, G, G), got shape {P.shape}")
    lv = np.arange(1.0, P.shape[1] + 1) if levels is None else np.ascontiguousarray(levels, dtype=np.float64)
    nl = float(lv.max(initial=0.0) if n_levels is None else n_levels)
    return _glcm_sums_kernel(P, lv, nl, float(eps))


@jit
def _ibsi_features(S):
    """The 25 IBSI features (order of :data:`FEATURES`) from the sums of :func:`glcm_sums`."""
    out = np.empty((S.shape[0], 25))
    for b in range(S.shape[0]):
        s = S[b]
        o = out[b]
        hxy = s[6]
        hx = s[7]
        sd = math.sqrt(s[3] * s[4])
        o[0] = s[0]
        o[1] = s[1]
        o[2] = s[3]
        o[3] = hxy
        o[4] = s[14]
        o[5] = s[15]
        o[6] = s[16]
        o[7] = s[22]
        o[8] = s[23]
        o[9] = s[24]
        o[10] = s[11]
        o[11] = s[13]
        o[12] = s[14]
        o[13] = s[17]
        o[14] = s[18]
        o[15] = s[19]
        o[16] = s[20]
        o[17] = s[21]
        o[18] = s[5] / sd if sd > 0.0 else np.nan
        o[19] = s[12]
        o[20] = s[25]
        o[21] = s[26]
        o[22] = s[27]
        o[23] = (hxy - s[9]) / hx if hx > 0.0 else np.nan
        r = 1.0 - math.exp(-2.0 * (s[10] - hxy))
        o[24] = math.sqrt(r if not r < 0.0 else 0.0)
    return out


def glcm_features(P: np.ndarray, n_levels: int | None = None) -> np.ndarray:
    """The 25 IBSI GLCM features of each matrix in a stack.

    Parameters
    ----------
    P
        Non-empty co-occurrence counts (symmetric for IBSI), shape ``(B, Ng, Ng)``.
    n_levels
        Ng of the normalised inverse differences (default: the matrix size).

    Returns
    -------
    ndarray, shape (B, 25), in the order of :data:`FEATURES`. Correlation and the first information
    correlation are NaN where the marginal variance or entropy is 0 (one grey level), where IBSI's
    formulas divide by zero.
    """
    P = np.asarray(P)
    if P.ndim != 3 or P.shape[1] != P.shape[2]:
        raise ValueError(f"glcm_features: P must be a stack of square matrices (B, Ng, Ng), got shape {P.shape}")
    return _ibsi_features(glcm_sums(P, n_levels))  # default Ng: the matrices' size


def glcm_ibsi(levels: np.ndarray, n_levels: int, dims=("3D",), distances=(1,)) -> dict[str, float]:
    """IBSI GLCM features of a grey-level volume for the aggregations in ``dims``.

    Parameters
    ----------
    levels
        Grey levels ``(z, y, x)``: 1..``n_levels`` inside the ROI, 0 outside.
    n_levels
        Number of grey levels Ng of the discretisation.
    dims
        Any of ``2D``, ``2.5D``, ``3D``.
    distances
        Chebyshev distances; the matrices of all distances are summed per direction.

    Returns
    -------
    dict
        Reference tag with aggregation suffix -> value (NaN for an empty ROI).
    """
    dims = tuple(d for d in ("2D", "2.5D", "3D") if d in dims)
    lv = _texture.check_levels(levels, n_levels, "glcm")
    dist = [int(d) for d in distances]
    if not dist or min(dist) < 1:
        raise ValueError(f"glcm: distances must be integers >= 1, got {distances!r}")
    if n_levels == 0 or not lv.any():
        return _texture.nan_result(FEATURES, dims, directional=True)

    def symmetric(in_plane, per_slice):
        dirs = _texture.directions(in_plane)
        offsets = np.concatenate([d * dirs for d in dist])
        m = _glcm_kernel(lv, offsets, int(n_levels), per_slice)
        m = m.reshape(m.shape[0], len(dist), len(dirs), n_levels, n_levels).sum(axis=1)
        return m + m.swapaxes(-1, -2)

    mats_2d = symmetric(True, True) if ("2D" in dims or "2.5D" in dims) else None
    mats_3d = symmetric(False, False)[0] if "3D" in dims else None

    def fn(mats):
        return glcm_features(mats, n_levels)

    values = _texture.aggregate_directional(mats_2d, mats_3d, fn, len(FEATURES))
    order = [s for d in dims for s in _texture.SUFFIXES_DIRECTIONAL[d]]
    return _texture.tagged(FEATURES, values, order)


def compute(roi) -> dict[str, float]:
    """Family entry point: IBSI GLCM features of the ROI for ``roi.settings.texture_dims``."""
    return glcm_ibsi(_texture.roi_arrays(roi)[0], roi.n_levels, _texture.texture_dims(roi), roi.settings.distances)
