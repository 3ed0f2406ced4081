"""pyradiomics ``glrlm``: grey level run length matrices, one per angle, features averaged over angles.

Runs come from radrepro's kernel (:func:`radrepro.features.glrlm.glrlm_matrices`) along pyradiomics'
angles (distance 1, none along an axis where the box is one voxel thick, in-plane with ``force2D``).
As in pyradiomics, an angle along which no line through the box holds two ROI voxels is emptied
(pyradiomics treats the ROI as flat for that angle) and so left out of the average.
``weightingNorm`` merges the angles with weights equal to the angle's length in mm in that norm.
"""

from __future__ import annotations

import numpy as np

from radrepro._numba import jit
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


@jit
def _has_line_with_two(levels, directions):
    """For each direction: does some line along it hold two ROI voxels (at any distance)?"""
    nz, ny, nx = levels.shape
    out = np.zeros(directions.shape[0], dtype=np.bool_)
    for d in range(directions.shape[0]):
        dz = directions[d, 0]
        dy = directions[d, 1]
        dx = directions[d, 2]
        found = False
        for z in range(nz):
            for y in range(ny):
                for x in range(nx):
                    if levels[z, y, x] <= 0:
                        continue
                    zz = z + dz
                    yy = y + dy
                    xx = x + dx
                    while 0 <= zz < nz and 0 <= yy < ny and 0 <= xx < nx:
                        if levels[zz, yy, xx] > 0:
                            found = True
                            break
                        zz += dz
                        yy += dy
                        xx += dx
                    if found:
                        break
                if found:
                    break
            if found:
                break
        out[d] = found
    return out


def compute(data: ClassInput, names=None) -> dict[str, float]:
    """GLRLM features (pyradiomics 3.0.1 definitions), averaged over angles."""
    s = data.settings
    ang = data.angles((1,))
    P = glrlm_matrices(data.levels, ang, data.n_levels)[0].astype(np.float64)  # (A, Ng, L)
    P[~_has_line_with_two(data.levels, ang)] = 0
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
    values = _zone_like.features(P, data.grey_levels.astype(float), j, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        values["RunPercentage"] = n / _zone_like.voxels(P, j)
        names = selected(FEATURES, names, NAME)
        return dict(zip(names, _nanmean_rows(np.array([values[k] for k in names], ndmin=2)).tolist()))


def _nanmean_rows(v: np.ndarray) -> np.ndarray:
    """``numpy.nanmean`` of each row (the same sum and count), in one call for all features."""
    nan = np.isnan(v)
    return np.add.reduce(np.where(nan, 0.0, v), 1) / np.add.reduce(~nan, 1, dtype=np.intp)
