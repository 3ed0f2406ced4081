"""Cases: an image, its mask and its metadata; reading and checking them.

Images cross the boundaries of radrepro as SimpleITK images (NIfTI, NRRD, ... read by SimpleITK);
kernels see numpy arrays. Every check here fails with an :class:`~radrepro.errors.InputError`
that names the file and says what to do.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import SimpleITK as sitk

from radrepro.errors import InputError

ImageLike = "sitk.Image | str | Path"


@dataclass(frozen=True)
class Case:
    """One region of interest to extract features from.

    Parameters
    ----------
    id
        Case identifier, unique within a data set (never a patient name).
    image, mask
        SimpleITK images or paths to image files readable by SimpleITK.
    metadata
        Labels the analyses use: ``site``, ``scanner``, ``label`` (outcome), ``subject`` ...
    """

    id: str
    image: Any
    mask: Any
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def load(self, label: int = 1) -> tuple[sitk.Image, sitk.Image]:
        """Read and check image and mask (see :func:`load_pair`)."""
        return load_pair(self.image, self.mask, label=label)


def describe(source: Any) -> str:
    """A short name for an image source, for messages."""
    return str(source) if isinstance(source, (str, Path)) else "<in-memory image>"


def read_image(source: Any, role: str = "image") -> sitk.Image:
    """A SimpleITK image from a path or an image.

    Raises
    ------
    InputError
        If the file is missing or SimpleITK cannot read it.
    """
    if isinstance(source, sitk.Image):
        return source
    if not isinstance(source, (str, Path)):
        raise InputError(
            f"{role} of type {type(source).__name__} is not understood",
            "pass a SimpleITK image or the path of a NIfTI/NRRD file",
        )
    path = Path(source)
    if not path.exists():
        raise InputError(f"{role} file {path} does not exist", "check the path")
    if path.is_dir():
        raise InputError(
            f"{role} path {path} is a directory",
            "pass an image file; convert DICOM series first with `radrepro datasets convert`",
        )
    try:
        return sitk.ReadImage(str(path))
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[-1] if str(exc).strip() else "unknown error"
        raise InputError(
            f"{role} file {path} cannot be read ({first[:120]})",
            "check that it is a complete NIfTI/NRRD/MHA file",
        ) from exc


def _geometry(img: sitk.Image) -> tuple:
    return img.GetSize(), img.GetSpacing(), img.GetOrigin(), img.GetDirection()


def check_geometry(image: sitk.Image, mask: sitk.Image, mask_name: str, tolerance: float = 1e-3) -> None:
    """Raise if the mask is not on the image's voxel grid (size, spacing, origin, direction)."""
    if image.GetDimension() != mask.GetDimension():
        raise InputError(
            f"mask {mask_name} is {mask.GetDimension()}D but the image is {image.GetDimension()}D",
            "use a mask drawn on this image",
        )
    if image.GetSize() != mask.GetSize():
        raise InputError(
            f"mask {mask_name} has size {mask.GetSize()} but the image has {image.GetSize()}",
            "resample the mask onto the image grid, or use the mask drawn on this image",
        )
    for what, a, b in (
        ("spacing", image.GetSpacing(), mask.GetSpacing()),
        ("origin", image.GetOrigin(), mask.GetOrigin()),
        ("direction", image.GetDirection(), mask.GetDirection()),
    ):
        scale = max(1.0, max(abs(v) for v in a))
        if not np.allclose(a, b, atol=tolerance * scale, rtol=0):
            raise InputError(
                f"mask {mask_name} has {what} {tuple(round(v, 4) for v in b)} but the image has "
                f"{tuple(round(v, 4) for v in a)}",
                "resample the mask onto the image grid, or use the mask drawn on this image",
            )


def load_pair(image: Any, mask: Any, label: int = 1, *, geometry_tolerance: float | None = None) -> tuple[sitk.Image, sitk.Image]:
    """Read image and mask and check that they can be used together.

    Parameters
    ----------
    image, mask
        SimpleITK images or paths.
    label
        Mask value of the region of interest.
    geometry_tolerance
        Largest relative difference of spacing/origin/direction accepted (default 1e-3).
        ``None`` uses the default.

    Returns
    -------
    image, mask
        The image as float64 and the mask as uint8 with 1 inside the ROI, on the same grid.

    Raises
    ------
    InputError
        Missing or unreadable file, mask on another grid, no voxel of ``label`` in the mask,
        or a non-finite value (NaN, inf) inside the ROI.
    """
    img, msk = read_pair(image, mask, label, geometry_tolerance=geometry_tolerance)
    out_img = sitk.Cast(img, sitk.sitkFloat64)
    out_msk = sitk.GetImageFromArray((sitk.GetArrayViewFromImage(msk) == label).astype(np.uint8))
    out_msk.CopyInformation(msk)
    return out_img, out_msk


def read_pair(
    image: Any, mask: Any, label: int = 1, *, geometry_tolerance: float | None = None
) -> tuple[sitk.Image, sitk.Image]:
    """Read image and mask and check them as :func:`load_pair` does, without converting either.

    For a caller that crops first (the IBSI convention): casting a whole CT image to float64 and
    writing a new mask cost more than the features of a small ROI. The ROI is the voxels of the
    returned mask equal to ``label``. Parameters and errors as in :func:`load_pair`.
    """
    from radrepro.processing.roi import has_label, label_box

    img = read_image(image, "image")
    msk = read_image(mask, "mask")
    mask_name = describe(mask)
    image_name = describe(image)
    if img.GetNumberOfComponentsPerPixel() != 1:
        raise InputError(
            f"image {image_name} has {img.GetNumberOfComponentsPerPixel()} components per voxel",
            "use a single-channel (scalar) image",
        )
    check_geometry(img, msk, mask_name, 1e-3 if geometry_tolerance is None else geometry_tolerance)
    m = sitk.GetArrayViewFromImage(msk)
    a = sitk.GetArrayViewFromImage(img)
    floating = a.dtype.kind in "fc"  # integer voxels are always finite: no need for the ROI's box
    if floating:
        box = label_box(m, label)
        found = box is not None
    else:
        found = has_label(m, label)  # stops at the ROI's first row
    if not found:
        present = np.unique(m)
        shown = ", ".join(str(v) for v in present[:8]) + (" ..." if present.size > 8 else "")
        raise InputError(
            f"mask {mask_name} has no voxel with label {label} (values present: {shown})",
            "choose the ROI's label with --label / the `label` setting, or check the mask",
        )
    if floating:
        finite = np.isfinite(a[box][m[box] == label])
        if not finite.all():
            raise InputError(
                f"image {image_name} has {int((~finite).sum())} NaN/inf voxels inside the ROI",
                "fix the image (or the mask) so that every ROI voxel has a finite intensity",
            )
    return img, msk


def image_digest(img: sitk.Image) -> str:
    """Content hash of an image: voxel values (as stored) and geometry."""
    h = hashlib.sha256()
    arr = sitk.GetArrayViewFromImage(img)
    h.update(str(arr.dtype).encode())
    h.update(np.ascontiguousarray(arr).tobytes())
    h.update(repr(_geometry(img)).encode())
    return h.hexdigest()[:16]
