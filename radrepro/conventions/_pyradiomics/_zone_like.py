"""The features pyradiomics' GLRLM, GLSZM and GLDM share, on a stack of matrices ``(B, G, J)``.

``i`` holds the grey levels present (rows), ``j`` the run lengths / zone sizes / dependence counts of
the columns kept and ``n`` the number of runs / zones / voxels per matrix. Each feature has one value
per matrix.

pyradiomics' formulas are the IBSI ones these families share, so they come from the same numba
kernel (:func:`radrepro.features._texture.zone_like_features`), with pyradiomics' rows (the grey
levels present), its counts ``n`` and its ``eps`` in the entropy. The sums run in another order than
numpy's pairwise sums; all their terms have the same sign, so the values agree with pyradiomics' to
~1e-14 (relative).
"""

from __future__ import annotations

import numpy as np

from radrepro.conventions._pyradiomics.common import EPS
from radrepro.features._texture import zone_like_features

# by their GLRLM names (the other classes rename them), with their column in zone_like_features
NAMES = {
    "ShortRunEmphasis": 0, "LongRunEmphasis": 1, "GrayLevelNonUniformity": 8, "GrayLevelNonUniformityNormalized": 9,
    "RunLengthNonUniformity": 10, "RunLengthNonUniformityNormalized": 11, "GrayLevelVariance": 13,
    "RunVariance": 14, "RunEntropy": 15, "LowGrayLevelRunEmphasis": 2, "HighGrayLevelRunEmphasis": 3,
    "ShortRunLowGrayLevelEmphasis": 4, "ShortRunHighGrayLevelEmphasis": 5, "LongRunLowGrayLevelEmphasis": 6,
    "LongRunHighGrayLevelEmphasis": 7,
}


def features(P: np.ndarray, i: np.ndarray, j: np.ndarray, n: np.ndarray) -> dict[str, np.ndarray]:
    """Values per matrix (``(B,)`` arrays) of the features in :data:`NAMES`; a matrix whose ``n`` is
    NaN (pyradiomics' empty matrix) gives NaN."""
    values = zone_like_features(P, j, np.ones(len(n)), levels=i, counts=n, eps=EPS)
    values[np.isnan(n)] = np.nan
    return {name: values[:, col] for name, col in NAMES.items()}


def voxels(P: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Number of voxels each matrix represents: the sum of the run lengths / zone sizes."""
    return np.add.reduce(P.sum(1) * j, 1)
