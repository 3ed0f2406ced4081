"""The features pyradiomics' GLRLM, GLSZM and GLDM share, on a stack of matrices ``(B, G, J)``.

``i`` holds the grey levels present (rows), ``j`` the run lengths / zone sizes / dependence counts of
the columns kept and ``n`` the number of runs / zones / voxels per matrix. Each feature has one value
per matrix.

pyradiomics' formulas, summed in one pass over each matrix by a numba kernel (numpy's call overhead
was most of a small case's time). The sums run in another order than numpy's pairwise sums; all
their terms have the same sign, so the values agree with pyradiomics' to ~1e-14 (relative).
"""

from __future__ import annotations

import numpy as np

from radrepro._numba import jit
from radrepro.conventions._pyradiomics.common import EPS

# by their GLRLM names (the other classes rename them), in the kernel's order
NAMES = (
    "ShortRunEmphasis", "LongRunEmphasis", "GrayLevelNonUniformity", "GrayLevelNonUniformityNormalized",
    "RunLengthNonUniformity", "RunLengthNonUniformityNormalized", "GrayLevelVariance", "RunVariance",
    "RunEntropy", "LowGrayLevelRunEmphasis", "HighGrayLevelRunEmphasis", "ShortRunLowGrayLevelEmphasis",
    "ShortRunHighGrayLevelEmphasis", "LongRunLowGrayLevelEmphasis", "LongRunHighGrayLevelEmphasis",
)


def features(P: np.ndarray, i: np.ndarray, j: np.ndarray, n: np.ndarray) -> dict[str, np.ndarray]:
    """Values per matrix (``(B,)`` arrays) of the features in :data:`NAMES`; a matrix whose ``n`` is
    NaN (pyradiomics' empty matrix) gives NaN."""
    values = _features_kernel(
        np.ascontiguousarray(P, dtype=np.float64), np.ascontiguousarray(i, dtype=np.float64),
        np.ascontiguousarray(j, dtype=np.float64), np.ascontiguousarray(n, dtype=np.float64), EPS,
    )
    return dict(zip(NAMES, values))


def voxels(P: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Number of voxels each matrix represents: the sum of the run lengths / zone sizes."""
    return np.add.reduce(P.sum(1) * j, 1)


@jit
def _features_kernel(P, i, j, n, eps):
    """(15, B): the features of :data:`NAMES` for each matrix; zero cells add nothing and are skipped."""
    B, G, J = P.shape
    out = np.empty((15, B))
    for b in range(B):
        nb = n[b]
        pr = np.zeros(J)
        pg = np.zeros(G)
        s_ij = 0.0; s_hi = 0.0; s_lo = 0.0; s_hh = 0.0; ent = 0.0
        for g in range(G):
            ig2 = i[g] * i[g]
            for c in range(J):
                p = P[b, g, c]
                if p == 0.0:
                    continue
                jc2 = j[c] * j[c]
                pr[c] += p
                pg[g] += p
                ij2 = ig2 * jc2
                s_ij += p / ij2
                s_hi += p * ig2 / jc2
                s_lo += p * jc2 / ig2
                s_hh += p * ij2
                q = p / nb
                ent += q * np.log2(q + eps)
        sre = 0.0; lre = 0.0; rln = 0.0; ru = 0.0
        for c in range(J):
            jc2 = j[c] * j[c]
            sre += pr[c] / jc2
            lre += pr[c] * jc2
            rln += pr[c] * pr[c]
            ru += pr[c] / nb * j[c]
        rv = 0.0
        for c in range(J):
            d = j[c] - ru
            rv += pr[c] / nb * (d * d)
        gln = 0.0; lg = 0.0; hg = 0.0; gu = 0.0
        for g in range(G):
            ig2 = i[g] * i[g]
            gln += pg[g] * pg[g]
            lg += pg[g] / ig2
            hg += pg[g] * ig2
            gu += pg[g] / nb * i[g]
        gv = 0.0
        for g in range(G):
            d = i[g] - gu
            gv += pg[g] / nb * (d * d)
        nn = nb * nb
        out[0, b] = sre / nb
        out[1, b] = lre / nb
        out[2, b] = gln / nb
        out[3, b] = gln / nn
        out[4, b] = rln / nb
        out[5, b] = rln / nn
        out[6, b] = gv
        out[7, b] = rv
        out[8, b] = -ent if nb == nb else np.nan
        out[9, b] = lg / nb
        out[10, b] = hg / nb
        out[11, b] = s_ij / nb
        out[12, b] = s_hi / nb
        out[13, b] = s_lo / nb
        out[14, b] = s_hh / nb
    return out
