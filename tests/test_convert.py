"""DICOM to NIfTI conversion on small generated series: RTSTRUCT rasterisation, DICOM SEG, geometry, bad cases."""

from __future__ import annotations

import hashlib
import re

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk

from radrepro.datasets.cards import load_cases
from radrepro.datasets.convert import convert
from radrepro.datasets.dicom import read_series
from radrepro.errors import InputError
import _dicom_synth as syn
from _cards import tcia_card

# square, non-square (more columns than rows: rt-utils clips such contours), and rotated in-plane
GEOMETRIES = {
    "square": syn.Geometry(rows=12, cols=12, slices=5, pixel_spacing=(0.8, 0.8), slice_gap=2.5,
                           origin=(-40.0, -30.0, 100.0)),
    "non-square": syn.Geometry(rows=12, cols=20, slices=5, pixel_spacing=(0.9, 0.7), slice_gap=3.0,
                               origin=(10.0, -5.5, -20.0)),
    "rotated": syn.Geometry(rows=10, cols=22, slices=4, pixel_spacing=(1.1, 0.6), slice_gap=2.0,
                            origin=(3.0, 4.0, 5.0), row_dir=(0.0, 1.0, 0.0), col_dir=(-1.0, 0.0, 0.0)),
}


def _rect_case(geom: syn.Geometry):
    """Contours and the hand-computed mask: a 5 x 3 rectangle on slices 1-3 with a 1-voxel hole on slice 2."""
    i0 = geom.cols - 6.5  # columns cols-6 .. cols-2: beyond the row count for the non-square image
    contours = [syn.rectangle(geom, i0, i0 + 5, 1.5, 4.5, k) for k in (1, 2, 3)]
    contours.append(syn.rectangle(geom, i0 + 2, i0 + 3, 2.5, 3.5, 2))  # hole: one voxel
    expected = np.zeros((geom.slices, geom.rows, geom.cols), dtype=np.uint8)
    c0 = int(i0 + 0.5)
    expected[1:4, 2:5, c0:c0 + 5] = 1
    expected[2, 3, c0 + 2] = 0
    return contours, expected


def _install(root, datasets):
    folder = root / "dicom" / datasets[0].SeriesInstanceUID
    syn.write(datasets, folder)
    syn.install(folder)
    return folder


@pytest.mark.parametrize("name", list(GEOMETRIES))
def test_rtstruct_rectangle_gives_hand_computed_mask_and_geometry(tmp_path, name):
    geom = GEOMETRIES[name]
    ct = syn.ct_series(geom, seed=1)
    contours, expected = _rect_case(geom)
    rt = syn.rtstruct(ct, {"External": [syn.rectangle(geom, 0.5, 2.5, 0.5, 2.5, 0)], "GTV-1": contours})
    root = tmp_path / "cache" / "syn"
    shuffled = [ct[i] for i in np.random.default_rng(0).permutation(len(ct))]  # file order != slice order
    _install(root, shuffled)
    _install(root, [rt])
    card = tcia_card(tmp_path / "cards", "syn", [syn.series_row(ct[0], len(ct)), syn.series_row(rt, 1)], roi="^GTV-1$")
    table = convert(card, tmp_path / "cache")
    assert table["status"].tolist() == ["ok"], table["error"].tolist()
    assert int(expected.sum()) == 44
    assert int(table["voxels"].iloc[0]) == 44
    (case,) = load_cases(card, tmp_path / "cache")
    assert case.id == ct[0].PatientID and case.metadata["roi"] == "GTV-1"
    img = sitk.ReadImage(str(case.image))
    msk = sitk.ReadImage(str(case.mask))
    np.testing.assert_array_equal(sitk.GetArrayFromImage(msk), expected)
    for im in (img, msk):
        np.testing.assert_allclose(im.GetSpacing(), geom.spacing, atol=1e-6)
        np.testing.assert_allclose(im.GetOrigin(), geom.to_physical(0, 0, 0), atol=1e-4)
        np.testing.assert_allclose(im.GetDirection(), geom.direction, atol=1e-6)
    # voxel values: slice k of the volume is the generated slice k
    arr = sitk.GetArrayFromImage(img)
    for k, ds in enumerate(ct):
        np.testing.assert_array_equal(arr[k], np.frombuffer(ds.PixelData, dtype=np.int16).reshape(geom.rows, geom.cols))
    image, mask = case.load()
    assert int(sitk.GetArrayViewFromImage(mask).sum()) == 44


@pytest.mark.parametrize("name", ["square", "non-square"])
def test_seg_mask_round_trip(tmp_path, name):
    geom = GEOMETRIES[name]
    ct = syn.ct_series(geom, seed=2, patient_id="SYN-SEG")
    truth = np.zeros((geom.slices, geom.rows, geom.cols), dtype=bool)
    truth[1:4, 3:7, geom.cols - 5:geom.cols - 1] = True  # a 3 x 4 x 4 cuboid = 48 voxels
    truth[2, 0, 0] = True
    seg = syn.seg(ct, truth, label="Nodule", description="Segmentation of Nodule 1 - Annotation R7")
    root = tmp_path / "cache" / "segs"
    _install(root, ct[::-1])
    _install(root, [seg])
    card = tcia_card(tmp_path / "cards", "segs", [syn.series_row(ct[0], len(ct)),
                                                  syn.series_row(seg, 1, "SEG", seg.SeriesDescription)],
                     seg_kind="SEG", roi="nodule", pairing="multi-reader",
                     pattern=r"Nodule (?P<nodule>\\d+) - Annotation (?P<reader>.+)$", member="reader")
    table = convert(card, tmp_path / "cache")
    assert table["status"].tolist() == ["ok"], table["error"].tolist()
    (case,) = load_cases(card, tmp_path / "cache")
    assert case.id == "SYN-SEG_R7"
    assert case.metadata["nodule"] == "1" and case.metadata["reader"] == "R7"
    msk = sitk.ReadImage(str(case.mask))
    np.testing.assert_array_equal(sitk.GetArrayFromImage(msk), truth.astype(np.uint8))
    assert int(table["voxels"].iloc[0]) == 49
    np.testing.assert_allclose(msk.GetOrigin(), geom.to_physical(0, 0, 0), atol=1e-4)
    np.testing.assert_allclose(msk.GetSpacing(), geom.spacing, atol=1e-6)


def test_readers_and_bad_cases_are_recorded_and_others_go_on(tmp_path):
    geom = GEOMETRIES["non-square"]
    root = tmp_path / "cache" / "mixed"
    rows = []
    # patient A: two readers in one RTSTRUCT (per-ROI cases)
    ct_a = syn.ct_series(geom, patient_id="A", seed=3)
    contours, expected = _rect_case(geom)
    rt_a = syn.rtstruct(ct_a, {"GTV_reader1": contours, "GTV_reader2": contours[:1], "Lung": contours})
    # patient B: uneven slice spacing
    ct_b = syn.ct_series(geom, patient_id="B", positions=[0, 1, 2, 3.5, 4.5])
    rt_b = syn.rtstruct(ct_b, {"GTV_reader1": contours})
    # patient C: RTSTRUCT without a matching ROI
    ct_c = syn.ct_series(geom, patient_id="C")
    rt_c = syn.rtstruct(ct_c, {"Heart": contours})
    # patient D: a corrupt RTSTRUCT file
    ct_d = syn.ct_series(geom, patient_id="D")
    rt_d = syn.rtstruct(ct_d, {"GTV_reader1": contours})
    # patient E: a localiser
    ct_e = syn.ct_series(geom, patient_id="E", localizer=True)
    rt_e = syn.rtstruct(ct_e, {"GTV_reader1": contours})
    for ct, rt in ((ct_a, rt_a), (ct_b, rt_b), (ct_c, rt_c), (ct_d, rt_d), (ct_e, rt_e)):
        _install(root, ct)
        folder = _install(root, [rt])
        rows += [syn.series_row(ct[0], len(ct)), syn.series_row(rt, 1)]
    bad = folder.parent / rt_d.SeriesInstanceUID / "1-001.dcm"
    bad.write_bytes(b"not a dicom file" * 10)
    syn.install(bad.parent)  # the cache is consistent; the file itself is broken
    card = tcia_card(tmp_path / "cards", "mixed", rows, roi="^GTV", per_roi=True, roi_metadata="reader",
                     pairing="multi-reader", member="reader")
    table = convert(card, tmp_path / "cache").set_index("subject")
    ok = table[table["status"] == "ok"]
    assert sorted(ok["id"]) == ["A_GTV-reader1", "A_GTV-reader2"]
    assert sorted(ok["voxels"].astype(int)) == [15, 44]
    errors = table[table["status"] == "failed"]["error"]
    assert "non-uniform slice spacing (3.000 to 4.500 mm)" in errors["B"]
    assert "no ROI matching '^GTV'" in errors["C"] and "Heart" in errors["C"]
    assert "1-001.dcm cannot be read" in errors["D"]
    assert "localiser" in errors["E"]
    assert all("\n" not in e for e in errors)
    cases = load_cases(card, tmp_path / "cache")
    assert {c.metadata["reader"] for c in cases} == {"GTV_reader1", "GTV_reader2"}
    assert all(c.metadata["scanner"] == "SynthCo Model S" for c in cases)
    text = (tmp_path / "cache" / "mixed" / "cases.csv").read_text()
    written = pd.read_csv(tmp_path / "cache" / "mixed" / "cases.csv")
    assert len(written) == 6 and not written["image"].dropna().str.startswith("/").any()
    # no identifying tag reaches the table or the messages (the synthetic files carry a name and birth date)
    assert "Synthetic" not in text and "1970" not in text


def test_contour_between_slices_is_an_error(tmp_path):
    geom = GEOMETRIES["square"]
    ct = syn.ct_series(geom)
    off = syn.rectangle(geom, 2.5, 6.5, 2.5, 6.5, 1) + 0.4 * geom.slice_gap * geom.normal
    rt = syn.rtstruct(ct, {"GTV": [off]})
    root = tmp_path / "cache" / "off"
    _install(root, ct)
    _install(root, [rt])
    card = tcia_card(tmp_path / "cards", "off", [syn.series_row(ct[0], len(ct)), syn.series_row(rt, 1)])
    table = convert(card, tmp_path / "cache")
    assert table["status"].tolist() == ["failed"]
    assert "lies between slices" in table["error"].iloc[0]


def test_read_series_rejects_duplicate_positions(tmp_path):
    geom = GEOMETRIES["square"]
    ct = syn.ct_series(geom, positions=[0, 1, 1, 2])
    syn.write(ct, tmp_path / "s")
    with pytest.raises(InputError, match="two slices at the same position"):
        read_series(tmp_path / "s")


def test_convert_before_fetch_says_what_to_run(tmp_path):
    ct = syn.ct_series(GEOMETRIES["square"])
    card = tcia_card(tmp_path / "cards", "nothing", [syn.series_row(ct[0], len(ct))])
    from radrepro.errors import DataUnavailableError

    with pytest.raises(DataUnavailableError, match="radrepro datasets fetch nothing"):
        convert(card, tmp_path / "cache")
    with pytest.raises(DataUnavailableError, match="radrepro datasets convert nothing"):
        load_cases(card, tmp_path / "cache")


def test_segmentation_of_an_unpinned_series_is_refused(tmp_path):
    geom = GEOMETRIES["square"]
    ct1 = syn.ct_series(geom, patient_id="S")
    ct2 = syn.ct_series(geom, patient_id="S", study_uid=ct1[0].StudyInstanceUID)
    truth = np.zeros((geom.slices, geom.rows, geom.cols), dtype=bool)
    truth[2, 2:4, 2:4] = True
    seg = syn.seg(ct1, truth)
    root = tmp_path / "cache" / "wrong"
    _install(root, ct2)
    _install(root, [seg])
    card = tcia_card(tmp_path / "cards", "wrong", [syn.series_row(ct2[0], len(ct2)), syn.series_row(seg, 1, "SEG")],
                     seg_kind="SEG", roi=".*")
    table = convert(card, tmp_path / "cache")
    assert table["status"].tolist() == ["failed"]
    assert f"references image series {ct1[0].SeriesInstanceUID}, which the card does not pin" in table["error"].iloc[0]


def test_salted_hash_subject_ids_keep_patient_ids_out(tmp_path):
    geom = GEOMETRIES["square"]
    ct = syn.ct_series(geom, patient_id="MRN-0012345")
    contours, expected = _rect_case(geom)
    rt = syn.rtstruct(ct, {"GTV": contours}, description="TEST")
    root = tmp_path / "cache" / "private"
    _install(root, ct)
    _install(root, [rt])
    rows = [syn.series_row(ct[0], len(ct)), syn.series_row(rt, 1, description="TEST")]
    card = tcia_card(tmp_path / "cards", "private", rows, subject_ids="salted-hash", pairing="test-retest",
                     pattern="^(?P<timepoint>RETEST|TEST)$", member="timepoint")
    table = convert(card, tmp_path / "cache")
    (case_id,) = table["id"]
    assert re.fullmatch(r"s-[0-9a-f]{12}_TEST", case_id)
    salt = (root / ".salt").read_text()
    assert case_id[:14] == "s-" + hashlib.sha256(f"{salt}:MRN-0012345".encode()).hexdigest()[:12]
    outputs = [root / "cases.csv", *(root / "nifti").rglob("*.nii.gz")]
    assert not any("MRN" in p.name for p in outputs) and "MRN" not in (root / "cases.csv").read_text()
    assert salt not in (root / "cases.csv").read_text()
    assert convert(card, tmp_path / "cache")["id"].tolist() == [case_id]  # stable between runs
    with pytest.raises(InputError, match="subject_ids 'plain'"):
        tcia_card(tmp_path / "cards", "bad", rows, subject_ids="plain")
