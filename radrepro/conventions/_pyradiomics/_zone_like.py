"""The features pyradiomics' GLRLM, GLSZM and GLDM share, on a stack of matrices ``(B, G, J)``.

``i`` holds the grey levels present (rows), ``j`` the run lengths / zone sizes / dependence counts of
the columns kept and ``n`` the number of runs / zones / voxels per matrix. Each feature has one value
per matrix.

The sums are pyradiomics' (the same products, summed along the same axes, so the same values) but
taken for several features at once: features of a small case cost numpy's call overhead, not
arithmetic.
"""

from __future__ import annotations

import numpy as np

from radrepro.conventions._pyradiomics.common import EPS

# by their GLRLM names (the other classes rename them)
NAMES = (
    "ShortRunEmphasis", "LongRunEmphasis", "GrayLevelNonUniformity", "GrayLevelNonUniformityNormalized",
    "RunLengthNonUniformity", "RunLengthNonUniformityNormalized", "GrayLevelVariance", "RunVariance",
    "RunEntropy", "LowGrayLevelRunEmphasis", "HighGrayLevelRunEmphasis", "ShortRunLowGrayLevelEmphasis",
    "ShortRunHighGrayLevelEmphasis", "LongRunLowGrayLevelEmphasis", "LongRunHighGrayLevelEmphasis",
)

_sum = np.add.reduce


def _variance(m: np.ndarray, v: np.ndarray, n: np.ndarray) -> np.ndarray:
    """pyradiomics' grey level / run length variance of the marginal ``m`` (B, K) over values ``v``."""
    q = m / n[:, None]
    u = _sum(q * v, 1, keepdims=True)
    d = v - u
    return _sum(q * (d * d), 1)


def features(P: np.ndarray, i: np.ndarray, j: np.ndarray, n: np.ndarray) -> dict[str, np.ndarray]:
    """Values per matrix (``(B,)`` arrays) of the features in :data:`NAMES`."""
    B, G, J = P.shape
    pr = P.sum(1)  # (B, J)
    pg = P.sum(2)  # (B, G)
    i2 = i * i
    j2 = j * j
    with np.errstate(divide="ignore", invalid="ignore"):
        rows = np.empty((3, B, J))
        np.divide(pr, j2, out=rows[0])
        np.multiply(pr, j2, out=rows[1])
        np.multiply(pr, pr, out=rows[2])
        sre, lre, rln = _sum(rows, 2)
        cols = np.empty((3, B, G))
        np.multiply(pg, pg, out=cols[0])
        np.divide(pg, i2, out=cols[1])
        np.multiply(pg, i2, out=cols[2])
        gln, lgre, hgre = _sum(cols, 2)
        both = np.empty((5, B, G, J))
        ij2 = i2[:, None] * j2[None, :]
        np.divide(P, ij2, out=both[0])
        np.multiply(P, i2[:, None], out=both[1])
        np.divide(both[1], j2, out=both[1])
        np.multiply(P, j2, out=both[2])
        np.divide(both[2], i2[:, None], out=both[2])
        np.multiply(P, ij2, out=both[3])
        p = np.divide(P, n[:, None, None], out=both[4])
        np.multiply(p, np.log2(p + EPS), out=both[4])
        srlge, srhge, lrlge, lrhge, entropy = _sum(both, (2, 3))
        nn = n * n
        return {
            "ShortRunEmphasis": sre / n,
            "LongRunEmphasis": lre / n,
            "GrayLevelNonUniformity": gln / n,
            "GrayLevelNonUniformityNormalized": gln / nn,
            "RunLengthNonUniformity": rln / n,
            "RunLengthNonUniformityNormalized": rln / nn,
            "GrayLevelVariance": _variance(pg, i, n),
            "RunVariance": _variance(pr, j, n),
            "RunEntropy": -entropy,
            "LowGrayLevelRunEmphasis": lgre / n,
            "HighGrayLevelRunEmphasis": hgre / n,
            "ShortRunLowGrayLevelEmphasis": srlge / n,
            "ShortRunHighGrayLevelEmphasis": srhge / n,
            "LongRunLowGrayLevelEmphasis": lrlge / n,
            "LongRunHighGrayLevelEmphasis": lrhge / n,
        }


def voxels(P: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Number of voxels each matrix represents: the sum of the run lengths / zone sizes."""
    return _sum(P.sum(1) * j, 1)
