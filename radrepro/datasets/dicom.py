"""DICOM image series to SimpleITK images, and RTSTRUCT / DICOM SEG to masks on the image grid.

- :func:`read_series`: one CT/MR/PT series folder to a 3D image (SimpleITK), after checking that it
  is a volume: no localiser, one orientation, no duplicate slice, uniform slice spacing.
- :func:`rtstruct_mask`: contours of one ROI rasterised on the image grid. A voxel is inside when
  its centre is inside the polygon (``skimage.draw.polygon`` on the row/column index grid, which
  has ``Rows`` x ``Columns`` cells: non-square images are handled, unlike rt-utils, which clips
  contours when Rows != Columns); several contours on one slice are combined by XOR, so holes stay holes.
- :func:`seg_mask`: one segment of a DICOM SEG (highdicom), frame by frame on the image's
  SOP instances, with a check that the SEG's frames lie on the image's slices.

Patient-identifying attributes are never read into messages: errors name files and UIDs only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pydicom
import SimpleITK as sitk

from radrepro.errors import InputError

SLICE_TOLERANCE = 0.01  # relative deviation of slice gaps accepted as uniform (and mm floor below)


@dataclass(frozen=True)
class Series:
    """A DICOM image series read as a volume."""

    image: sitk.Image
    sop_uids: tuple[str, ...]  # in slice order (index k of the image)
    series_uid: str
    frame_of_reference: str


def dicom_files(folder: Path) -> list[Path]:
    """Files of a cached series folder (everything but radrepro's manifest)."""
    return sorted(p for p in Path(folder).rglob("*") if p.is_file() and p.name != "manifest.json")


def read_series(folder: Path) -> Series:
    """Read the image series in ``folder`` as a 3D volume.

    Raises
    ------
    InputError
        For an empty folder, unreadable files, a localiser, several orientations, missing or
        duplicate slice positions, or non-uniform slice spacing (each says why and what to do).
    """
    folder = Path(folder)
    headers = []
    for path in dicom_files(folder):
        try:
            ds = pydicom.dcmread(path, stop_before_pixels=True)
        except Exception as exc:  # pydicom raises several types for bad files
            raise InputError(f"DICOM file {path} cannot be read ({type(exc).__name__})",
                             "fetch the series again (`radrepro datasets fetch --full-check`)") from exc
        headers.append((path, ds))
    if not headers:
        raise InputError(f"series folder {folder} has no DICOM files", "fetch the series first")
    image_types = {"\\".join(map(str, ds.get("ImageType", []))).upper() for _, ds in headers}
    if any("LOCALIZER" in t for t in image_types) or len(headers) < 2:
        raise InputError(f"series {folder.name} is a localiser / scout ({len(headers)} image(s))",
                         "use the volumetric series of the study (the card's segmentation references it)")
    missing = [p for p, ds in headers if "ImagePositionPatient" not in ds or "ImageOrientationPatient" not in ds]
    if missing:
        raise InputError(f"DICOM file {missing[0]} has no image position/orientation", "it is not part of a volume")
    iops = np.array([[float(v) for v in ds.ImageOrientationPatient] for _, ds in headers])
    if np.abs(iops - iops[0]).max() > 1e-4:
        raise InputError(f"series {folder.name} mixes slice orientations", "it is not one volume; pick another series")
    row, col = iops[0][:3], iops[0][3:]
    normal = np.cross(row, col)
    pos = np.array([[float(v) for v in ds.ImagePositionPatient] for _, ds in headers])
    along = pos @ normal
    order = np.argsort(along, kind="stable")
    along = along[order]
    gaps = np.diff(along)
    if (gaps < 1e-4).any():
        raise InputError(f"series {folder.name} has two slices at the same position",
                         "it holds several volumes or duplicates; pick one volume")
    mean_gap = gaps.mean()
    if gaps.max() - gaps.min() > max(SLICE_TOLERANCE * mean_gap, 0.01):
        raise InputError(
            f"series {folder.name} has non-uniform slice spacing ({gaps.min():.3f} to {gaps.max():.3f} mm)",
            "a volume with uneven gaps would be distorted; resample it yourself or exclude the series",
        )
    files = [str(headers[i][0]) for i in order]
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(files)
    try:
        image = reader.Execute()
    except RuntimeError as exc:
        raise InputError(f"series {folder.name} cannot be read by SimpleITK ({str(exc).strip().splitlines()[-1][:120]})",
                         "fetch the series again") from exc
    first = headers[order[0]][1]
    return Series(
        image=image,
        sop_uids=tuple(str(headers[i][1].SOPInstanceUID) for i in order),
        series_uid=str(first.SeriesInstanceUID),
        frame_of_reference=str(first.get("FrameOfReferenceUID", "")),
    )


def _physical_to_index(image: sitk.Image, points: np.ndarray) -> np.ndarray:
    """Continuous (i, j, k) indices of physical points (N, 3) on the image grid."""
    direction = np.array(image.GetDirection()).reshape(3, 3)
    origin = np.array(image.GetOrigin())
    spacing = np.array(image.GetSpacing())
    return ((points - origin) @ direction) / spacing  # direction is orthonormal: inverse = transpose


def rtstruct_roi_names(ds: pydicom.Dataset) -> dict[int, str]:
    """ROI number -> ROI name of an RTSTRUCT."""
    return {int(r.ROINumber): str(r.ROIName) for r in ds.get("StructureSetROISequence", [])}


def rtstruct_referenced_series(ds: pydicom.Dataset) -> str | None:
    """SeriesInstanceUID of the image series an RTSTRUCT was drawn on (None if not stated)."""
    for ref in ds.get("ReferencedFrameOfReferenceSequence", []):
        for study in ref.get("RTReferencedStudySequence", []):
            for series in study.get("RTReferencedSeriesSequence", []):
                return str(series.SeriesInstanceUID)
    return None


def rtstruct_mask(ds: pydicom.Dataset, roi_number: int, image: sitk.Image, *, name: str = "RTSTRUCT") -> sitk.Image:
    """Rasterise ROI ``roi_number`` of RTSTRUCT ``ds`` on the grid of ``image`` (uint8 mask, 1 inside).

    Raises
    ------
    InputError
        If the ROI has no closed planar contour, a contour lies between slices or outside the
        image, or the mask is empty.
    """
    from skimage.draw import polygon

    nx, ny, nz = image.GetSize()
    mask = np.zeros((nz, ny, nx), dtype=bool)
    contours = None
    for rc in ds.get("ROIContourSequence", []):
        if int(rc.ReferencedROINumber) == roi_number:
            contours = rc.get("ContourSequence", [])
    if not contours:
        raise InputError(f"{name}: ROI {roi_number} has no contours", "choose another ROI in the card")
    used = 0
    for c in contours:
        if str(c.get("ContourGeometricType", "CLOSED_PLANAR")) not in ("CLOSED_PLANAR",):
            continue
        pts = np.asarray(c.ContourData, dtype=float).reshape(-1, 3)
        idx = _physical_to_index(image, pts)
        k = idx[:, 2]
        kr = int(np.round(np.median(k)))
        if np.abs(k - kr).max() > 0.25:
            raise InputError(f"{name}: a contour of ROI {roi_number} lies between slices (index {np.median(k):.2f})",
                             "the RTSTRUCT was drawn on another grid; check that it references this series")
        if not 0 <= kr < nz:
            raise InputError(f"{name}: a contour of ROI {roi_number} is outside the image (slice {kr} of {nz})",
                             "the RTSTRUCT was drawn on another series")
        rr, cc = polygon(idx[:, 1], idx[:, 0], shape=(ny, nx))
        layer = np.zeros((ny, nx), dtype=bool)
        layer[rr, cc] = True
        mask[kr] ^= layer
        used += 1
    if not used or not mask.any():
        raise InputError(f"{name}: ROI {roi_number} gives an empty mask", "choose another ROI in the card")
    out = sitk.GetImageFromArray(mask.astype(np.uint8))
    out.CopyInformation(image)
    return out


def seg_segments(seg) -> dict[int, str]:
    """Segment number -> segment label of a highdicom Segmentation."""
    return {int(s.SegmentNumber): str(s.SegmentLabel) for s in seg.SegmentSequence}


def seg_referenced_series(seg) -> str | None:
    """SeriesInstanceUID of the image series a SEG was derived from (None if not stated)."""
    for ref in seg.get("ReferencedSeriesSequence", []):
        return str(ref.SeriesInstanceUID)
    return None


def seg_mask(seg, segment: int, series: Series, *, name: str = "SEG") -> sitk.Image:
    """Segment ``segment`` of DICOM SEG ``seg`` (highdicom) on the grid of ``series`` (uint8 mask).

    Frames are matched to the image's SOP instances; the SEG's frame positions must lie on the
    image's slices (geometry check), and frames for instances not in the series are an error.
    """
    image = series.image
    try:
        arr = seg.get_pixels_by_source_instance(
            source_sop_instance_uids=list(series.sop_uids), segment_numbers=[segment],
            combine_segments=True, skip_overlap_checks=True,
            # SEGs made by other tools may reference only the instances they cover: the others are empty
            assert_missing_frames_are_empty=True,
        )
    except (KeyError, ValueError, RuntimeError) as exc:
        raise InputError(f"{name}: segment {segment} cannot be placed on series {series.series_uid} ({exc})"[:300],
                         "the SEG references other images; check the card's pairing") from exc
    arr = np.asarray(arr)
    if arr.ndim == 4:
        arr = arr[..., 0]
    nx, ny, nz = image.GetSize()
    if arr.shape != (nz, ny, nx):
        raise InputError(f"{name}: segment {segment} has shape {arr.shape}, the image {(nz, ny, nx)}",
                         "the SEG was made on another grid")
    _check_seg_positions(seg, image, name)
    mask = (arr > 0).astype(np.uint8)
    if not mask.any():
        raise InputError(f"{name}: segment {segment} is empty on series {series.series_uid}", "choose another segment")
    out = sitk.GetImageFromArray(mask)
    out.CopyInformation(image)
    return out


def _check_seg_positions(seg, image: sitk.Image, name: str) -> None:
    positions = []
    for frame in seg.get("PerFrameFunctionalGroupsSequence", []):
        pps = frame.get("PlanePositionSequence")
        if pps:
            positions.append([float(v) for v in pps[0].ImagePositionPatient])
    if not positions:
        return
    idx = _physical_to_index(image, np.array(positions))
    spacing = np.array(image.GetSpacing())
    off = np.abs(idx - np.round(idx)) * spacing
    if off.max() > 0.01 * spacing.min() + 1e-3 or np.abs(idx[:, :2]).max() > 1e-2:
        raise InputError(f"{name}: frame positions do not lie on the image grid (off by up to {off.max():.3f} mm)",
                         "the SEG was made on another grid; resample it or pick the right image series")


def match_names(names: dict[int, str], pattern: str) -> list[tuple[int, str]]:
    """(number, name) of the ROIs / segments whose name matches ``pattern`` (case-insensitive search)."""
    rx = re.compile(pattern, re.IGNORECASE)
    return [(n, s) for n, s in sorted(names.items()) if rx.search(s)]
