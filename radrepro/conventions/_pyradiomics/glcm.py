"""pyradiomics ``glcm``: grey level co-occurrence matrices, one per angle, features averaged over angles.

Matrices come from radrepro's one-pass kernel (:func:`radrepro.features.glcm.glcm_matrices`) with
pyradiomics' angles; then, as pyradiomics does: grey levels absent from the ROI are dropped,
``symmetricalGLCM`` adds the transpose, ``weightingNorm`` merges the angles with weights
``exp(-d^2)`` (d the angle's length in mm in that norm), empty angles are dropped, each matrix is
normalised, and each feature is the mean of its per-angle values (NaN values left out).

Every feature but MCC is made of the sums the IBSI features are made of
(:func:`radrepro.features.glcm.glcm_sums`, one numba pass per angle, with pyradiomics' grey levels
and its eps in the logarithms), in pyradiomics' formulas: sums in another order, so values agree to
rounding (~1e-14 relative). MCC needs the
second largest eigenvalue of a non-symmetric matrix Q per angle: it is taken from a symmetric
matrix similar to Q (``eigvalsh``, ~3x cheaper than pyradiomics' ``eigvals``), and from
pyradiomics' own expression where that eigenvalue is near 0.
"""

from __future__ import annotations

import numpy as np

from radrepro._numba import jit
from radrepro.conventions._pyradiomics.common import EPS, ClassInput, drop_empty_levels, selected
from radrepro.features.glcm import SUMS, glcm_matrices, glcm_sums

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
    P, total = _unnormalised(data)
    P /= total[None, None, :]
    return P


def _unnormalised(data: ClassInput) -> tuple[np.ndarray, np.ndarray]:
    """The matrices of :func:`matrices` before their division by ``total`` (NaN for an empty one)."""
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
    return P, total


def _angle_features(P: np.ndarray, gl: np.ndarray, ng: int) -> dict[str, np.ndarray]:
    """Every GLCM feature but MCC per angle of the unnormalised matrices ``P`` ``(G, G, A)`` (their
    counts divided by the counts' sum give pyradiomics' probabilities exactly), from the sums the
    IBSI features are made of (:func:`radrepro.features.glcm.glcm_sums`, with pyradiomics' grey
    levels and eps), in pyradiomics 3.0.1's formulas."""
    S = glcm_sums(P.transpose(2, 0, 1), ng, levels=gl, eps=EPS)  # each matrix divided by its sum
    c = {name: S[:, k] for k, name in enumerate(SUMS)}
    hxy = c["hxy"]
    sig = np.sqrt(c["var_x"]) * np.sqrt(c["var_y"])
    div = np.fmax(c["hx"], c["hy"])
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = np.where(sig == 0, 1.0, c["cov"] / (sig + EPS))
        imc1 = np.where(div == 0, 0.0, (hxy - c["hxy1"]) / div)
        imc2 = np.where(c["hxy2"] == hxy, 0.0, np.sqrt(1 - np.exp(-2 * (c["hxy2"] - hxy))))
    return {
        "Autocorrelation": c["auto_corr"], "JointAverage": c["mu_x"], "ClusterProminence": c["t4"],
        "ClusterShade": c["t3"], "ClusterTendency": c["t2"], "Contrast": c["contrast"], "Correlation": corr,
        "DifferenceAverage": c["diff_avg"], "DifferenceEntropy": c["diff_entr"], "DifferenceVariance": c["diff_var"],
        "JointEnergy": c["energy"], "JointEntropy": hxy, "Imc1": imc1, "Imc2": imc2, "Idm": c["inv_diff_mom"],
        "Idmn": c["inv_diff_mom_norm"], "Id": c["inv_diff"], "Idn": c["inv_diff_norm"],
        "InverseVariance": c["inv_var"], "MaximumProbability": c["joint_max"], "SumAverage": c["sum_avg"],
        "SumEntropy": c["sum_entr"], "SumSquares": c["var_x"],
    }


# MCC from the eigenvalues of the symmetric matrix similar to Q is used when the second largest
# is at least this large on every angle; below it (near 0, where the sign of pyradiomics' own
# eigenvalue depends on its last bits) pyradiomics' exact expression is evaluated instead.
_MCC_FAST_MIN = 1e-6


@jit
def _mcc_factors(P, px, py):
    """``W``, ``C`` ``(A, G, G)`` with ``W[a, i, k] = P[i, k] sqrt(px[i]) / (px[i] py[k] + eps)`` and
    ``C[a, j, k] = P[j, k] / sqrt(px[j])``: ``W C^T = D^(1/2) Q D^(-1/2)`` (D = diag(px)), a matrix
    similar to pyradiomics' MCC matrix Q (so with its eigenvalues)."""
    g = P.shape[0]
    na = P.shape[2]
    W = np.zeros((na, g, g))
    C = np.zeros((na, g, g))
    for a in range(na):
        for i in range(g):
            if px[i, a] == 0.0:
                continue
            r = np.sqrt(px[i, a])
            for k in range(g):
                p = P[i, k, a]
                if p != 0.0:
                    W[a, i, k] = p * r / (px[i, a] * py[k, a] + EPS)
                    C[a, i, k] = p / r
    return W, C


def _mcc(P: np.ndarray, px: np.ndarray, py: np.ndarray) -> float:
    """MCC averaged over angles, from ``P`` ``(G, G, A)`` and its marginals ``(G, A)``."""
    if P.shape[0] < 2:
        return 1.0
    if not np.isnan(P).any():
        # D^(1/2) Q D^(-1/2) is symmetric but for the eps in Q's denominators; that antisymmetric
        # rest moves the eigenvalues only to second order, so its symmetric part has Q's eigenvalues
        W, C = _mcc_factors(P, px, py)
        S = W @ C.transpose(0, 2, 1)
        eig = np.linalg.eigvalsh(S + S.transpose(0, 2, 1), UPLO="L") / 2
        second = eig[:, -2]
        if np.all(second >= _MCC_FAST_MIN):
            return float(np.mean(np.sqrt(second)))
    # pyradiomics' expression on its layout, for bit-identical Q: eigenvalues near 0 change sign
    # with the last bit, and the square root of a negative one is NaN (left out of the mean)
    # or, when another angle made the stack complex, imaginary (real part 0, averaged in)
    P4 = P[None]  # marginals summed as pyradiomics sums them (over a non-contiguous axis)
    px = np.ascontiguousarray(P4.sum(2, keepdims=True)[0, :, 0, :])
    py = np.ascontiguousarray(P4.sum(1, keepdims=True)[0, 0, :, :])
    Q = _mcc_q(np.ascontiguousarray(P), px, py)[None]
    eig = np.linalg.eigvals(Q.transpose((0, 3, 1, 2)))
    eig.sort()
    with np.errstate(invalid="ignore"):
        return float(np.nanmean(np.sqrt(eig[:, :, -2]), 1).real[0])


def compute(data: ClassInput, names=None) -> dict[str, float]:
    """GLCM features (pyradiomics 3.0.1 definitions), averaged over angles."""
    C, total = _unnormalised(data)
    per_angle = _angle_features(C, data.grey_levels.astype(np.float64), data.n_levels)
    P = C / total[None, None, :]
    wanted = selected(FEATURES, names, NAME)
    out = {}
    for n in wanted:
        if n == "MCC":
            out[n] = _mcc(P, np.ascontiguousarray(P.sum(1)), np.ascontiguousarray(P.sum(0)))
        else:
            v = per_angle[n]
            keep = ~np.isnan(v)
            out[n] = float(v[keep].sum() / keep.sum()) if keep.any() else np.nan
    return out
