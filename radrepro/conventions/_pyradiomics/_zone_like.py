"""The features pyradiomics' GLRLM, GLSZM and GLDM share, on a stack of matrices ``(B, G, J)``.

``i`` holds the grey levels present (rows), ``j`` the run lengths / zone sizes / dependence counts of
the columns kept, ``n`` the number of runs / zones / voxels per matrix and ``np_`` the number of
voxels (for the percentage). Each returns one value per matrix.
"""

from __future__ import annotations

import numpy as np

from radrepro.conventions._pyradiomics.common import EPS


def features(P: np.ndarray, i: np.ndarray, j: np.ndarray, n: np.ndarray) -> dict[str, np.ndarray]:
    """Values per matrix, named by their GLRLM names (the other classes rename them)."""
    pr = P.sum(1)  # (B, J)
    pg = P.sum(2)  # (B, G)
    ii = i[None, :, None]
    jj = j[None, None, :]

    def glv():
        q = pg / n[:, None]
        u = np.sum(q * i[None, :], 1, keepdims=True)
        return np.sum(q * (i[None, :] - u) ** 2, 1)

    def jv():
        q = pr / n[:, None]
        u = np.sum(q * j[None, :], 1, keepdims=True)
        return np.sum(q * (j[None, :] - u) ** 2, 1)

    def entropy():
        p = P / n[:, None, None]
        return -np.sum(p * np.log2(p + EPS), (1, 2))

    return {
        "ShortRunEmphasis": lambda: np.sum(pr / j[None, :] ** 2, 1) / n,
        "LongRunEmphasis": lambda: np.sum(pr * j[None, :] ** 2, 1) / n,
        "GrayLevelNonUniformity": lambda: np.sum(pg**2, 1) / n,
        "GrayLevelNonUniformityNormalized": lambda: np.sum(pg**2, 1) / n**2,
        "RunLengthNonUniformity": lambda: np.sum(pr**2, 1) / n,
        "RunLengthNonUniformityNormalized": lambda: np.sum(pr**2, 1) / n**2,
        "GrayLevelVariance": glv,
        "RunVariance": jv,
        "RunEntropy": entropy,
        "LowGrayLevelRunEmphasis": lambda: np.sum(pg / i[None, :] ** 2, 1) / n,
        "HighGrayLevelRunEmphasis": lambda: np.sum(pg * i[None, :] ** 2, 1) / n,
        "ShortRunLowGrayLevelEmphasis": lambda: np.sum(P / (ii**2 * jj**2), (1, 2)) / n,
        "ShortRunHighGrayLevelEmphasis": lambda: np.sum(P * ii**2 / jj**2, (1, 2)) / n,
        "LongRunLowGrayLevelEmphasis": lambda: np.sum(P * jj**2 / ii**2, (1, 2)) / n,
        "LongRunHighGrayLevelEmphasis": lambda: np.sum(P * (jj**2 * ii**2), (1, 2)) / n,
    }
