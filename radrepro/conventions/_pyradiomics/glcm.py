"""pyradiomics ``glcm``: grey level co-occurrence matrices, one per angle, features averaged over angles.

Matrices come from radrepro's one-pass kernel (:func:`radrepro.features.glcm.glcm_matrices`) with
pyradiomics' angles; then, as pyradiomics does: grey levels absent from the ROI are dropped,
``symmetricalGLCM`` adds the transpose, ``weightingNorm`` merges the angles with weights
``exp(-d^2)`` (d the angle's length in mm in that norm), empty angles are dropped, each matrix is
normalised, and each feature is the mean of its per-angle values (NaN values left out).

Every feature but MCC comes from one numba pass per angle (:func:`_angle_features`): pyradiomics'
formulas summed in another order, so values agree to rounding (~1e-15 relative). MCC needs the
second largest eigenvalue of a non-symmetric matrix Q per angle: it is taken from a symmetric
matrix similar to Q (``eigvalsh``, ~3x cheaper than pyradiomics' ``eigvals``), and from
pyradiomics' own expression where that eigenvalue is near 0.
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


# per-angle feature columns of :func:`_angle_features` (MCC apart: it needs eigenvalues)
_COLUMNS = (
    "Autocorrelation", "JointAverage", "ClusterProminence", "ClusterShade", "ClusterTendency", "Contrast",
    "Correlation", "DifferenceAverage", "DifferenceEntropy", "DifferenceVariance", "JointEnergy", "JointEntropy",
    "Imc1", "Imc2", "Idm", "Idmn", "Id", "Idn", "InverseVariance", "MaximumProbability", "SumAverage",
    "SumEntropy", "SumSquares",
)
_COLUMN = {name: k for k, name in enumerate(_COLUMNS)}


@jit
def _angle_features(P, gl, ng):
    """Every GLCM feature but MCC for each angle of normalised matrices ``P`` ``(G, G, A)`` (pyradiomics
    3.0.1 formulas, in the order of :data:`_COLUMNS`), with the marginals ``px``, ``py`` ``(G, A)``.

    Terms with a zero probability add nothing and are skipped (their logarithm would be ``log2(eps)``
    times 0); an angle whose matrix is NaN (empty ROI pairs) gives NaN everywhere.
    """
    g = P.shape[0]
    na = P.shape[2]
    out = np.empty((na, len(_COLUMNS)))
    px = np.zeros((g, na))
    py = np.zeros((g, na))
    p_sum = np.empty(2 * ng - 1)
    p_diff = np.empty(ng)
    for a in range(na):
        ux = 0.0
        uy = 0.0
        auto = 0.0
        contrast = 0.0
        energy = 0.0
        hxy = 0.0
        top = -np.inf
        nan = False
        p_sum[:] = 0.0
        p_diff[:] = 0.0
        for i in range(g):
            for j in range(g):
                p = P[i, j, a]
                if p != p:
                    nan = True
                px[i, a] += p
                py[j, a] += p
                ux += gl[i] * p
                uy += gl[j] * p
                auto += p * gl[i] * gl[j]
                d = gl[i] - gl[j]
                contrast += p * d * d
                energy += p * p
                if p > top:
                    top = p
                if p != 0.0:
                    hxy -= p * np.log2(p + EPS)
                p_sum[int(gl[i] + gl[j]) - 2] += p
                p_diff[int(abs(d))] += p
        if nan:
            out[a, :] = np.nan
            continue
        u = ux + uy
        prom = 0.0
        shade = 0.0
        tend = 0.0
        varx = 0.0
        vary = 0.0
        cov = 0.0
        hxy1 = 0.0
        hxy2 = 0.0
        for i in range(g):
            for j in range(g):
                p = P[i, j, a]
                q = px[i, a] * py[j, a]
                if q != 0.0:
                    lq = np.log2(q + EPS)
                    hxy2 -= q * lq
                    if p != 0.0:
                        hxy1 -= p * lq
                if p == 0.0:
                    continue
                t = gl[i] + gl[j] - u
                t2 = t * t
                tend += p * t2
                shade += p * t2 * t
                prom += p * t2 * t2
                di = gl[i] - ux
                dj = gl[j] - uy
                varx += p * di * di
                vary += p * dj * dj
                cov += p * di * dj
        hx = 0.0
        hy = 0.0
        for i in range(g):
            if px[i, a] != 0.0:
                hx -= px[i, a] * np.log2(px[i, a] + EPS)
            if py[i, a] != 0.0:
                hy -= py[i, a] * np.log2(py[i, a] + EPS)
        sig = np.sqrt(varx) * np.sqrt(vary)
        corr = 1.0 if sig == 0.0 else cov / (sig + EPS)
        div = max(hx, hy)
        imc1 = 0.0 if div == 0.0 else (hxy - hxy1) / div
        imc2 = 0.0 if hxy2 == hxy else np.sqrt(1.0 - np.exp(-2.0 * (hxy2 - hxy)))
        d_avg = 0.0
        d_ent = 0.0
        idm = 0.0
        idmn = 0.0
        idd = 0.0
        idn = 0.0
        inv_var = 0.0
        for k in range(ng):
            p = p_diff[k]
            d_avg += k * p
            if p != 0.0:
                d_ent -= p * np.log2(p + EPS)
            idm += p / (1.0 + k * k)
            idmn += p / (1.0 + (k * k) / (ng * ng))
            idd += p / (1.0 + k)
            idn += p / (1.0 + k / ng)
            if k > 0:
                inv_var += p / (k * k)
        d_var = 0.0
        for k in range(ng):
            d_var += p_diff[k] * (k - d_avg) ** 2
        s_avg = 0.0
        s_ent = 0.0
        for k in range(2 * ng - 1):
            p = p_sum[k]
            s_avg += (k + 2) * p
            if p != 0.0:
                s_ent -= p * np.log2(p + EPS)
        out[a, 0] = auto
        out[a, 1] = ux
        out[a, 2] = prom
        out[a, 3] = shade
        out[a, 4] = tend
        out[a, 5] = contrast
        out[a, 6] = corr
        out[a, 7] = d_avg
        out[a, 8] = d_ent
        out[a, 9] = d_var
        out[a, 10] = energy
        out[a, 11] = hxy
        out[a, 12] = imc1
        out[a, 13] = imc2
        out[a, 14] = idm
        out[a, 15] = idmn
        out[a, 16] = idd
        out[a, 17] = idn
        out[a, 18] = inv_var
        out[a, 19] = top
        out[a, 20] = s_avg
        out[a, 21] = s_ent
        out[a, 22] = varx
    return out, px, py


@jit
def _nanmean_columns(values):
    """Mean of each column over its non-NaN rows (NaN when there are none), as ``numpy.nanmean(axis=0)``."""
    out = np.empty(values.shape[1])
    for c in range(values.shape[1]):
        s = 0.0
        n = 0
        for r in range(values.shape[0]):
            v = values[r, c]
            if v == v:
                s += v
                n += 1
        out[c] = s / n if n else np.nan
    return out


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
    P = matrices(data)
    gl = data.grey_levels.astype(np.float64)
    wanted = selected(FEATURES, names, NAME)
    per_angle, px, py = _angle_features(P, gl, data.n_levels)
    with np.errstate(invalid="ignore"):
        means = _nanmean_columns(per_angle)
    out = {}
    for n in wanted:
        out[n] = _mcc(P, px, py) if n == "MCC" else float(means[_COLUMN[n]])
    return out
