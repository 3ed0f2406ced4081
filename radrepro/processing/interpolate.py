"""Interpolation to a new voxel spacing on the IBSI grid (IBSI 1, section 2.4).

The new grid is the IBSI *align grid centers* grid (3WE3): along each axis with ``n_a`` voxels of
spacing ``s_a``, the new grid has ``n_b = ceil(n_a s_a / s_b)`` voxels (026Q), and its first voxel
sits at the original grid coordinate ``(n_a - 1 - (s_b / s_a)(n_b - 1)) / 2`` (QCY4), so both grids
share their centre. Points outside the original grid take the value of the nearest boundary voxel
(IBSI recommends padding with the boundary intensities).

Interpolators: ``nearest``, ``linear`` (trilinear, or bilinear in-plane) and ``cubic`` (cubic
B-spline interpolation: the image is first turned into B-spline coefficients, then the spline is
evaluated at the new grid points). Masks are interpolated as 0/1 images and thresholded at the
partial-volume threshold (``>= threshold``, E8H9).

Arrays are indexed ``(z, y, x)``; spacings are ``(x, y, z)`` in mm, as SimpleITK gives them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from radrepro.errors import SettingsError

ORDERS = {"nearest": 0, "linear": 1, "cubic": 3}
# Extra original voxels kept around a cropped region before cubic B-spline prefiltering: the
# prefilter's influence decays as 0.268^d, so at 24 voxels it is below 1e-13 of the intensity range.
_SPLINE_MARGIN = 24


@dataclass(frozen=True)
class Grid:
    """An interpolation grid along the array axes ``(z, y, x)``.

    Attributes
    ----------
    shape
        Number of new voxels per axis.
    start, step
        New voxel ``k`` of an axis sits at original grid coordinate ``start + k * step``.
    spacing
        New voxel spacing ``(x, y, z)`` in mm.
    """

    shape: tuple[int, int, int]
    start: tuple[float, float, float]
    step: tuple[float, float, float]
    spacing: tuple[float, float, float]

    def coordinates(self, axis: int, lo: int = 0, hi: int | None = None) -> np.ndarray:
        """Original grid coordinates of new voxels ``lo..hi-1`` along ``axis``."""
        hi = self.shape[axis] if hi is None else hi
        return self.start[axis] + np.arange(lo, hi) * self.step[axis]


def axis_grid(n: int, spacing: float, new_spacing: float) -> tuple[int, float, float]:
    """IBSI grid along one axis: (number of new voxels, first position, step), original coordinates.

    Parameters
    ----------
    n
        Number of voxels along the axis of the original grid.
    spacing, new_spacing
        Original and new spacing in mm.

    Examples
    --------
    The IBSI example: 4 voxels of 3 mm to 2 mm gives 6 voxels; the first sits at -1/6 and the
    centre of both grids is at 1.5.

    >>> n, start, step = axis_grid(4, 3.0, 2.0)
    >>> n, round(start, 6), round(start + step * (n - 1) / 2, 6)
    (6, -0.166667, 1.5)
    """
    if n < 1 or not spacing > 0 or not new_spacing > 0:
        raise ValueError(f"axis_grid: need n >= 1 and positive spacings, got {n}, {spacing}, {new_spacing}")
    extent = n * spacing / new_spacing
    # a relative guard so that an extent that is an integer on paper is not rounded up by float noise
    n_new = max(1, math.ceil(extent - 1e-9 * max(1.0, extent)))
    step = new_spacing / spacing
    start = 0.5 * (n - 1 - step * (n_new - 1))
    return n_new, start, step


def ibsi_grid(shape_zyx: tuple[int, ...], spacing_xyz: tuple[float, ...], new_spacing_xyz: tuple[float, ...],
              in_plane: bool = False) -> Grid:
    """The IBSI interpolation grid of an image.

    Parameters
    ----------
    shape_zyx
        Array shape ``(z, y, x)`` of the original image.
    spacing_xyz, new_spacing_xyz
        Original and new spacing ``(x, y, z)`` in mm. A new spacing of 0 keeps that axis as it is.
    in_plane
        Interpolate in-plane only (IBSI 2D interpolation): the slice axis ``z`` is kept.
    """
    shape, start, step, spacing = [], [], [], []
    for axis in range(3):  # z, y, x
        xyz = 2 - axis
        n, s, s_new = int(shape_zyx[axis]), float(spacing_xyz[xyz]), float(new_spacing_xyz[xyz])
        if s_new == 0 or (in_plane and xyz == 2):
            shape.append(n), start.append(0.0), step.append(1.0), spacing.append(s)
            continue
        n_new, a, b = axis_grid(n, s, s_new)
        shape.append(n_new), start.append(a), step.append(b), spacing.append(s_new)
    return Grid(tuple(shape), tuple(start), tuple(step), (spacing[2], spacing[1], spacing[0]))


def interpolate(array: np.ndarray, grid: Grid, order: int, *, box: tuple[slice, ...] | None = None) -> np.ndarray:
    """Values of ``array`` at the points of ``grid`` (or of its sub-box ``box``), float64.

    Parameters
    ----------
    array
        The original image, ``(z, y, x)``.
    grid
        The new grid (see :func:`ibsi_grid`).
    order
        0 nearest neighbour, 1 (tri)linear, 3 cubic B-spline.
    box
        Slices of new-grid indices to compute (default: the whole grid). Only the original voxels
        that box needs are read, so a small box of a large image is fast.
    """
    if order not in (0, 1, 3):
        raise ValueError(f"interpolate: order must be 0, 1 or 3, not {order}")
    if box is None:
        box = tuple(slice(0, n) for n in grid.shape)
    lo_new = [b.start for b in box]
    out_shape = tuple(b.stop - b.start for b in box)
    # original voxels needed: the span of the box's coordinates plus the interpolator's support
    pad = {0: 1, 1: 1, 3: 2 + _SPLINE_MARGIN}[order]
    src = []
    for axis in range(3):
        first = grid.start[axis] + lo_new[axis] * grid.step[axis]
        last = grid.start[axis] + (box[axis].stop - 1) * grid.step[axis]
        a = max(int(math.floor(min(first, last))) - pad, 0)
        b = min(int(math.ceil(max(first, last))) + pad + 1, array.shape[axis])
        a = min(a, array.shape[axis] - 1)
        b = max(b, a + 1)
        src.append(slice(a, b))
    sub = np.ascontiguousarray(array[tuple(src)], dtype=np.float64)
    offset = [grid.start[axis] + lo_new[axis] * grid.step[axis] - src[axis].start for axis in range(3)]
    return ndimage.affine_transform(
        sub, np.asarray(grid.step), offset=offset, output_shape=out_shape, order=order,
        mode="nearest", prefilter=order > 1,
    )


def interpolation_order(name: str, setting: str) -> int:
    """Spline order of an interpolator name (``nearest``, ``linear``, ``cubic``)."""
    try:
        return ORDERS[name]
    except KeyError:
        raise SettingsError(f"setting '{setting}' = {name!r} is not valid", "use nearest, linear or cubic") from None


def mask_box(mask: np.ndarray, grid: Grid, margin: tuple[int, int, int]) -> tuple[slice, ...]:
    """New-grid box that holds every voxel the interpolated ``mask`` can cover, plus ``margin``.

    A new voxel can get a non-zero mask value from (tri)linear or nearest interpolation only when
    it lies within one original voxel of the mask's bounding box.
    """
    out = []
    for axis, idx in enumerate(occupied(mask)):
        lo, hi = int(idx[0]) - 1, int(idx[-1]) + 1
        n = grid.shape[axis]
        if n == mask.shape[axis] and grid.step[axis] == 1.0 and grid.start[axis] == 0.0:
            k_lo, k_hi = lo + 1, hi - 1  # axis not interpolated
        else:
            k_lo = math.floor((lo - grid.start[axis]) / grid.step[axis])
            k_hi = math.ceil((hi - grid.start[axis]) / grid.step[axis])
        out.append(slice(max(k_lo - margin[axis], 0), min(k_hi + margin[axis] + 1, n)))
    return tuple(out)


def occupied(mask: np.ndarray) -> list[np.ndarray]:
    """Per axis, the indices of the slices that hold a non-zero voxel (from projections: no index arrays)."""
    if mask.ndim != 3:
        return [np.flatnonzero(mask.any(axis=tuple(a for a in range(mask.ndim) if a != ax))) for ax in range(mask.ndim)]
    plane = mask.any(axis=0)
    return [np.flatnonzero(mask.any(axis=(1, 2))), np.flatnonzero(plane.any(axis=1)), np.flatnonzero(plane.any(axis=0))]
