"""Small synthetic DICOM for the dataset tests: a CT series, an RTSTRUCT with known polygons, a DICOM SEG.

Geometry is chosen by the test (rows != columns, spacing, origin, in-plane orientation), so the
expected masks are known by hand: a rectangle whose corners sit on voxel *edges* (half-integer
indices) covers exactly the voxels whose centres it contains.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

RTSTRUCT_STORAGE = "1.2.840.10008.5.1.4.1.1.481.3"


@dataclass
class Geometry:
    rows: int
    cols: int
    slices: int
    pixel_spacing: tuple[float, float]  # (row spacing = along columns' direction, column spacing)
    slice_gap: float
    origin: tuple[float, float, float]
    row_dir: tuple[float, float, float] = (1.0, 0.0, 0.0)  # direction of increasing column index
    col_dir: tuple[float, float, float] = (0.0, 1.0, 0.0)  # direction of increasing row index

    @property
    def normal(self) -> np.ndarray:
        return np.cross(self.row_dir, self.col_dir)

    def to_physical(self, i: float, j: float, k: float) -> np.ndarray:
        """Physical point of continuous index (i: column, j: row, k: slice)."""
        return (np.array(self.origin) + i * self.pixel_spacing[1] * np.array(self.row_dir)
                + j * self.pixel_spacing[0] * np.array(self.col_dir) + k * self.slice_gap * self.normal)

    @property
    def direction(self) -> tuple[float, ...]:
        """SimpleITK direction (row-major 3x3: columns are the i, j, k axes)."""
        m = np.column_stack([self.row_dir, self.col_dir, self.normal])
        return tuple(float(v) for v in m.ravel())

    @property
    def spacing(self) -> tuple[float, float, float]:
        return (self.pixel_spacing[1], self.pixel_spacing[0], self.slice_gap)


def _patient(ds: Dataset, patient_id: str, study_uid: str) -> None:
    ds.PatientName = "Synthetic^Patient"
    ds.PatientID = patient_id
    ds.PatientBirthDate = "19700101"
    ds.PatientSex = "O"
    ds.StudyInstanceUID = study_uid
    ds.StudyDate = "20200101"
    ds.StudyTime = "120000"
    ds.StudyID = "1"
    ds.AccessionNumber = "A1"
    ds.ReferringPhysicianName = ""


def _file_meta(sop_class: str, sop_uid: str) -> FileMetaDataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    return meta


def ct_series(geom: Geometry, *, patient_id: str = "SYN-001", study_uid: str | None = None,
              series_uid: str | None = None, for_uid: str | None = None, seed: int = 0,
              positions: list[float] | None = None, localizer: bool = False) -> list[Dataset]:
    """A CT series (one dataset per slice) with int16 pixels = known random values."""
    study_uid = study_uid or generate_uid()
    series_uid = series_uid or generate_uid()
    for_uid = for_uid or generate_uid()
    rng = np.random.default_rng(seed)
    out = []
    ks = positions if positions is not None else list(range(geom.slices))
    for n, k in enumerate(ks):
        sop = generate_uid()
        ds = Dataset()
        ds.file_meta = _file_meta(CTImageStorage, sop)
        _patient(ds, patient_id, study_uid)
        ds.SOPClassUID = CTImageStorage
        ds.SOPInstanceUID = sop
        ds.Modality = "CT"
        ds.SeriesInstanceUID = series_uid
        ds.SeriesNumber = 2
        ds.InstanceNumber = n + 1
        ds.FrameOfReferenceUID = for_uid
        ds.PositionReferenceIndicator = ""
        ds.Manufacturer = "SynthCo"
        ds.ManufacturerModelName = "Model S"
        ds.ImageType = ["ORIGINAL", "PRIMARY", "LOCALIZER" if localizer else "AXIAL"]
        ds.ImagePositionPatient = [float(v) for v in geom.to_physical(0, 0, k)]
        ds.ImageOrientationPatient = [float(v) for v in (*geom.row_dir, *geom.col_dir)]
        ds.PixelSpacing = [float(geom.pixel_spacing[0]), float(geom.pixel_spacing[1])]
        ds.SliceThickness = float(geom.slice_gap)
        ds.Rows, ds.Columns = geom.rows, geom.cols
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.BitsAllocated = 16
        ds.BitsStored = 16
        ds.HighBit = 15
        ds.PixelRepresentation = 1
        ds.RescaleIntercept = 0
        ds.RescaleSlope = 1
        ds.KVP = 120
        arr = rng.integers(-1000, 1000, size=(geom.rows, geom.cols), dtype=np.int16)
        ds.PixelData = arr.tobytes()
        out.append(ds)
    return out


def rtstruct(ct: list[Dataset], rois: dict[str, list[np.ndarray]], *, series_uid: str | None = None,
             description: str = "") -> Dataset:
    """An RTSTRUCT on ``ct`` with ROIs name -> list of contours (each an (N, 3) array of mm points)."""
    first = ct[0]
    sop = generate_uid()
    ds = Dataset()
    ds.file_meta = _file_meta(RTSTRUCT_STORAGE, sop)
    _patient(ds, first.PatientID, first.StudyInstanceUID)
    ds.SOPClassUID = RTSTRUCT_STORAGE
    ds.SOPInstanceUID = sop
    ds.Modality = "RTSTRUCT"
    ds.SeriesInstanceUID = series_uid or generate_uid()
    ds.SeriesNumber = 9
    ds.SeriesDescription = description
    ds.StructureSetLabel = "synthetic"
    ref_series = Dataset()
    ref_series.SeriesInstanceUID = first.SeriesInstanceUID
    ref_series.ContourImageSequence = []
    for c in ct:
        item = Dataset()
        item.ReferencedSOPClassUID = c.SOPClassUID
        item.ReferencedSOPInstanceUID = c.SOPInstanceUID
        ref_series.ContourImageSequence.append(item)
    ref_study = Dataset()
    ref_study.ReferencedSOPClassUID = "1.2.840.10008.3.1.2.3.1"
    ref_study.ReferencedSOPInstanceUID = first.StudyInstanceUID
    ref_study.RTReferencedSeriesSequence = [ref_series]
    ref_for = Dataset()
    ref_for.FrameOfReferenceUID = first.FrameOfReferenceUID
    ref_for.RTReferencedStudySequence = [ref_study]
    ds.ReferencedFrameOfReferenceSequence = [ref_for]
    ds.StructureSetROISequence = []
    ds.ROIContourSequence = []
    for number, (name, contours) in enumerate(rois.items(), start=1):
        roi = Dataset()
        roi.ROINumber = number
        roi.ReferencedFrameOfReferenceUID = first.FrameOfReferenceUID
        roi.ROIName = name
        roi.ROIGenerationAlgorithm = "MANUAL"
        ds.StructureSetROISequence.append(roi)
        rc = Dataset()
        rc.ReferencedROINumber = number
        rc.ROIDisplayColor = [255, 0, 0]
        rc.ContourSequence = []
        for pts in contours:
            c = Dataset()
            c.ContourGeometricType = "CLOSED_PLANAR"
            c.NumberOfContourPoints = len(pts)
            c.ContourData = [round(float(v), 6) for v in np.asarray(pts).ravel()]
            rc.ContourSequence.append(c)
        ds.ROIContourSequence.append(rc)
    return ds


def rectangle(geom: Geometry, i0: float, i1: float, j0: float, j1: float, k: int) -> np.ndarray:
    """Corners (mm) of the index-space rectangle [i0, i1] x [j0, j1] on slice k."""
    return np.array([geom.to_physical(i, j, k) for i, j in ((i0, j0), (i1, j0), (i1, j1), (i0, j1))])


def seg(ct: list[Dataset], mask: np.ndarray, label: str = "Nodule", *, description: str = "Segmentation"):
    """A binary DICOM SEG (highdicom) of ``mask`` (slices, rows, cols) on ``ct`` (in the given order)."""
    import highdicom as hd

    desc = hd.seg.SegmentDescription(
        segment_number=1,
        segment_label=label,
        segmented_property_category=hd.sr.CodedConcept("85756007", "SCT", "Tissue"),
        segmented_property_type=hd.sr.CodedConcept("108369006", "SCT", "Neoplasm"),
        algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL,
    )
    out = hd.seg.Segmentation(
        source_images=ct, pixel_array=mask.astype(bool), segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=[desc], series_instance_uid=generate_uid(), series_number=300,
        sop_instance_uid=generate_uid(), instance_number=1, manufacturer="radrepro tests",
        manufacturer_model_name="synthetic", software_versions="0", device_serial_number="0",
    )
    out.SeriesDescription = description
    return out


def write(datasets: list[Dataset], folder: Path) -> list[Path]:
    """Write datasets as ``1-001.dcm`` ... (TCIA's file names) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n, ds in enumerate(datasets, start=1):
        p = folder / f"1-{n:03d}.dcm"
        pydicom.dcmwrite(p, ds, enforce_file_format=True)
        paths.append(p)
    return paths


def install(folder: Path) -> None:
    """Write the manifest radrepro's fetch writes, so a hand-made folder counts as a cached series."""
    files = {p.name: {"sha256": hashlib.sha256(p.read_bytes()).hexdigest(), "md5": hashlib.md5(p.read_bytes()).hexdigest(),
                      "size": p.stat().st_size} for p in sorted(folder.iterdir()) if p.name != "manifest.json"}
    (folder / "manifest.json").write_text(json.dumps({"series": folder.name, "image_count": len(files), "files": files}))


def series_row(ds: Dataset, count: int, modality: str | None = None, description: str = "") -> dict:
    """A row of a card's series list for a generated series."""
    return {"PatientID": ds.PatientID, "StudyInstanceUID": ds.StudyInstanceUID, "SeriesInstanceUID": ds.SeriesInstanceUID,
            "Modality": modality or ds.Modality, "SeriesNumber": str(ds.SeriesNumber), "SeriesDescription": description,
            "StudyDate": "2020-01-01", "Manufacturer": "SynthCo", "ManufacturerModelName": "Model S",
            "image_count": count, "size_mb": 0.01}
