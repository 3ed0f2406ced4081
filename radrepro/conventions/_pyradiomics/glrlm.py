"""pyradiomics ``glrlm``: grey level run length matrices, one per angle, features averaged over angles.

Runs come from radrepro's kernel (:func:`radrepro.features.glrlm.glrlm_matrices`) along pyradiomics'
angles (distance 1, none along an axis where the box is one voxel thick, in-plane with ``force2D``).
``weightingNorm`` merges the angles with weights equal to the angle's length in mm in that norm.
"""

from __future__ import annotations

import numpy as np

from radrepro.conventions._pyradiomics import _zone_like
from radrepro.conventions._pyradiomics.common import ClassInput, drop_empty_levels, selected
from radrepro.conventions._pyradiomics.glcm import angle_weights
from radrepro.features.glrlm import glrlm_matrices

NAME = "glrlm"
FEATURES = {
    n: "enabled"
    for n in (
        "GrayLevelNonUniformity", "GrayLevelNonUniformityNormalized", "GrayLevelVariance",
        "HighGrayLevelRunEmphasis", "LongRunEmphasis", "LongRunHighGrayLevelEmphasis",
        "LongRunLowGrayLevelEmphasis", "LowGrayLevelRunEmphasis", "RunEntropy", "RunLengthNonUniformity",
        "RunLengthNonUniformityNormalized", "RunPercentage", "RunVariance", "ShortRunEmphasis",
        "ShortRunHighGrayLevelEmphasis", "ShortRunLowGrayLevelEmphasis",
    )
}


def compute(data: ClassInput, names=None) -> dict[str, float]:
    """GLRLM features (pyradiomics 3.0.1 definitions), averaged over angles."""
    s = data.settings
    ang = data.angles((1,))
    P = glrlm_matrices(data.levels, ang, data.n_levels)[0].astype(np.float64)  # (A, Ng, L)
    P = drop_empty_levels(P, data.grey_levels, axes=(1,))
    if s.weighting_norm is not None:
        w = angle_weights(ang, np.array(data.prepared.spacing[::-1]), s.weighting_norm, exponential=False)
        P = np.sum(P * w[:, None, None], 0, keepdims=True)
    n = P.sum(axis=(1, 2))
    if P.shape[0] > 1:
        keep = n != 0
        P, n = P[keep], n[keep]
    n[n == 0] = np.nan
    j = np.arange(1, P.shape[2] + 1, dtype=np.float64)
    used = P.sum(axis=(0, 1)) != 0
    P, j = P[:, :, used], j[used]
    i = data.grey_levels.astype(float)
    funcs = _zone_like.features(P, i, j, n)
    funcs["RunPercentage"] = lambda: n / np.sum(P.sum(1) * j[None, :], 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return {k: float(np.nanmean(funcs[k]())) for k in selected(FEATURES, names, NAME)}
