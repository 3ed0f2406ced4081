"""pyradiomics ``ngtdm``: neighbouring grey tone difference matrix.

For each ROI voxel of level i, A is the mean level of its ROI neighbours (pyradiomics' angles, both
directions, Chebyshev distances in ``distances``); ``s_i`` sums ``|i - A|`` and ``n_i`` counts the
voxels. Unlike IBSI (and radrepro's :func:`radrepro.features.ngtdm.ngtdm_matrices`), pyradiomics
counts a voxel without ROI neighbours in ``n_i`` (adding 0 to ``s_i``): the IBSI kernel's count of
such voxels (:func:`radrepro.features.ngtdm.ngtdm_isolated`) is added back.
"""

from __future__ import annotations

import numpy as np

from radrepro.conventions._pyradiomics.common import ClassInput, selected
from radrepro.features.ngtdm import ngtdm_isolated, ngtdm_sums

NAME = "ngtdm"
FEATURES = {n: "enabled" for n in ("Busyness", "Coarseness", "Complexity", "Contrast", "Strength")}


def ngtdm_counts(levels: np.ndarray, offsets: np.ndarray, n_levels: int) -> tuple[np.ndarray, np.ndarray]:
    """``(s, n)`` per grey level 1..n_levels, pyradiomics' way (voxels without neighbours counted in n).

    Parameters
    ----------
    levels
        Grey levels ``(z, y, x)``, 1..n_levels inside the ROI, 0 outside.
    offsets
        The neighbourhood ``(n, 3)`` as ``(dz, dy, dx)`` (both directions).
    """
    s, n, isolated = ngtdm_isolated(levels, offsets, n_levels)
    return s, n + isolated


def compute(data: ClassInput, names=None) -> dict[str, float]:
    """NGTDM features (pyradiomics 3.0.1 definitions, with its values for empty divisions)."""
    s, n = ngtdm_counts(data.levels, data.angles(bidirectional=True), data.n_levels)
    nv, ngp, sum_ps, sum_s, contrast, abs_diff, complexity, strength = ngtdm_sums(np.stack([s, n])[None])[0]
    div = ngp * (ngp - 1)
    values = {
        "Coarseness": 1 / sum_ps if sum_ps != 0 else 1e6,
        "Contrast": contrast * sum_s / nv / div if div != 0 else 0.0,
        "Busyness": sum_ps / abs_diff if abs_diff != 0 else 0.0,
        "Complexity": complexity / nv,
        "Strength": strength / sum_s if sum_s != 0 else 0.0,
    }
    return {k: float(values[k]) for k in selected(FEATURES, names, NAME)}
