"""The pyradiomics convention: pyradiomics 3.0.1's processing and feature definitions, radrepro's kernels.

Feature values reproduce pyradiomics 3.0.1 (``RadiomicsFeatureExtractor`` with the ``Original`` image
type) and carry its names, e.g. ``original_glcm_Contrast``, ``original_shape_MeshVolume``. The
processing (``radrepro.conventions._pyradiomics.processing``) follows pyradiomics' order and
SimpleITK calls; the texture matrices come from radrepro's numba kernels with pyradiomics' angles;
the shape mesh is a numba marching cubes that gives pyradiomics' mesh.

Settings (pyradiomics name -> :class:`~radrepro.settings.Settings` field): ``binWidth``
(bin_width), ``binCount`` (bin_count), ``resampledPixelSpacing`` (spacing), ``interpolator``
(sitkNearestNeighbor, sitkLinear, sitkBSpline), ``padDistance``, ``resegmentRange``,
``resegmentMode``, ``resegmentShape``, ``voxelArrayShift``, ``force2D`` (texture_dims ``2D``),
``force2Ddimension``, ``distances``, ``symmetricalGLCM``, ``weightingNorm``, ``gldm_a``
(ngldm_alpha), ``minimumROIDimensions``, ``minimumROISize``, ``correctMask``, ``geometryTolerance``,
``label``, ``normalize``, ``normalizeScale``, ``removeOutliers``. ``preCrop`` changes no value and is
ignored. Image types (``imageType``): Original and pyradiomics' filters (LoG, Wavelet, Square,
SquareRoot, Logarithm, Exponential, Gradient, LBP2D, LBP3D; :mod:`radrepro.filters.pyradiomics_types`),
each named as pyradiomics names it (``wavelet-LLH_glcm_Contrast``, ``log-sigma-1-0-mm-3D_firstorder_Mean``);
shape features are computed once, on the original image, as pyradiomics does.

Feature set: ``settings.families`` / ``settings.features`` as a pyradiomics ``featureClass`` section
gives them (a class with no list: its enabled features; a list may name deprecated features that
pyradiomics still computes, e.g. ``StandardDeviation``); without them, pyradiomics' default set
(every class but ``shape2D``, deprecated features left out). ``shape2D`` needs ``force2D`` and a mask
one voxel thick along ``force2Ddimension``. A 2D image and mask are taken as pyradiomics takes them:
no ``shape`` class, ``shape2D`` of the plane (in the default set too), in-plane textures.
"""

from __future__ import annotations

import importlib
import weakref
from typing import Any

import numpy as np
import SimpleITK as sitk

from radrepro.case import describe, read_image
from radrepro.conventions._pyradiomics import processing
from radrepro.conventions._pyradiomics.common import ClassInput
from radrepro.errors import InputError, SettingsError
from radrepro.settings import Settings

NAME = "pyradiomics"
PYRADIOMICS_VERSION = "3.0.1"

# pyradiomics' class order (its featureClass dictionary) and the classes enabled without a featureClass section
CLASSES = ("firstorder", "glcm", "gldm", "glrlm", "glszm", "ngtdm", "shape", "shape2D")
DEFAULT_CLASSES = tuple(c for c in CLASSES if c != "shape2D")
SHAPE_CLASSES = ("shape", "shape2D")


def class_module(name: str):
    """The module of pyradiomics class ``name``."""
    if name not in CLASSES:
        raise SettingsError(f"unknown pyradiomics feature class '{name}'", "classes are: " + ", ".join(CLASSES))
    return importlib.import_module(f"radrepro.conventions._pyradiomics.{name}")


def selected_classes(settings: Settings) -> dict[str, tuple[str, ...] | None]:
    """Classes to compute and, per class, the feature names asked for (None: the enabled set)."""
    selection = settings.feature_selection
    if selection is None:
        families = settings.families or DEFAULT_CLASSES
        out = {f: None for f in families}
    else:
        out = dict(selection)
        for fam in settings.families or ():
            out.setdefault(fam, None)
    for fam in out:
        class_module(fam)
    return out


def _check_image_types(settings: Settings) -> None:
    from radrepro.filters.pyradiomics_types import IMAGE_TYPES

    extra = [name for name in settings.image_type_params if name not in IMAGE_TYPES]
    if extra:
        raise SettingsError(
            "image types " + ", ".join(extra) + " are not pyradiomics image types",
            "use any of: " + ", ".join(IMAGE_TYPES),
        )


def _image_type_settings(settings: Settings, params: dict[str, Any]) -> Settings:
    """``settings`` with the pyradiomics settings an ``imageType`` entry overrides (e.g. ``binWidth``)."""
    from radrepro.settings import _PYRADIOMICS_KEYS

    changes: dict[str, Any] = {}
    for key, value in params.items():
        target = _PYRADIOMICS_KEYS.get(key)
        if target is None or value is None:
            continue
        if key == "binCount":
            changes["discretisation"] = "fbn"
        if key == "force2D":
            value = ("2D",) if value else ("3D",)
        changes[target] = value
    return settings.replace(**changes) if changes else settings


def _filtered_inputs(image: sitk.Image, mask: sitk.Image, crop, prepared: processing.Prepared, settings: Settings):
    """``(image type name, ClassInput)`` of every image type but Original, as pyradiomics' generators
    yield them (:mod:`radrepro.filters.pyradiomics_types`): filtered from the processed image, cropped
    like the original, with the same masks."""
    from radrepro.filters.pyradiomics_types import generate

    base = {"force2D": "2D" in settings.texture_dims, "force2Ddimension": settings.force_2d_dimension,
            "label": settings.label}
    for type_name, params in settings.image_type_params.items():
        if type_name == "Original":
            continue
        for filtered, name, args, offset in generate(image, mask, {type_name: params}, base, roi_box=crop):
            shifted = tuple(slice(c.start - o, c.stop - o) for c, o in zip(crop, offset))
            arr = np.array(sitk.GetArrayViewFromImage(filtered)[shifted])
            data = processing.Prepared(image=arr, roi=prepared.roi, shape_roi=prepared.shape_roi, spacing=prepared.spacing)
            yield name, ClassInput(data, _image_type_settings(settings, params))


def load_pair(image: Any, mask: Any, settings: Settings) -> tuple[sitk.Image, sitk.Image]:
    """Read image and mask as pyradiomics does: the image as stored, the mask as UInt32 with ``label``.

    Geometry is checked later, after resampling (pyradiomics resamples on the mask's grid, so an
    image and mask on different grids are accepted when resampling or ``correctMask`` is on).
    """
    img = read_image(image, "image")
    msk = read_image(mask, "mask")
    if img.GetNumberOfComponentsPerPixel() != 1:
        raise InputError(
            f"image {describe(image)} has {img.GetNumberOfComponentsPerPixel()} components per voxel",
            "use a single-channel (scalar) image",
        )
    if img.GetDimension() not in (2, 3) or msk.GetDimension() != img.GetDimension():
        raise InputError(
            f"image and mask must both be 3D or both 2D (got {img.GetDimension()}D and {msk.GetDimension()}D)",
            "use a mask drawn on this image",
        )
    msk, stats = processing.get_mask(msk, settings.label, describe(mask))
    global _checked
    _checked = (weakref.ref(msk), settings.label, stats)
    return img, msk


# (mask, label, label_stats) of the mask load_pair returned last: extract reuses the stats instead
# of scanning the whole mask again when it gets that very mask (a mask changed in place between
# load_pair and extract is not noticed: load_pair's images are the extractor's to read, not to edit)
_checked: tuple | None = None


def _stats_of_checked(mask: sitk.Image, label: int):
    """The :func:`processing.label_stats` load_pair found for ``mask``, or None."""
    checked = _checked
    if checked is not None and checked[0]() is mask and checked[1] == label:
        return checked[2]
    return None


def extract(image: sitk.Image, mask: sitk.Image, settings: Settings) -> dict[str, float]:
    """pyradiomics features of an image and its mask (from :func:`load_pair`), named as pyradiomics names them.

    Parameters
    ----------
    image, mask
        SimpleITK images; the mask holds ``settings.label`` where the ROI is (any integer type).
    settings
        The extraction settings (e.g. from a pyradiomics parameter file via
        :func:`radrepro.settings.load_settings`).

    Returns
    -------
    dict
        ``original_<class>_<feature>`` -> value, shape classes first, then the others in
        pyradiomics' class order.
    """
    _check_image_types(settings)
    classes = selected_classes(settings)
    stats = _stats_of_checked(mask, settings.label)
    if stats is None:
        mask, stats = processing.get_mask(mask, settings.label, "<mask>")
    two_d = image.GetDimension() == 2
    if two_d:
        # pyradiomics on 2D input: no 3D shape, shape2D of the image plane, in-plane textures
        if settings.spacing is not None:
            raise SettingsError(
                "resampling a 2D image is not supported by the pyradiomics convention",
                "store it as a volume of one slice, with a 0 for the slice spacing",
            )
        image, mask = sitk.JoinSeries(image), sitk.JoinSeries(mask)
        settings = settings.replace(force_2d_dimension=0)
        classes.pop("shape", None)
        if settings.feature_selection is None and settings.families is None:
            classes["shape2D"] = None
    # (the stats of a 2D mask are those of the one-slice volume: label_stats sees it as one)
    prepared, full_image, texture_mask, crop = processing.prepare_with_image(image, mask, settings, stats)
    data = ClassInput(prepared, settings)
    values: dict[str, float] = {}
    order = [c for c in SHAPE_CLASSES if c in classes] + [c for c in CLASSES if c in classes and c not in SHAPE_CLASSES]
    types = settings.image_type_params
    for cls in order:
        if cls == "shape2D" and not two_d and not _shape2d_possible(prepared, settings):
            continue
        if cls not in SHAPE_CLASSES and "Original" not in types:
            continue
        for name, value in class_module(cls).compute(data, classes[cls]).items():
            values[f"original_{cls}_{name}"] = value
    # filtered image types (pyradiomics computes shape once, on the original image)
    for type_name, filtered in _filtered_inputs(full_image, texture_mask, crop, prepared, settings):
        for cls in order:
            if cls in SHAPE_CLASSES:
                continue
            for name, value in class_module(cls).compute(filtered, classes[cls]).items():
                values[f"{type_name}_{cls}_{name}"] = value
    return values


def _shape2d_possible(prepared: processing.Prepared, settings: Settings) -> bool:
    """pyradiomics computes shape2D only with force2D and a bounding box longer than 1 along
    ``force2Ddimension`` counted in (x, y, z) order (its check), and fails when the ROI is then
    thicker than one voxel along the same dimension counted in (z, y, x) order."""
    if "2D" not in settings.texture_dims:
        return False
    size_xyz = prepared.image.shape[::-1]
    return size_xyz[settings.force_2d_dimension] > 1
