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
from radrepro.features.ngtdm import ngtdm_isolated

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
    """NGTDM features (pyradiomics 3.0.1 definitions)."""
    s, n = ngtdm_counts(data.levels, data.angles(bidirectional=True), data.n_levels)
    keep = n != 0
    s = s[keep]
    n = n[keep].astype(np.float64)
    i = np.arange(1, data.n_levels + 1, dtype=np.float64)[keep]
    nvp = np.sum(n)
    p = n / nvp
    ngp = float(np.sum(n > 0))
    ps = p * s
    sum_ps = np.sum(ps)
    sum_s = np.sum(s)
    di = i[:, None] - i[None, :]

    def coarseness():
        return 1 / sum_ps if sum_ps != 0 else 1e6

    def contrast():
        div = ngp * (ngp - 1)
        v = np.sum(p[:, None] * p[None, :] * di**2) * sum_s / nvp
        return v / div if div != 0 else 0.0

    def busyness():
        ip = i * p
        absdiff = np.sum(np.abs(ip[:, None] - ip[None, :]))
        return sum_ps / absdiff if absdiff != 0 else 0.0

    def complexity():
        divisor = p[:, None] + p[None, :]
        divisor[divisor == 0] = 1
        return np.sum(np.abs(di) * (ps[:, None] + ps[None, :]) / divisor) / nvp

    def strength():
        v = np.sum((p[:, None] + p[None, :]) * di**2)
        return v / sum_s if sum_s != 0 else 0.0

    funcs = {"Coarseness": coarseness, "Contrast": contrast, "Busyness": busyness,
             "Complexity": complexity, "Strength": strength}
    with np.errstate(divide="ignore", invalid="ignore"):
        return {k: float(funcs[k]()) for k in selected(FEATURES, names, NAME)}
