"""The processed region of interest that feature families read, and the IBSI processing that makes it."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import SimpleITK as sitk

from radrepro._numba import jit
from radrepro.errors import InputError
from radrepro.processing.discretise import discretise
from radrepro.processing.interpolate import ibsi_grid, interpolate, interpolation_order, mask_box, occupied
from radrepro.processing.resegment import range_bounds, resegment
from radrepro.settings import Settings

# Radius of the 1 cm^3 sphere of the local intensity features, in mm (IBSI 1, section 3.2).
LOCAL_RADIUS_MM = (3.0 / (4.0 * math.pi)) ** (1.0 / 3.0) * 10.0
# Partial-volume fractions that are exactly the threshold on paper (e.g. 0.5 halfway between two
# slices) come out of floating-point interpolation as 0.4999999999999999 or 0.5000000000000001
# depending on the order of operations; they count as reaching the threshold.
PV_TOLERANCE = 1e-9


@dataclass
class ROI:
    """An image and its masks after IBSI processing, cropped around the ROI.

    Arrays are indexed ``(z, y, x)`` as SimpleITK's ``GetArrayFromImage`` returns them. Feature
    families read these fields only; their names and meanings are stable.

    Attributes
    ----------
    image
        Processed intensities (float64): interpolated and rounded, *not* re-segmented, so voxels
        outside the masks keep their intensities (local intensity features need them). Cropped to
        the bounding box of the morphological mask plus :attr:`margin` voxels on every side where
        the image has them.
    morph_mask
        Morphological mask (bool): after interpolation, before re-segmentation. Never empty.
    int_mask
        Intensity mask (bool): after re-segmentation; intensity and texture families use it. It
        may be empty (everything re-segmented away); families then return NaN.
    spacing
        Voxel spacing ``(x, y, z)`` in mm.
    levels
        Discretised grey levels (int32): ``1..n_levels`` inside ``int_mask``, 0 outside.
    n_levels
        Number of grey levels: ``bin_count`` for fixed bin number, the highest level present for
        fixed bin size, 0 for an empty intensity mask.
    bin_edges_low, bin_width
        Lower edge of bin 1 and the bin width in intensity units (fixed bin number: range / N).
    settings
        The settings that made this ROI (texture families read ``texture_dims``, ``distances``,
        ``ngldm_alpha``).
    reseg_bounds
        The re-segmentation range ``(low, high)`` in intensity units (``None`` for an open side),
        without the outlier filter: the IVH range and the fixed-bin-size origin come from it.
    margin
        Voxels kept around the morphological mask's bounding box per axis ``(z, y, x)`` (at
        least the radius of the local-intensity sphere; fewer where the image ends).
    diagnostics
        IBSI diagnostic values by reference tag (``img_dim_x_init_img``, ...,
        ``int_mask_max_int_reseg_roi``) when :func:`prepare` was asked for them, else empty.
    shared
        Intermediate results that several families read, computed by the first that needs them
        (texture arrays cropped to the morphological mask, :func:`radrepro.features._texture.roi_arrays`;
        the zones of GLSZM and GLDZM, :func:`radrepro.features._zones.roi_zones`). Not an
        argument: every ROI starts with its own empty one, also one made by
        ``dataclasses.replace`` (whose levels or masks may differ).
    """

    image: np.ndarray
    morph_mask: np.ndarray
    int_mask: np.ndarray
    spacing: tuple[float, float, float]
    levels: np.ndarray
    n_levels: int
    bin_edges_low: float
    bin_width: float
    settings: Settings
    reseg_bounds: tuple[float | None, float | None] = (None, None)
    margin: tuple[int, int, int] = (0, 0, 0)
    diagnostics: dict[str, float] = field(default_factory=dict)
    shared: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def values(self) -> np.ndarray:
        """Intensities of the voxels in the intensity mask (1D, float64)."""
        return self.image[self.int_mask]

    @property
    def voxel_volume(self) -> float:
        sx, sy, sz = self.spacing
        return sx * sy * sz


def bounding_box(mask: np.ndarray, margin: int | tuple[int, ...] = 0) -> tuple[slice, ...]:
    """Slices of the smallest box holding every True voxel, grown by ``margin`` (clipped)."""
    margins = (margin,) * mask.ndim if isinstance(margin, int) else tuple(margin)
    return _grown(tuple(slice(int(i[0]), int(i[-1]) + 1) for i in occupied(mask)), margins, mask.shape)


def _grown(box: tuple[slice, ...], margin, shape) -> tuple[slice, ...]:
    """``box`` grown by ``margin`` voxels per axis, clipped to ``shape``."""
    return tuple(slice(max(b.start - m, 0), min(b.stop + m, n)) for b, m, n in zip(box, margin, shape))


@jit
def _label_stats_kernel(mask, label):
    """One pass: number of voxels equal to ``label`` and their box ``[z0, z1, y0, y1, x0, x1]``
    (inclusive; ``[nz, -1, ny, -1, nx, -1]`` when there is none)."""
    nz, ny, nx = mask.shape
    count = 0
    box = np.array([nz, -1, ny, -1, nx, -1], dtype=np.int64)
    for z in range(nz):
        for y in range(ny):
            row = 0
            for x in range(nx):  # a branch-free count, vectorised, for the many empty rows
                row += mask[z, y, x] == label
            if row == 0:
                continue
            first = 0
            while mask[z, y, first] != label:
                first += 1
            last = nx - 1
            while mask[z, y, last] != label:
                last -= 1
            count += row
            box[0] = min(box[0], z)
            box[1] = z
            box[2] = min(box[2], y)
            box[3] = max(box[3], y)
            box[4] = min(box[4], first)
            box[5] = max(box[5], last)
    return count, box


def label_stats(mask: np.ndarray, label: float) -> tuple[int, np.ndarray]:
    """``(count, box)`` of the voxels of a 3D ``mask`` equal to ``label``, in one pass without
    temporary arrays; ``box`` as ``[z0, z1, y0, y1, x0, x1]`` (inclusive)."""
    return _label_stats_kernel(np.ascontiguousarray(mask), label)


@jit
def _has_label_kernel(mask, label):
    nz, ny, nx = mask.shape
    for z in range(nz):
        for y in range(ny):
            hits = 0
            for x in range(nx):
                hits += mask[z, y, x] == label
            if hits:
                return True
    return False


def has_label(mask: np.ndarray, label: float) -> bool:
    """Whether ``mask`` (2D or 3D) has a voxel equal to ``label``; stops at the first row with one."""
    m = np.ascontiguousarray(mask)
    if m.ndim not in (2, 3):
        return bool((m == label).any())
    return bool(_has_label_kernel(m if m.ndim == 3 else m.reshape((1,) + m.shape), label))


def label_box(mask: np.ndarray, label: float) -> tuple[slice, ...] | None:
    """Slices of the smallest box holding every voxel of ``mask`` (2D or 3D) equal to ``label``,
    in one pass without temporary arrays; ``None`` when there is none."""
    m = np.ascontiguousarray(mask)
    if m.ndim not in (2, 3):
        hit = m == label
        return bounding_box(hit) if hit.any() else None
    count, b = label_stats(m if m.ndim == 3 else m.reshape((1,) * (3 - m.ndim) + m.shape), label)
    if count == 0:
        return None
    box = (slice(int(b[0]), int(b[1]) + 1), slice(int(b[2]), int(b[3]) + 1), slice(int(b[4]), int(b[5]) + 1))
    return box[3 - m.ndim :]


def local_margin(spacing_xyz: tuple[float, float, float]) -> tuple[int, int, int]:
    """Voxels per axis ``(z, y, x)`` that the local-intensity sphere reaches beyond its centre."""
    return tuple(int(math.ceil(LOCAL_RADIUS_MM / s)) for s in reversed(spacing_xyz))


def _as_volume(img: sitk.Image, what: str) -> tuple[np.ndarray, tuple[float, float, float]]:
    """A (z, y, x) array and (x, y, z) spacing; a 2D image is one slice of thickness 1 mm."""
    dim = img.GetDimension()
    arr = sitk.GetArrayViewFromImage(img)
    if dim == 3:
        return arr, tuple(float(s) for s in img.GetSpacing())
    if dim == 2:
        sx, sy = img.GetSpacing()
        return arr[np.newaxis], (float(sx), float(sy), 1.0)
    raise InputError(f"{what} is {dim}D", "use a 2D or 3D image")


def _box_stats(suffix: str, arr: np.ndarray, spacing) -> dict[str, float]:
    nz, ny, nx = arr.shape
    return {
        f"img_dim_x_{suffix}": nx, f"img_dim_y_{suffix}": ny, f"img_dim_z_{suffix}": nz,
        f"vox_dim_x_{suffix}": spacing[0], f"vox_dim_y_{suffix}": spacing[1], f"vox_dim_z_{suffix}": spacing[2],
        f"mean_int_{suffix}": float(arr.mean()), f"min_int_{suffix}": float(arr.min()), f"max_int_{suffix}": float(arr.max()),
    }


def _roi_stats(suffix: str, shape, image: np.ndarray, morph: np.ndarray, intensity: np.ndarray) -> dict[str, float]:
    out = {f"int_mask_dim_x_{suffix}": shape[2], f"int_mask_dim_y_{suffix}": shape[1], f"int_mask_dim_z_{suffix}": shape[0]}
    for name, m in (("int_mask", intensity), ("morph_mask", morph)):
        if m.any():
            box = bounding_box(m)
            dz, dy, dx = (b.stop - b.start for b in box)
        else:
            dz = dy = dx = 0
        out.update({f"{name}_bb_dim_x_{suffix}": dx, f"{name}_bb_dim_y_{suffix}": dy, f"{name}_bb_dim_z_{suffix}": dz})
    out[f"int_mask_vox_count_{suffix}"] = int(intensity.sum())
    out[f"morph_mask_vox_count_{suffix}"] = int(morph.sum())
    v = image[intensity]
    nan = float("nan")
    out[f"int_mask_mean_int_{suffix}"] = float(v.mean()) if v.size else nan
    out[f"int_mask_min_int_{suffix}"] = float(v.min()) if v.size else nan
    out[f"int_mask_max_int_{suffix}"] = float(v.max()) if v.size else nan
    return {k: float(val) for k, val in out.items()}


def prepare(
    image: sitk.Image, mask: sitk.Image, settings: Settings, *, diagnostics: bool = False, label: int | None = None
) -> ROI:
    """Apply IBSI processing to a checked image/mask pair (see :func:`radrepro.case.load_pair`).

    Steps, in IBSI order: interpolation of image and mask to ``settings.spacing`` on the IBSI grid
    (when set), intensity rounding, partial-volume threshold of the mask, filtering of the whole
    image (``settings.filter``, IBSI 2), re-segmentation (range and outlier filtering, on the
    unfiltered intensities), discretisation (of the filtered intensities). Only the part of the image around the ROI is
    interpolated, unless ``diagnostics`` asks for the whole interpolated image's statistics.

    Parameters
    ----------
    image, mask
        The image (any scalar voxel type) and a mask with 1 inside the ROI, on the same grid (2D or 3D).
    settings
        Processing settings.
    diagnostics
        Also compute the IBSI diagnostic values (image and ROI sizes, voxel counts, mean / min /
        max intensity after each step) into :attr:`ROI.diagnostics`.
    label
        The ROI is the mask's voxels equal to ``label`` (a mask as read, see
        :func:`radrepro.case.read_pair`); ``None``: its non-zero voxels.

    Raises
    ------
    radrepro.errors.InputError
        If the mask is empty, or becomes empty after interpolation and the partial-volume threshold.
    """
    arr, spacing = _as_volume(image, "image")
    raw = np.asarray(_as_volume(mask, "mask")[0])
    if settings.spacing is None and not diagnostics:
        # no interpolation: only the box around the ROI is ever read, so find it without
        # comparing the whole mask
        found = label_box(raw != 0 if label is None else raw, 1 if label is None else label)
        if found is None:
            raise InputError("the mask has no ROI voxel", "check the mask and its label")
        box = _grown(found, _filter_margin(local_margin(spacing), spacing, settings), raw.shape)
        raw = raw[box]
        arr = arr[box]
    msk = raw != 0 if label is None else raw == label
    if not msk.any():
        raise InputError("the mask has no ROI voxel", "check the mask and its label")
    diag: dict[str, float] = {}
    if diagnostics:
        diag.update(_box_stats("init_img", arr, spacing))
        diag.update(_roi_stats("init_roi", arr.shape, arr, msk, msk))

    if settings.spacing is not None:
        in_plane = settings.interpolation_2d or image.GetDimension() == 2
        grid = ibsi_grid(arr.shape, spacing, settings.spacing, in_plane=in_plane)
        new_spacing = grid.spacing
        margin = local_margin(new_spacing)
        box = None if diagnostics else mask_box(msk, grid, _filter_margin(margin, grid.spacing, settings))
        order = interpolation_order(settings.interpolator, "interpolator")
        mask_order = interpolation_order(settings.mask_interpolator, "mask_interpolator")
        img = interpolate(arr, grid, order, box=box)
        fraction = interpolate(msk, grid, mask_order, box=box)
        morph = fraction >= settings.mask_threshold - PV_TOLERANCE
        full_shape = grid.shape
    else:
        new_spacing = spacing
        margin = local_margin(spacing)
        box = bounding_box(msk, _filter_margin(margin, spacing, settings))
        img = np.array(arr[box], dtype=np.float64)
        morph = np.ascontiguousarray(msk[box])
        full_shape = arr.shape
        if diagnostics:  # statistics of the whole (not interpolated) image
            diag.update(_box_stats("interp_img", _round(np.asarray(arr, dtype=np.float64), settings), spacing))
    img = _round(img, settings)
    if diagnostics and settings.spacing is not None:
        diag.update(_box_stats("interp_img", img, new_spacing))
    if not morph.any():
        raise InputError(
            f"the ROI is empty after interpolation to {settings.spacing} mm and the partial-volume "
            f"threshold {settings.mask_threshold}",
            "the ROI is smaller than the new voxels: use a finer spacing, mask_interpolator = 'nearest' "
            "or a lower mask_threshold",
        )
    crop = bounding_box(morph, margin)
    filtered = None
    if settings.filter is not None:  # IBSI 2: filter after interpolation, before re-segmentation
        from radrepro.filters import apply_filter

        filtered = np.ascontiguousarray(apply_filter(img, new_spacing, settings.filter_spec)[crop])
    img = np.ascontiguousarray(img[crop])
    morph = np.ascontiguousarray(morph[crop])
    bad = int((~np.isfinite(img[morph])).sum())
    if bad:
        raise InputError(
            f"{bad} ROI voxels are NaN/inf after interpolation (NaN voxels next to the ROI spread into it)",
            "fill the image's NaN/inf voxels (e.g. with the background intensity) before extraction",
        )
    if diagnostics:
        diag.update(_roi_stats("interp_roi", full_shape, img, morph, morph))

    int_mask = resegment(img, morph, settings)
    bounds = range_bounds(img[morph], settings)
    if diagnostics:
        diag.update(_roi_stats("reseg_roi", full_shape, img, morph, int_mask))
    if filtered is not None:
        # re-segmentation used the unfiltered intensities; everything after reads the response map,
        # whose intensities the re-segmentation range says nothing about
        img, bounds = filtered, (None, None)
    levels, n_levels, low, width = discretise(img, int_mask, settings, low=bounds[0])
    return ROI(
        image=img,
        morph_mask=morph,
        int_mask=int_mask,
        spacing=tuple(float(s) for s in new_spacing),
        levels=levels,
        n_levels=n_levels,
        bin_edges_low=low,
        bin_width=width,
        settings=settings,
        reseg_bounds=bounds,
        margin=margin,
        diagnostics=diag,
    )


def _filter_margin(margin, spacing, settings: Settings):
    """Voxels to keep around the ROI before filtering: ``margin`` plus the filter's reach.

    IBSI 2 filters the whole image. A filter with a finite support gives the same response inside
    the ROI box when only the box grown by its support is filtered (see
    :func:`radrepro.filters.support_radius`); Fourier-domain filters get the whole image (``None``).
    """
    if settings.filter is None:
        return margin
    from radrepro.filters import support_radius

    reach = support_radius(spacing, settings.filter_spec)
    if reach is None:
        return tuple(10**9 for _ in margin)
    return tuple(m + r for m, r in zip(margin, reach))


def _round(arr: np.ndarray, settings: Settings) -> np.ndarray:
    """Intensity rounding (IBSI 68QD) to a multiple of ``settings.intensity_rounding``."""
    r = settings.intensity_rounding
    if r is None:
        return arr
    if r == 1.0:
        return np.round(arr)
    return np.round(arr / r) * r
