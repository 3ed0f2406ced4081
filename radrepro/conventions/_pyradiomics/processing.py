"""pyradiomics 3.0.1 image processing, step for step (``radiomics/imageoperations.py``).

The order is pyradiomics' ``RadiomicsFeatureExtractor.execute``: read the mask as UInt32 and check
its label; normalise the image (``normalize``); resample image and mask (``resampledPixelSpacing``,
``interpolator``, ``padDistance``); check the mask against the image (geometry, ``correctMask``,
``minimumROIDimensions``, ``minimumROISize``) and take its bounding box; re-segment
(``resegmentRange``, ``resegmentMode``) and check again; crop to the bounding box; discretise
(``binWidth`` edges from 0, or ``binCount``).

Image filtering, resampling and normalisation are SimpleITK's, called with exactly pyradiomics'
arguments (grid origin, size, spacing, direction, interpolator, output pixel type), so their output
is the same image. Every check fails with an :class:`~radrepro.errors.InputError` that names the
problem and the setting that fixes it, where pyradiomics raises a ``ValueError``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import SimpleITK as sitk

from radrepro._numba import jit
from radrepro.errors import InputError, SettingsError
from radrepro.processing.roi import label_stats as roi_label_stats
from radrepro.settings import Settings

_INTERPOLATORS = {"nearest": sitk.sitkNearestNeighbor, "linear": sitk.sitkLinear, "cubic": sitk.sitkBSpline}


def itk_tolerance(settings: Settings) -> float:
    """ITK's coordinate and direction tolerance: ``geometryTolerance`` or ITK's default 1e-6."""
    return 1e-6 if settings.geometry_tolerance is None else settings.geometry_tolerance


_INTEGER_TYPES = {
    sitk.sitkUInt8, sitk.sitkInt8, sitk.sitkUInt16, sitk.sitkInt16, sitk.sitkUInt32, sitk.sitkInt32,
    sitk.sitkUInt64, sitk.sitkInt64,
}


def label_stats(mask: sitk.Image, label: int):
    """``(count, box)`` of ``label`` in a 3D integer mask; ``box`` as ``(z0, z1, y0, y1, x0, x1)``."""
    arr = sitk.GetArrayViewFromImage(mask)
    if arr.ndim != 3:
        arr = arr.reshape((1,) * (3 - arr.ndim) + arr.shape)
    return roi_label_stats(arr, label)


def get_mask(mask: sitk.Image, label: int, mask_name: str) -> tuple[sitk.Image, tuple[int, np.ndarray]]:
    """The mask (channel 0 of a vector mask; non-integer types cast to UInt32, as pyradiomics casts
    every mask, which changes no comparison for integer types), checked to hold ``label``
    (pyradiomics ``getMask``), and its :func:`label_stats` (for :func:`prepare_with_image`)."""
    if mask.GetNumberOfComponentsPerPixel() > 1:
        mask = sitk.VectorIndexSelectionCast(mask, 0)
    if mask.GetPixelID() not in _INTEGER_TYPES:
        mask = sitk.Cast(mask, sitk.sitkUInt32)
    stats = label_stats(mask, label)
    count = stats[0]
    n_voxels = int(np.prod(mask.GetSize()))
    if count == n_voxels or (count == 0 and np.ptp(sitk.GetArrayViewFromImage(mask)) == 0):
        raise InputError(
            f"mask {mask_name} has one value only: nothing is segmented",
            "use a mask with the region of interest drawn in it",
        )
    if count == 0:
        values = np.unique(sitk.GetArrayViewFromImage(mask))
        shown = ", ".join(str(v) for v in values[values != 0][:8])
        raise InputError(
            f"mask {mask_name} has no voxel with label {label} (labels present: {shown})",
            "choose the ROI's label with --label / the `label` setting",
        )
    return mask, stats


def normalize(image: sitk.Image, settings: Settings) -> sitk.Image:
    """pyradiomics ``normalizeImage``: z-score over the whole image, optional clipping, then scale."""
    image = sitk.Normalize(image)
    if settings.remove_outliers is not None:
        arr = sitk.GetArrayFromImage(image)
        limit = settings.remove_outliers
        arr[arr > limit] = limit
        arr[arr < -limit] = -limit
        clipped = sitk.GetImageFromArray(arr)
        clipped.CopyInformation(image)
        image = clipped
    scale = settings.normalize_scale
    image *= int(scale) if float(scale).is_integer() else scale
    return image


def _label_box(mask: sitk.Image, label: int, stats=None) -> tuple[np.ndarray, np.ndarray, int] | None:
    """Lower index and size ``(x, y, z)`` of the label's bounding box and its voxel count (from
    ``stats``, the mask's :func:`label_stats`, when given)."""
    count, box = label_stats(mask, label) if stats is None else stats
    if count == 0:
        return None
    lower = box[0::2][::-1].copy()
    size = (box[1::2] - box[0::2] + 1)[::-1].copy()
    nd = mask.GetDimension()
    return lower[:nd], size[:nd], int(count)


def _check_roi(image: sitk.Image, mask: sitk.Image, label: int, stats=None) -> np.ndarray:
    """pyradiomics ``_checkROI``: the label's box ``[lower..., size...]``, checked to lie in the image."""
    box = _label_box(mask, label, stats)
    if box is None:
        raise InputError(f"mask has no voxel with label {label}", "choose the ROI's label with the `label` setting")
    lower, size, _ = box
    nd = mask.GetDimension()
    corners = (
        mask.TransformContinuousIndexToPhysicalPoint((lower - 0.5).tolist()),
        mask.TransformContinuousIndexToPhysicalPoint((lower + size - 0.5).tolist()),
    )
    bounds = np.array([image.TransformPhysicalPointToContinuousIndex(c) for c in corners])
    tolerance = 1e-3
    if np.any(bounds.min(axis=0) < -0.5 - tolerance) or np.any(
        bounds.max(axis=0) > np.array(image.GetSize()) - 0.5 + tolerance
    ):
        raise InputError(
            f"the ROI's bounding box reaches outside the image (ROI corners at image indices "
            f"{np.round(bounds, 2).tolist()}, image size {image.GetSize()})",
            "use a mask drawn on this image",
        )
    return np.concatenate([lower, size])[: 2 * nd]


def resample(image: sitk.Image, mask: sitk.Image, settings: Settings, stats=None) -> tuple[sitk.Image, sitk.Image]:
    """pyradiomics ``resampleImage``: a grid aligned to the mask's origin, covering the ROI plus ``padDistance``.

    A target spacing of 0 keeps the mask's spacing on that axis; axes where the ROI is one voxel
    thick keep it too. The image keeps its pixel type (an integer image is interpolated and cast
    back, as pyradiomics does); the mask is resampled with nearest neighbour. ``stats``: the mask's
    :func:`label_stats` if known.
    """
    label = settings.label
    pad = settings.pad_distance
    mask_spacing = np.array(mask.GetSpacing())
    image_spacing = np.array(image.GetSpacing())
    nd = mask.GetDimension()
    target = np.array(settings.spacing, dtype=np.float64)
    if target.size != nd:
        raise SettingsError(
            f"resampledPixelSpacing has {target.size} values but the mask is {nd}D", f"give {nd} spacings"
        )
    target = np.where(target == 0, mask_spacing, target)
    box = _check_roi(image, mask, label, stats)
    target = np.where(box[nd:] != 1, target, mask_spacing)
    if np.allclose(image_spacing, target):
        # same spacing: pyradiomics only brings the mask onto the image grid (and crops, which
        # changes no feature value)
        mask = sitk.Resample(mask, image, sitk.Transform(), sitk.sitkNearestNeighbor)
        return image, mask
    ratio = mask_spacing / target
    lower = np.floor((box[:nd] - 0.5) * ratio - pad)
    upper = np.ceil((box[:nd] + box[nd:] - 0.5) * ratio + pad)
    max_upper = np.ceil(np.array(mask.GetSize()) * ratio) - 1
    lower = np.where(lower < 0, 0, lower)
    upper = np.where(upper > max_upper, max_upper, upper)
    size = np.array(upper - lower + 1, dtype="int").tolist()
    origin_index = 0.5 * (target - mask_spacing) / mask_spacing + lower / ratio
    origin = mask.TransformContinuousIndexToPhysicalPoint(origin_index.tolist())
    rif = sitk.ResampleImageFilter()
    rif.SetOutputSpacing(target.tolist())
    rif.SetOutputDirection(mask.GetDirection())
    rif.SetSize(size)
    rif.SetOutputOrigin(origin)
    rif.SetOutputPixelType(image.GetPixelID())
    rif.SetInterpolator(_INTERPOLATORS[settings.interpolator])
    out_image = rif.Execute(_input_region(image, origin, target, size, mask.GetDirection(), settings.interpolator))
    rif.SetOutputPixelType(mask.GetPixelID())
    rif.SetInterpolator(sitk.sitkNearestNeighbor)
    out_mask = rif.Execute(mask)
    return out_image, out_mask


# Input voxels kept beyond the output grid's reach: the cubic B-spline coefficients ITK computes
# (recursive filters over the whole image) feel a boundary 0.268^d voxels away: below 1e-16 at 28.
_RESAMPLE_MARGIN = {"cubic": 28, "linear": 2, "nearest": 2}


def _input_region(image: sitk.Image, origin, spacing, size, direction, interpolator: str) -> sitk.Image:
    """The part of ``image`` that the resampling to the given output grid reads, plus a margin.

    Resampling this region gives the same output as resampling the whole image (up to rounding in
    the cubic B-spline coefficients, ~1e-16), much faster for a small ROI in a large image.
    """
    nd = image.GetDimension()
    d = np.array(direction).reshape(nd, nd)
    corners = []
    for corner in np.ndindex(*(2,) * nd):
        idx = np.array(corner) * (np.array(size) - 1)
        point = np.array(origin) + d @ (idx * np.array(spacing))
        corners.append(image.TransformPhysicalPointToContinuousIndex(point.tolist()))
    corners = np.array(corners)
    margin = _RESAMPLE_MARGIN[interpolator]
    lo = np.maximum(np.floor(corners.min(axis=0)).astype(int) - margin, 0)
    hi = np.minimum(np.ceil(corners.max(axis=0)).astype(int) + margin, np.array(image.GetSize()) - 1)
    if np.any(hi < lo):
        return image
    return sitk.RegionOfInterest(image, (hi - lo + 1).tolist(), lo.tolist())


def _same_geometry(image: sitk.Image, mask: sitk.Image, tolerance: float) -> bool:
    """ITK's check that two filter inputs occupy the same physical space (and have the same size)."""
    if image.GetDimension() != mask.GetDimension() or image.GetSize() != mask.GetSize():
        return False
    coord = abs(tolerance * image.GetSpacing()[0])
    for a, b, tol in (
        (image.GetOrigin(), mask.GetOrigin(), coord),
        (image.GetSpacing(), mask.GetSpacing(), coord),
        (image.GetDirection(), mask.GetDirection(), tolerance),
    ):
        if any(abs(u - v) > tol for u, v in zip(a, b)):
            return False
    return True


def check_mask(
    image: sitk.Image, mask: sitk.Image, settings: Settings, stats=None
) -> tuple[np.ndarray, sitk.Image | None]:
    """pyradiomics ``checkMask``: bounding box ``(Lx, Ux, Ly, Uy, Lz, Uz)`` and the corrected mask (or
    None). ``stats``: the mask's :func:`label_stats` if known."""
    label = settings.label
    corrected = None
    if not _same_geometry(image, mask, itk_tolerance(settings)):
        if not settings.correct_mask:
            raise InputError(
                f"the mask is not on the image's grid (image size {image.GetSize()}, spacing "
                f"{tuple(round(v, 6) for v in image.GetSpacing())}, origin {tuple(round(v, 4) for v in image.GetOrigin())}; "
                f"mask size {mask.GetSize()}, spacing {tuple(round(v, 6) for v in mask.GetSpacing())}, "
                f"origin {tuple(round(v, 4) for v in mask.GetOrigin())})",
                "set correctMask: true to resample the mask onto the image, or geometryTolerance for small differences",
            )
        _check_roi(image, mask, label, stats)
        corrected = sitk.Resample(mask, image, sitk.Transform(), sitk.sitkNearestNeighbor)
        mask = corrected
        stats = None
    box = _label_box(mask, label, stats)
    if box is None:
        raise InputError(f"the mask has no voxel with label {label} on the image grid", "check the mask and `label`")
    lower, size, count = box
    bbox = np.empty(2 * len(lower), dtype=np.int64)
    bbox[0::2] = lower
    bbox[1::2] = lower + size - 1
    ndims = int(np.sum(size > 1))
    if ndims == 0:
        raise InputError("the ROI is a single voxel; features cannot be computed for it", "check the mask")
    if ndims < settings.min_roi_dims:
        raise InputError(
            f"the ROI extends in {ndims} dimension(s) but minimumROIDimensions is {settings.min_roi_dims}",
            "lower minimumROIDimensions or use a larger ROI",
        )
    if settings.min_roi_size is not None and count <= settings.min_roi_size:
        raise InputError(
            f"the ROI has {count} voxels, not more than minimumROISize = {settings.min_roi_size}",
            "lower minimumROISize or use a larger ROI",
        )
    return bbox, corrected


def resegment(image: sitk.Image, mask: sitk.Image, settings: Settings) -> sitk.Image:
    """pyradiomics ``resegmentMask``: keep ROI voxels within the thresholds (absolute, relative to the
    ROI maximum, or in standard deviations around the ROI mean)."""
    low, high = settings.reseg_range
    if low is None:
        raise SettingsError(
            "resegmentRange needs a lower threshold in the pyradiomics convention", "give [low] or [low, high]"
        )
    values = [low] if high is None else sorted([low, high])
    label = settings.label
    im = sitk.GetArrayViewFromImage(image)
    roi = sitk.GetArrayFromImage(mask) == label
    mode = settings.reseg_mode
    if mode == "absolute":
        thresholds = values
    elif mode == "relative":
        top = np.max(im[roi])
        thresholds = [top * _py_number(t) for t in values]
    else:
        mean = np.mean(im[roi])
        sd = np.std(im[roi])
        thresholds = [mean + sd * _py_number(t) for t in values]
    thresholds = [_py_number(t) for t in thresholds] if mode == "absolute" else thresholds
    roi[roi] = im[roi] >= thresholds[0]
    if len(thresholds) == 2:
        roi[roi] = im[roi] <= thresholds[1]
    kept = int(roi.sum())
    if kept <= 1:
        raise InputError(
            f"re-segmentation ({mode} range {settings.reseg_range}) keeps {kept} voxel(s) of the ROI",
            "widen resegmentRange",
        )
    out = np.zeros(roi.shape, dtype="int")
    out[roi] = label
    new = sitk.GetImageFromArray(out)
    new.CopyInformation(mask)
    return new


def _py_number(value: float):
    """An integral float as int, as it comes out of a YAML file, so numpy keeps the image's dtype."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def bin_edges(values: np.ndarray, settings: Settings) -> np.ndarray:
    """pyradiomics ``getBinEdges``: fixed bin width edges at multiples of ``binWidth``, or ``binCount`` bins."""
    if settings.discretisation == "fbn":
        edges = np.histogram(values, settings.bin_count)[1]
        edges[-1] += 1
        return edges
    width = _py_number(settings.bin_width)
    minimum = np.min(values)  # the same numpy scalar as pyradiomics' builtin min
    maximum = np.max(values)
    low = minimum - (minimum % width)
    high = maximum + 2 * width
    edges = np.arange(low, high, width)
    if len(edges) == 1:
        edges = np.array([edges[0] - 0.5, edges[0] + 0.5])
    return edges


def discretise(image: np.ndarray, roi: np.ndarray, settings: Settings) -> tuple[np.ndarray, np.ndarray]:
    """Grey levels (int32): ``numpy.digitize`` of the ROI intensities with :func:`bin_edges`, 0
    outside; and the number of ROI voxels of each level 0..Ng (``numpy.bincount`` of the ROI's levels)."""
    edges = bin_edges(image[roi], settings)
    return _digitize_roi(image, roi, edges)


@jit
def _digitize_roi(image, roi, edges):
    """``numpy.digitize(image[roi], edges)`` (increasing edges: the number of edges <= the value,
    compared in the common type as numpy compares) put back on the grid, 0 outside the ROI, and
    the count of each level up to the highest present.

    The edges are (nearly) evenly spaced, so the bin is guessed from the value and then corrected
    by comparing with the edges: the guess only saves steps, the comparisons decide."""
    out = np.zeros(image.shape, dtype=np.int32)
    counts = np.zeros(edges.shape[0] + 1, dtype=np.int64)
    top = -1
    flat_image = image.ravel()
    flat_roi = roi.ravel()
    flat_out = out.ravel()
    n = edges.shape[0]
    first = float(edges[0])
    span = float(edges[n - 1]) - first
    scale = (n - 1) / span if span > 0 else 0.0
    for k in range(flat_image.shape[0]):
        if not flat_roi[k]:
            continue
        x = flat_image[k]
        guess = (float(x) - first) * scale
        if guess < 0.0:
            idx = 0
        elif guess >= n:
            idx = n
        else:
            idx = int(guess) + 1
        while idx < n and edges[idx] <= x:
            idx += 1
        while idx > 0 and edges[idx - 1] > x:
            idx -= 1
        flat_out[k] = idx
        counts[idx] += 1
        if idx > top:
            top = idx
    return out, counts[: top + 1]


@dataclass
class Prepared:
    """Arrays cropped to the ROI's bounding box, as pyradiomics' feature classes see them.

    Attributes
    ----------
    image
        Intensities ``(z, y, x)`` in the image's own pixel type.
    roi
        Boolean mask of the (re-segmented) ROI; ``shape_roi`` the mask for shape features.
    spacing
        Voxel spacing ``(x, y, z)`` in mm.
    """

    image: np.ndarray
    roi: np.ndarray
    shape_roi: np.ndarray
    spacing: tuple[float, ...]


def prepare(image: sitk.Image, mask: sitk.Image, settings: Settings) -> Prepared:
    """Run pyradiomics' processing on an image and its UInt32 mask (see the module docstring)."""
    return prepare_with_image(image, mask, settings)[0]


def prepare_with_image(image: sitk.Image, mask: sitk.Image, settings: Settings, stats=None):
    """:func:`prepare`, also returning what pyradiomics' image-type generators get: the processed
    (normalised, resampled) image before cropping, the (re-segmented) mask and the crop ``(z, y, x)``
    slices. Filtered images are made from that image and cropped with the same slices.

    ``stats``: the mask's :func:`label_stats` (from :func:`get_mask`), so that the mask is not
    scanned again; ``None`` scans it."""
    if settings.normalize:
        image = normalize(image, settings)
    if settings.spacing is not None:
        image, mask = resample(image, mask, settings, stats)
        stats = None
    bbox, corrected = check_mask(image, mask, settings, stats)
    if corrected is not None:
        mask = corrected
    reseg = None
    if settings.reseg_range is not None:
        reseg = resegment(image, mask, settings)
        bbox, _ = check_mask(image, reseg, settings)
    shape_mask = reseg if (settings.reseg_shape and reseg is not None) else mask
    texture_mask = reseg if reseg is not None else mask
    crop = tuple(slice(int(bbox[2 * k]), int(bbox[2 * k + 1]) + 1) for k in range(len(bbox) // 2))[::-1]
    label = settings.label
    arr = sitk.GetArrayViewFromImage(image)[crop]
    roi = np.asarray(sitk.GetArrayViewFromImage(texture_mask)[crop] == label)
    shape_roi = roi
    if shape_mask is not texture_mask:
        shape_roi = np.asarray(sitk.GetArrayViewFromImage(shape_mask)[crop] == label)
    prepared = Prepared(
        image=np.array(arr),
        roi=roi,
        shape_roi=shape_roi,
        spacing=tuple(image.GetSpacing()),
    )
    return prepared, image, texture_mask, crop


def angles(size, distances, *, bidirectional: bool, force_2d: bool, force_2d_dimension: int) -> np.ndarray:
    """pyradiomics' angles (``cMatrices.generate_angles``): offsets ``(dz, dy, dx)`` with Chebyshev
    norm in ``distances`` and no step as long as the box along any axis, in pyradiomics' order; one
    of each opposite pair unless ``bidirectional``; none out of plane with ``force_2d``."""
    key = (tuple(int(v) for v in size), tuple(sorted({int(d) for d in distances})), bool(bidirectional),
           bool(force_2d), int(force_2d_dimension))
    return np.array(_angles(*key), dtype=np.int64).reshape(-1, 3)


@lru_cache(maxsize=256)
def _angles(size, dist, bidirectional, force_2d, force_2d_dimension) -> tuple:
    top = max(dist)
    out = []
    rng = range(top, -top - 1, -1)
    for dz in rng:
        for dy in rng:
            for dx in rng:
                a = (dz, dy, dx)
                if a == (0, 0, 0):
                    continue
                if not bidirectional and next(v for v in a if v != 0) < 0:
                    continue
                if max(abs(v) for v in a) not in dist:
                    continue
                if force_2d and a[force_2d_dimension] != 0:
                    continue
                if any(abs(v) >= s for v, s in zip(a, size)):
                    continue
                out.append(a)
    return tuple(out)
