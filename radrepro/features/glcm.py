"""Grey level co-occurrence matrix features (IBSI 1, section 3.6; family LFYI).

For each direction ``m`` and distance ``delta`` (Chebyshev), the GLCM counts pairs of ROI voxels
``(v, v + delta m)`` by their grey levels; IBSI uses the symmetric matrix (pairs in direction ``m``
and ``-m``), i.e. ``M + M.T`` of the ordered-pair counts. Several distances are summed into one
matrix per direction. The 25 features are computed from each matrix and aggregated as in
:mod:`radrepro.features._texture`.
"""

from __future__ import annotations

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
    for z in range(nz):
        s = z if per_slice else 0
        for y in range(ny):
            for x in range(nx):
                a = levels[z, y, x]
                if a <= 0:
                    continue
                for d in range(nd):
                    zz = z + offsets[d, 0]
                    yy = y + offsets[d, 1]
                    xx = x + offsets[d, 2]
                    if zz < 0 or zz >= nz or yy < 0 or yy >= ny or xx < 0 or xx >= nx:
                        continue
                    b = levels[zz, yy, xx]
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


def _diagonal_sums(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """p_{x-y}(k), k = 0..Ng-1, and p_{x+y}(k), k = 2..2Ng, of a stack (B, Ng, Ng)."""
    ng = p.shape[1]
    diff = np.empty((p.shape[0], ng))
    diff[:, 0] = np.trace(p, axis1=1, axis2=2)
    for k in range(1, ng):
        diff[:, k] = np.trace(p, offset=k, axis1=1, axis2=2) + np.trace(p, offset=-k, axis1=1, axis2=2)
    flipped = p[:, :, ::-1]
    # anti-diagonal with i + j = s (1-based) has offset (Ng + 1 - s) in the flipped matrix
    summ = np.empty((p.shape[0], 2 * ng - 1))
    for idx, s in enumerate(range(2, 2 * ng + 1)):
        summ[:, idx] = np.trace(flipped, offset=ng + 1 - s, axis1=1, axis2=2)
    return diff, summ


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
    P = np.asarray(P, dtype=np.float64)
    ng = P.shape[1]
    nl = float(ng if n_levels is None else n_levels)
    p = P / P.sum(axis=(1, 2))[:, None, None]
    lv = np.arange(1, ng + 1, dtype=np.float64)
    i = lv[None, :, None]
    j = lv[None, None, :]
    px = p.sum(axis=2)
    py = p.sum(axis=1)
    mu_x = (px * lv).sum(axis=1)
    mu_y = (py * lv).sum(axis=1)
    var_x = (px * (lv - mu_x[:, None]) ** 2).sum(axis=1)
    var_y = (py * (lv - mu_y[:, None]) ** 2).sum(axis=1)
    pdiff, psum = _diagonal_sums(p)
    k_diff = np.arange(ng, dtype=np.float64)
    k_sum = np.arange(2, 2 * ng + 1, dtype=np.float64)

    def entropy(q, axes):
        return -(q * np.log2(q, out=np.zeros_like(q), where=q > 0)).sum(axis=axes)

    out = np.empty((P.shape[0], 25))
    out[:, 0] = p.max(axis=(1, 2))
    out[:, 1] = mu_x
    out[:, 2] = var_x
    hxy = entropy(p, (1, 2))
    out[:, 3] = hxy
    diff_avg = (pdiff * k_diff).sum(axis=1)
    out[:, 4] = diff_avg
    out[:, 5] = (pdiff * (k_diff - diff_avg[:, None]) ** 2).sum(axis=1)
    out[:, 6] = entropy(pdiff, 1)
    sum_avg = (psum * k_sum).sum(axis=1)
    out[:, 7] = sum_avg
    out[:, 8] = (psum * (k_sum - sum_avg[:, None]) ** 2).sum(axis=1)
    out[:, 9] = entropy(psum, 1)
    out[:, 10] = (p**2).sum(axis=(1, 2))
    out[:, 11] = (pdiff * k_diff**2).sum(axis=1)
    out[:, 12] = diff_avg
    out[:, 13] = (pdiff / (1.0 + k_diff)).sum(axis=1)
    out[:, 14] = (pdiff / (1.0 + k_diff / nl)).sum(axis=1)
    out[:, 15] = (pdiff / (1.0 + k_diff**2)).sum(axis=1)
    out[:, 16] = (pdiff / (1.0 + k_diff**2 / nl**2)).sum(axis=1)
    out[:, 17] = (pdiff[:, 1:] / k_diff[1:] ** 2).sum(axis=1)
    cov = (p * (i - mu_x[:, None, None]) * (j - mu_y[:, None, None])).sum(axis=(1, 2))
    sd = np.sqrt(var_x * var_y)
    out[:, 18] = np.where(sd > 0, cov / np.where(sd > 0, sd, 1.0), np.nan)
    out[:, 19] = (p * i * j).sum(axis=(1, 2))
    t = i + j - mu_x[:, None, None] - mu_y[:, None, None]
    out[:, 20] = (p * t**2).sum(axis=(1, 2))
    out[:, 21] = (p * t**3).sum(axis=(1, 2))
    out[:, 22] = (p * t**4).sum(axis=(1, 2))
    pxpy = px[:, :, None] * py[:, None, :]
    log_pxpy = np.log2(pxpy, out=np.zeros_like(pxpy), where=pxpy > 0)
    hx = entropy(px, 1)
    hxy1 = -(p * log_pxpy).sum(axis=(1, 2))
    hxy2 = -(pxpy * log_pxpy).sum(axis=(1, 2))
    out[:, 23] = np.where(hx > 0, (hxy - hxy1) / np.where(hx > 0, hx, 1.0), np.nan)
    out[:, 24] = np.sqrt(np.clip(1.0 - np.exp(-2.0 * (hxy2 - hxy)), 0.0, None))
    return out


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
    return glcm_ibsi(roi.levels, roi.n_levels, _texture.texture_dims(roi), roi.settings.distances)
