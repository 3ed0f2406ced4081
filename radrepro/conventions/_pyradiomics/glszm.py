"""pyradiomics ``glszm``: grey level size zones, 26-connected (8-connected in-plane with ``force2D``,
zones of all slices in one matrix). Zones come from radrepro's union-find kernel
(:func:`radrepro.features._zones.zones`) with pyradiomics' angles as connectivity."""

from __future__ import annotations

import numpy as np

from radrepro.conventions._pyradiomics import _zone_like
from radrepro.conventions._pyradiomics.common import ClassInput, drop_empty_levels, selected
from radrepro.features import _zones

NAME = "glszm"
_RENAME = {
    "SmallAreaEmphasis": "ShortRunEmphasis", "LargeAreaEmphasis": "LongRunEmphasis",
    "GrayLevelNonUniformity": "GrayLevelNonUniformity",
    "GrayLevelNonUniformityNormalized": "GrayLevelNonUniformityNormalized",
    "SizeZoneNonUniformity": "RunLengthNonUniformity",
    "SizeZoneNonUniformityNormalized": "RunLengthNonUniformityNormalized",
    "GrayLevelVariance": "GrayLevelVariance", "ZoneVariance": "RunVariance", "ZoneEntropy": "RunEntropy",
    "LowGrayLevelZoneEmphasis": "LowGrayLevelRunEmphasis", "HighGrayLevelZoneEmphasis": "HighGrayLevelRunEmphasis",
    "SmallAreaLowGrayLevelEmphasis": "ShortRunLowGrayLevelEmphasis",
    "SmallAreaHighGrayLevelEmphasis": "ShortRunHighGrayLevelEmphasis",
    "LargeAreaLowGrayLevelEmphasis": "LongRunLowGrayLevelEmphasis",
    "LargeAreaHighGrayLevelEmphasis": "LongRunHighGrayLevelEmphasis",
}
FEATURES = {n: "enabled" for n in sorted([*_RENAME, "ZonePercentage"])}


def compute(data: ClassInput, names=None) -> dict[str, float]:
    """GLSZM features (pyradiomics 3.0.1 definitions)."""
    ang = data.angles((1,))
    level, size, _, _ = _zones.zones(data.levels, ang)
    ng = data.n_levels
    P, sizes = _zones.zone_matrices(level, size, np.zeros_like(level), 1, ng)
    P = drop_empty_levels(P.astype(np.float64), data.grey_levels, axes=(1,))
    j = sizes.astype(np.float64)
    nz = P.sum(axis=(1, 2))
    nz[nz == 0] = 1
    n_vox = _zone_like.voxels(P, j)
    n_vox[n_vox == 0] = 1
    values = _zone_like.features(P, data.grey_levels.astype(float), j, nz)
    values = {new: values[old] for new, old in _RENAME.items()}
    values["ZonePercentage"] = nz / n_vox
    return {k: float(values[k][0]) for k in selected(FEATURES, names, NAME)}
