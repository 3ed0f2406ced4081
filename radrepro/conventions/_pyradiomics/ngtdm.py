"""pyradiomics ``ngtdm``: neighbouring grey tone difference matrix.

For each ROI voxel of level i, A is the mean level of its ROI neighbours (pyradiomics' angles, both
directions, Chebyshev distances in ``distances``); ``s_i`` sums ``|i - A|`` and ``n_i`` counts the
voxels. Unlike IBSI (and radrepro's :func:`radrepro.features.ngtdm.ngtdm_matrices`), pyradiomics
counts a voxel without ROI neighbours in ``n_i`` (adding 0 to ``s_i``): the IBSI kernel's count of
such voxels (:func:`radrepro.features.ngtdm.ngtdm_isolated`) is added back.
"""

from __future__ import annotations

import numpy as np

from radrepro._numba import jit
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
    values = _features_kernel(np.ascontiguousarray(s, dtype=np.float64), n.astype(np.float64)).tolist()
    values = dict(zip(_ORDER, values))
    return {k: values[k] for k in selected(FEATURES, names, NAME)}


_ORDER = ("Coarseness", "Contrast", "Busyness", "Complexity", "Strength")


@jit
def _features_kernel(s, n):
    """pyradiomics' five NGTDM features (in :data:`_ORDER`) of the levels with voxels (n > 0), with
    its conventions for empty divisions; its Ng x Ng sums in one pass (all terms >= 0)."""
    levels = np.flatnonzero(n != 0)
    m = levels.shape[0]
    i = (levels + 1).astype(np.float64)
    nk = n[levels]
    sk = s[levels]
    nvp = 0.0
    for a in range(m):
        nvp += nk[a]
    p = nk / nvp
    ps = p * sk
    sum_ps = 0.0
    sum_s = 0.0
    for a in range(m):
        sum_ps += ps[a]
        sum_s += sk[a]
    ngp = float(m)
    contrast = 0.0
    absdiff = 0.0
    complexity = 0.0
    strength = 0.0
    for a in range(m):
        for b in range(m):
            d = i[a] - i[b]
            d2 = d * d
            contrast += p[a] * p[b] * d2
            absdiff += abs(i[a] * p[a] - i[b] * p[b])
            divisor = p[a] + p[b]
            if divisor == 0:
                divisor = 1.0
            complexity += abs(d) * (ps[a] + ps[b]) / divisor
            strength += (p[a] + p[b]) * d2
    out = np.empty(5)
    out[0] = 1 / sum_ps if sum_ps != 0 else 1e6
    div = ngp * (ngp - 1)
    out[1] = contrast * sum_s / nvp / div if div != 0 else 0.0
    out[2] = sum_ps / absdiff if absdiff != 0 else 0.0
    out[3] = complexity / nvp
    out[4] = strength / sum_s if sum_s != 0 else 0.0
    return out
