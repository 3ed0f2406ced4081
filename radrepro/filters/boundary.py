"""Boundary conditions of IBSI 2 (zero, nearest, periodic, mirror) in one place.

IBSI 2 names four ways to extend an image beyond its edge before filtering. They map onto
scipy.ndimage modes and numpy.pad modes as follows (IBSI 2 reference manual, section on padding;
checked against the reference maps of tests 1.a.1-1.a.4 and 2.b):

==========  ==============================  ===================  ==============
IBSI        value outside the image         scipy.ndimage mode   numpy.pad mode
==========  ==============================  ===================  ==============
zero        0                               ``constant`` (0)     ``constant``
nearest     the nearest edge voxel          ``nearest``          ``edge``
periodic    the image wraps around          ``wrap``             ``wrap``
mirror      reflection repeating the edge   ``reflect``          ``symmetric``
==========  ==============================  ===================  ==============

IBSI's *mirror* repeats the edge voxel (``... c b a | a b c ...``): that is scipy's ``reflect`` and
numpy's ``symmetric``, not scipy's ``mirror`` (which leaves the edge voxel out and fails test 2.b
by 2.1 % of its range).

Filters work on arrays in IBSI axis order ``(i, j, k)``; :func:`to_ijk` / :func:`from_ijk` turn
radrepro's ``(z, y, x)`` arrays (SimpleITK order) into that order and back (views, no copies).
"""

from __future__ import annotations

import numpy as np

from radrepro.errors import SettingsError

BOUNDARIES = ("zero", "nearest", "periodic", "mirror")
NDIMAGE_MODES = {"zero": "constant", "nearest": "nearest", "periodic": "wrap", "mirror": "reflect"}
NUMPY_MODES = {"zero": "constant", "nearest": "edge", "periodic": "wrap", "mirror": "symmetric"}


def check_boundary(boundary: str) -> str:
    """``boundary`` if it is one of :data:`BOUNDARIES`, else a SettingsError."""
    if boundary not in BOUNDARIES:
        raise SettingsError(f"filter boundary condition {boundary!r} is not valid", "use one of: " + ", ".join(BOUNDARIES))
    return boundary


def ndimage_mode(boundary: str) -> str:
    """The scipy.ndimage ``mode`` of an IBSI boundary condition."""
    return NDIMAGE_MODES[check_boundary(boundary)]


def pad(array: np.ndarray, width: int | tuple[int, ...], boundary: str, axes: tuple[int, ...]) -> np.ndarray:
    """``array`` extended by ``width`` voxels on both sides of each of ``axes`` with ``boundary``.

    ``width`` may exceed the axis length; the extension then repeats (periodic) or reflects again
    (mirror), as numpy.pad does.
    """
    widths = (width,) * len(axes) if isinstance(width, (int, np.integer)) else tuple(width)
    spec = [(0, 0)] * array.ndim
    for ax, w in zip(axes, widths):
        spec[ax] = (int(w), int(w))
    return np.pad(array, spec, mode=NUMPY_MODES[check_boundary(boundary)])


def crop(array: np.ndarray, width: int | tuple[int, ...], axes: tuple[int, ...]) -> np.ndarray:
    """Undo :func:`pad`: remove ``width`` voxels on both sides of each of ``axes``."""
    widths = (width,) * len(axes) if isinstance(width, (int, np.integer)) else tuple(width)
    index = [slice(None)] * array.ndim
    for ax, w in zip(axes, widths):
        index[ax] = slice(int(w), array.shape[ax] - int(w))
    return array[tuple(index)]


def to_ijk(array_zyx: np.ndarray) -> np.ndarray:
    """A ``(z, y, x)`` array (SimpleITK order) as an ``(i, j, k)`` = ``(x, y, z)`` view."""
    return np.asarray(array_zyx).transpose(2, 1, 0)


def from_ijk(array_ijk: np.ndarray) -> np.ndarray:
    """An ``(i, j, k)`` array back in ``(z, y, x)`` order (C-contiguous copy)."""
    return np.ascontiguousarray(array_ijk.transpose(2, 1, 0))


def filter_axes(dims: str) -> tuple[int, ...]:
    """The ``(i, j, k)`` axes a filter acts along: ``(0, 1, 2)`` for ``3D``, ``(0, 1)`` for ``2D`` (i-j planes)."""
    if dims == "3D":
        return (0, 1, 2)
    if dims == "2D":
        return (0, 1)
    raise SettingsError(f"filter dimensionality {dims!r} is not valid", "use '2D' (each axial i-j plane) or '3D'")


def separable_convolve(array: np.ndarray, kernels: dict[int, np.ndarray], boundary: str) -> np.ndarray:
    """True convolution with a separable kernel: 1D kernel ``kernels[axis]`` along each given axis.

    Alignment: for a kernel ``h`` of length ``N`` the response at ``x`` is
    ``sum_n h[n] f(x + floor(N/2) - n)``, i.e. tap ``floor(N/2)`` sits on the output voxel (the usual
    centre for odd ``N``; for even-length wavelet filters this is the alignment IBSI 2's reference
    maps of test 5.a.1 need). ``scipy.ndimage.convolve1d`` with ``origin=0`` is exactly this
    convolution for every length (checked against an explicit shifted-sum implementation in
    ``tests/test_filters.py``), with the boundary modes of :data:`NDIMAGE_MODES`.
    """
    from scipy import ndimage

    mode = ndimage_mode(boundary)
    out = np.asarray(array, dtype=np.float64)
    for axis, h in kernels.items():
        out = ndimage.convolve1d(out, np.asarray(h, dtype=np.float64), axis=axis, mode=mode, cval=0.0, origin=0)
    return out
