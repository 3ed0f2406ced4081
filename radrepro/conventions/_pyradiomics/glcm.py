"""pyradiomics ``glcm``: grey level co-occurrence matrices, one per angle, features averaged over angles.

Matrices come from radrepro's one-pass kernel (:func:`radrepro.features.glcm.glcm_matrices`) with
pyradiomics' angles; then, as pyradiomics does: grey levels absent from the ROI are dropped,
``symmetricalGLCM`` adds the transpose, ``weightingNorm`` merges the angles with weights
``exp(-d^2)`` (d the angle's length in mm in that norm), empty angles are dropped, each matrix is
normalised, and each feature is the mean of its per-angle values (NaN values left out).
"""

from __future__ import annotations

import numpy as np

from radrepro._numba import jit
from radrepro.conventions._pyradiomics.common import EPS, ClassInput, drop_empty_levels, selected
from radrepro.features.glcm import glcm_matrices

NAME = "glcm"
FEATURES = {
    "Autocorrelation": "enabled", "ClusterProminence": "enabled", "ClusterShade": "enabled",
    "ClusterTendency": "enabled", "Contrast": "enabled", "Correlation": "enabled", "DifferenceAverage": "enabled",
    "DifferenceEntropy": "enabled", "DifferenceVariance": "enabled", "Dissimilarity": "removed",
    "Homogeneity1": "removed", "Homogeneity2": "removed", "Id": "enabled", "Idm": "enabled", "Idmn": "enabled",
    "Idn": "enabled", "Imc1": "enabled", "Imc2": "enabled", "InverseVariance": "enabled", "JointAverage": "enabled",
    "JointEnergy": "enabled", "JointEntropy": "enabled", "MCC": "enabled", "MaximumProbability": "enabled",
    "SumAverage": "enabled", "SumEntropy": "enabled", "SumSquares": "enabled", "SumVariance": "removed",
}


def angle_weights(angles: np.ndarray, spacing_zyx: np.ndarray, norm: str, *, exponential: bool) -> np.ndarray:
    """pyradiomics' per-angle weights for ``weightingNorm`` (GLCM: ``exp(-d^2)``; GLRLM: ``d``)."""
    out = np.empty(len(angles))
    for k, a in enumerate(angles):
        step = np.abs(a) * spacing_zyx
        if norm == "infinity":
            d = max(step)
            out[k] = np.exp(-(d**2)) if exponential else d
        elif norm == "euclidean":
            out[k] = np.exp(-np.sum(step**2)) if exponential else np.sqrt(np.sum(step**2))
        elif norm == "manhattan":
            d = np.sum(step)
            out[k] = np.exp(-(d**2)) if exponential else d
        else:  # no_weighting
            out[k] = 1
    return out


@jit
def _mcc_q(P, px, py):
    """MCC's Q per angle, ``(G, G, A)``: Q[i, j] = sum_k P[i, k] P[j, k] / (px[i] py[k] + eps), added in
    k order exactly as pyradiomics' numpy loop adds them; terms with P[i, k] P[j, k] = 0 add +0 and
    are skipped, which leaves every sum bit-identical."""
    g = P.shape[0]
    na = P.shape[2]
    Q = np.zeros((g, g, na))
    rows = np.empty(g, dtype=np.int64)
    for a in range(na):
        for k in range(g):
            n = 0
            for i in range(g):
                if P[i, k, a] != 0.0:
                    rows[n] = i
                    n += 1
            for u in range(n):
                i = rows[u]
                denom = px[i, a] * py[k, a] + EPS
                for w in range(n):
                    j = rows[w]
                    Q[i, j, a] += (P[i, k, a] * P[j, k, a]) / denom
    return Q


def matrices(data: ClassInput) -> np.ndarray:
    """Normalised GLCMs in pyradiomics' layout ``(G, G, n_angles)`` over the G grey levels present.

    Built with the same numpy operations on the same memory layout as pyradiomics, so that the
    normalised matrices are bit-identical (MCC depends on the sign of eigenvalues near 0).
    """
    s = data.settings
    ang = data.angles()
    ng = data.n_levels
    if len(ang):
        counts = glcm_matrices(data.levels, ang, ng)[0]
    else:
        counts = np.zeros((0, ng, ng), dtype=np.int64)
    P = np.ascontiguousarray(counts.transpose(1, 2, 0), dtype=np.float64)  # (Ng, Ng, A)
    P = drop_empty_levels(P, data.grey_levels, axes=(0, 1))
    if s.glcm_symmetric:
        P += np.transpose(P, (1, 0, 2)).copy()
    if s.weighting_norm is not None:
        w = angle_weights(ang, np.array(data.prepared.spacing[::-1]), s.weighting_norm, exponential=True)
        P = np.sum(P * w[None, None, :], 2, keepdims=True)
    total = np.sum(P, (0, 1))
    if P.shape[2] > 1:
        keep = np.sum(total[None], 0) != 0
        P, total = P[:, :, keep], total[keep]
    total[total == 0] = np.nan
    P /= total[None, None, :]
    return P


def compute(data: ClassInput, names=None) -> dict[str, float]:
    """GLCM features (pyradiomics 3.0.1 definitions), averaged over angles."""
    P4 = matrices(data)[None]  # (1, G, G, A) as pyradiomics holds it
    P = P4[0].transpose(2, 0, 1)  # (A, G, G) view for the vectorised features
    ng = data.n_levels
    gl = data.grey_levels.astype("float")
    i = gl[None, :, None]
    j = gl[None, None, :]
    k_sum = np.arange(2, ng * 2 + 1, dtype="float")
    k_diff = np.arange(0, ng, dtype="float")
    # marginals summed as pyradiomics sums them (over a non-contiguous axis), as (A, G)
    px = P4.sum(2, keepdims=True)[0, :, 0, :].T
    py = P4.sum(1, keepdims=True)[0, 0, :, :].T
    ux = np.sum(i * P, (1, 2))
    uy = np.sum(j * P, (1, 2))
    flat = P.reshape(P.shape[0], -1)
    sum_idx = (gl[:, None] + gl[None, :]).ravel().astype(np.int64) - 2
    diff_idx = np.abs(gl[:, None] - gl[None, :]).ravel().astype(np.int64)
    p_sum = np.zeros((P.shape[0], k_sum.size))
    p_diff = np.zeros((P.shape[0], k_diff.size))
    for a in range(P.shape[0]):
        p_sum[a] = np.bincount(sum_idx, weights=flat[a], minlength=k_sum.size)
        p_diff[a] = np.bincount(diff_idx, weights=flat[a], minlength=k_diff.size)
    hxy = -np.sum(P * np.log2(P + EPS), (1, 2))
    uxy = (ux + uy)[:, None, None]
    t = (i + j) - uxy
    pxpy = px[:, :, None] * py[:, None, :]

    def mean(v):
        return np.nanmean(v)

    def correlation():
        sigx = np.sum(P * (i - ux[:, None, None]) ** 2, (1, 2)) ** 0.5
        sigy = np.sum(P * (j - uy[:, None, None]) ** 2, (1, 2)) ** 0.5
        corm = np.sum(P * (i - ux[:, None, None]) * (j - uy[:, None, None]), (1, 2))
        corr = corm / (sigx * sigy + EPS)
        corr[sigx * sigy == 0] = 1
        return mean(corr)

    def imc1():
        hx = -np.sum(px * np.log2(px + EPS), 1)
        hy = -np.sum(py * np.log2(py + EPS), 1)
        hxy1 = -np.sum(P * np.log2(pxpy + EPS), (1, 2))
        div = np.fmax(hx, hy)
        v = hxy - hxy1
        v[div != 0] /= div[div != 0]
        v[div == 0] = 0
        return mean(v)

    def imc2():
        hxy2 = -np.sum(pxpy * np.log2(pxpy + EPS), (1, 2))
        v = (1 - np.e ** (-2 * (hxy2 - hxy))) ** 0.5
        v[hxy2 == hxy] = 0
        return mean(v)

    def mcc():
        # pyradiomics' expression on its layout, for bit-identical Q: eigenvalues near 0 change sign
        # with the last bit, and the square root of a negative one is NaN (left out of the mean)
        # or, when another angle made the stack complex, imaginary (real part 0, averaged in)
        Q = _mcc_q(np.ascontiguousarray(P4[0]), np.ascontiguousarray(px.T), np.ascontiguousarray(py.T))[None]
        eig = np.linalg.eigvals(Q.transpose((0, 3, 1, 2)))
        eig.sort()
        if eig.shape[2] < 2:
            return 1.0
        return np.nanmean(np.sqrt(eig[:, :, -2]), 1).real[0]

    def diff_var():
        avg = np.sum(k_diff[None, :] * p_diff, 1, keepdims=True)
        return mean(np.sum(p_diff * (k_diff[None, :] - avg) ** 2, 1))

    funcs = {
        "Autocorrelation": lambda: mean(np.sum(P * (i * j), (1, 2))),
        "JointAverage": lambda: ux.mean(),
        "ClusterProminence": lambda: mean(np.sum(P * t**4, (1, 2))),
        "ClusterShade": lambda: mean(np.sum(P * t**3, (1, 2))),
        "ClusterTendency": lambda: mean(np.sum(P * t**2, (1, 2))),
        "Contrast": lambda: mean(np.sum(P * np.abs(i - j) ** 2, (1, 2))),
        "Correlation": correlation,
        "DifferenceAverage": lambda: mean(np.sum(k_diff[None, :] * p_diff, 1)),
        "DifferenceEntropy": lambda: mean(-np.sum(p_diff * np.log2(p_diff + EPS), 1)),
        "DifferenceVariance": diff_var,
        "JointEnergy": lambda: mean(np.sum(P**2, (1, 2))),
        "JointEntropy": lambda: mean(hxy),
        "Imc1": imc1,
        "Imc2": imc2,
        "Idm": lambda: mean(np.sum(p_diff / (1 + k_diff[None, :] ** 2), 1)),
        "MCC": mcc,
        "Idmn": lambda: mean(np.sum(p_diff / (1 + (k_diff[None, :] ** 2) / (ng**2)), 1)),
        "Id": lambda: mean(np.sum(p_diff / (1 + k_diff[None, :]), 1)),
        "Idn": lambda: mean(np.sum(p_diff / (1 + k_diff[None, :] / ng), 1)),
        "InverseVariance": lambda: mean(np.sum(p_diff[:, 1:] / k_diff[None, 1:] ** 2, 1)),
        "MaximumProbability": lambda: mean(np.amax(P, (1, 2))),
        "SumAverage": lambda: mean(np.sum(k_sum[None, :] * p_sum, 1)),
        "SumEntropy": lambda: mean(-np.sum(p_sum * np.log2(p_sum + EPS), 1)),
        "SumSquares": lambda: mean(np.sum(P * (i - ux[:, None, None]) ** 2, (1, 2))),
    }
    with np.errstate(divide="ignore", invalid="ignore"):
        return {n: float(funcs[n]()) for n in selected(FEATURES, names, NAME)}
