"""pyradiomics ``gldm``: grey level dependence matrix. A neighbour (pyradiomics' angles, both
directions, Chebyshev distances in ``distances``) depends on the centre voxel when its grey level
differs by at most ``gldm_a``. Counts come from radrepro's NGLDM kernel
(:func:`radrepro.features.ngldm.ngldm_matrices`)."""

from __future__ import annotations

import numpy as np

from radrepro.conventions._pyradiomics import _zone_like
from radrepro.conventions._pyradiomics.common import ClassInput, drop_empty_levels, selected
from radrepro.features.ngldm import ngldm_matrices

NAME = "gldm"
_RENAME = {
    "SmallDependenceEmphasis": "ShortRunEmphasis", "LargeDependenceEmphasis": "LongRunEmphasis",
    "GrayLevelNonUniformity": "GrayLevelNonUniformity",
    "DependenceNonUniformity": "RunLengthNonUniformity",
    "DependenceNonUniformityNormalized": "RunLengthNonUniformityNormalized",
    "GrayLevelVariance": "GrayLevelVariance", "DependenceVariance": "RunVariance",
    "DependenceEntropy": "RunEntropy", "LowGrayLevelEmphasis": "LowGrayLevelRunEmphasis",
    "HighGrayLevelEmphasis": "HighGrayLevelRunEmphasis",
    "SmallDependenceLowGrayLevelEmphasis": "ShortRunLowGrayLevelEmphasis",
    "SmallDependenceHighGrayLevelEmphasis": "ShortRunHighGrayLevelEmphasis",
    "LargeDependenceLowGrayLevelEmphasis": "LongRunLowGrayLevelEmphasis",
    "LargeDependenceHighGrayLevelEmphasis": "LongRunHighGrayLevelEmphasis",
}
FEATURES = {n: "enabled" for n in _RENAME}
FEATURES.update({"GrayLevelNonUniformityNormalized": "removed", "DependencePercentage": "removed"})
FEATURES = dict(sorted(FEATURES.items()))


def compute(data: ClassInput, names=None) -> dict[str, float]:
    """GLDM features (pyradiomics 3.0.1 definitions)."""
    ang = data.angles(bidirectional=True)
    P = ngldm_matrices(data.levels, ang, data.n_levels, data.settings.ngldm_alpha)[0].astype(np.float64)[None]
    P = drop_empty_levels(P, data.grey_levels, axes=(1,))
    j = np.arange(1, P.shape[2] + 1, dtype=np.float64)
    used = P.sum(axis=(0, 1)) != 0
    P, j = P[:, :, used], j[used]
    nz = P.sum(axis=(1, 2))
    nz[nz == 0] = 1
    values = _zone_like.features(P, data.grey_levels.astype(float), j, nz)
    return {k: float(values[_RENAME[k]][0]) for k in selected(FEATURES, names, NAME)}
