"""Right-angle rotations for rotation-invariant filtering (IBSI 2) and the pooling of responses.

In 3D the 24 rotations of the cube are every axis permutation combined with every set of index
flips whose determinant is +1; in 2D (i-j planes) the 4 in-plane rotations (0, 90, 180, 270
degrees). A rotation is a pair ``(perm, flips)``: :func:`rotate` transposes the array's axes by
``perm`` and then reverses the axes in ``flips`` (index ``i -> n - 1 - i``); :func:`unrotate` undoes it.
Rotating the kernel (Laws) or rotating the image and rotating the response back (wavelets) are
both built on these.
"""

from __future__ import annotations

import itertools

import numpy as np

from radrepro.errors import SettingsError

POOLINGS = ("max", "average", "min")


def _perm_sign(perm: tuple[int, ...]) -> int:
    sign = 1
    p = list(perm)
    for i in range(len(p)):
        while p[i] != i:
            j = p[i]
            p[i], p[j] = p[j], p[i]
            sign = -sign
    return sign


def rotations(dims: str) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """The right-angle rotations ``(perm, flips)`` of an ``(i, j, k)`` array: 24 in ``3D``, 4 in ``2D``.

    The identity comes first. In ``2D`` the permutations and flips touch axes 0 and 1 only.
    """
    axes = (0, 1, 2) if dims == "3D" else (0, 1)
    out = []
    for perm in itertools.permutations(axes):
        for flips in itertools.product((False, True), repeat=len(axes)):
            det = _perm_sign(perm) * (-1) ** sum(flips)
            if det == 1:
                full_perm = tuple(perm) + tuple(range(len(axes), 3))
                out.append((full_perm, tuple(a for a, f in zip(axes, flips) if f)))
    return out


def rotate(array: np.ndarray, rotation) -> np.ndarray:
    """``array`` rotated: axes transposed by ``perm``, then the axes in ``flips`` reversed."""
    perm, flips = rotation
    out = np.transpose(array, perm)
    if flips:
        out = np.flip(out, axis=flips)
    return out


def unrotate(array: np.ndarray, rotation) -> np.ndarray:
    """The inverse of :func:`rotate`."""
    perm, flips = rotation
    out = np.flip(array, axis=flips) if flips else array
    return np.transpose(out, np.argsort(perm))


class Pool:
    """Voxel-wise pooling of response maps (``max``, ``min`` or ``average``), one map at a time."""

    def __init__(self, pooling: str) -> None:
        if pooling not in POOLINGS:
            raise SettingsError(f"filter pooling {pooling!r} is not valid", "use one of: " + ", ".join(POOLINGS))
        self.pooling = pooling
        self.result: np.ndarray | None = None
        self.count = 0

    def add(self, response: np.ndarray, weight: int = 1) -> None:
        """Pool ``response`` in; for ``average`` it counts ``weight`` times."""
        r = np.asarray(response, dtype=np.float64)
        if self.pooling == "average" and weight != 1:
            r = r * weight
        if self.result is None:
            self.result = np.array(r, copy=True)
        elif self.pooling == "max":
            np.maximum(self.result, r, out=self.result)
        elif self.pooling == "min":
            np.minimum(self.result, r, out=self.result)
        else:
            self.result += r
        self.count += weight if self.pooling == "average" else 1

    def value(self) -> np.ndarray:
        if self.result is None:
            raise ValueError("Pool.value: no response was added")
        return self.result / self.count if self.pooling == "average" else self.result
