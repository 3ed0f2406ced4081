"""The six texture families together: IBSI reference values, bad input, thread-count independence."""

import hashlib
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
import SimpleITK as sitk
from _texture_refs import ibsi_match, reference_rows

from radrepro.features import _texture, gldzm, glcm, glrlm, glszm, ngldm, ngtdm
from radrepro.ibsi.ibsi1 import settings_for
from radrepro.processing import prepare
from radrepro.settings import Settings

FAMILIES = (glcm, glrlm, glszm, gldzm, ngtdm, ngldm)
ALL_DIMS = ("2D", "2.5D", "3D")


def texture(roi) -> dict[str, float]:
    out = {}
    for family in FAMILIES:
        out.update(family.compute(roi))
    return out


def _image(arr, spacing=(1.0, 1.0, 1.0)):
    img = sitk.GetImageFromArray(np.asarray(arr))
    img.SetSpacing(spacing)
    return img


def roi_of(image, mask, **settings):
    return prepare(_image(image.astype(np.float64)), _image(mask.astype(np.uint8)), Settings(**settings))


def _mismatches(values, rows):
    return [(tag, ref, tol, values.get(tag)) for tag, ref, tol in rows if not ibsi_match(ref, tol, values.get(tag, np.nan))]


def test_digital_phantom_every_aggregation(ibsi_data):
    folder = ibsi_data / "ibsi1" / "digital_phantom"
    roi = prepare(
        sitk.ReadImage(str(folder / "image" / "phantom.nii.gz")),
        sitk.ReadImage(str(folder / "mask" / "mask.nii.gz")),
        settings_for("phantom"),
    )
    assert roi.settings.texture_dims == ALL_DIMS
    assert roi.n_levels == 6  # grey levels are the intensities 1..6 of the ROI
    values = texture(roi)
    rows = reference_rows(ibsi_data, "digital phantom")
    assert len(rows) == 408
    assert set(values) == {tag for tag, _, _ in rows}  # every reference tag, nothing else
    assert _mismatches(values, rows) == []


@pytest.fixture(scope="module")
def ct_phantom(ibsi_data):
    folder = ibsi_data / "ibsi1" / "ct_phantom"
    return sitk.ReadImage(str(folder / "image" / "phantom.nii.gz")), sitk.ReadImage(str(folder / "mask" / "mask.nii.gz"))


@pytest.mark.parametrize("config, n_values", [("A", 272), ("B", 272), ("C", 136), ("D", 136), ("E", 136)])
def test_ct_phantom_configurations(ibsi_data, ct_phantom, config, n_values):
    # the settings IBSI prescribes (interpolation, re-segmentation, discretisation, dims) per configuration
    roi = prepare(*ct_phantom, settings_for(config))
    values = texture(roi)
    rows = reference_rows(ibsi_data, f"configuration {config}")
    assert len(rows) == n_values
    assert set(values) == {tag for tag, _, _ in rows}
    assert _mismatches(values, rows) == []


def _no_warnings(roi):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return texture(roi)


def test_single_voxel_roi():
    image = np.arange(27).reshape(3, 3, 3)
    mask = np.zeros((3, 3, 3), bool)
    mask[1, 1, 1] = True
    v = _no_warnings(roi_of(image, mask, texture_dims=ALL_DIMS))
    assert all(np.isnan(x) for k, x in v.items() if k.startswith(("cm_", "ngt_")))  # no neighbours
    for suffix in ("2D_avg", "2_5D_comb", "3D_avg", "3D_comb"):
        assert v[f"rlm_sre_{suffix}"] == 1.0 and v[f"rlm_r_perc_{suffix}"] == 1.0
    for suffix in ("2D", "2_5D", "3D"):
        assert v[f"szm_sze_{suffix}"] == 1.0 and v[f"dzm_sde_{suffix}"] == 1.0
        assert v[f"ngl_lde_{suffix}"] == 1.0 and v[f"ngl_dc_energy_{suffix}"] == 1.0


def test_one_grey_level():
    v = _no_warnings(roi_of(np.full((3, 4, 4), 7.0), np.ones((3, 4, 4), bool), texture_dims=ALL_DIMS))
    assert v["cm_joint_max_3D_avg"] == 1.0 and v["cm_contrast_2D_avg"] == 0.0 and v["cm_info_corr2_3D_comb"] == 0.0
    assert np.isnan(v["cm_corr_3D_avg"]) and np.isnan(v["cm_info_corr1_2_5D_comb"])  # zero variance / entropy
    assert v["rlm_gl_var_3D_avg"] == 0.0 and v["szm_glnu_norm_3D"] == 1.0 and v["szm_sze_3D"] == 1 / 48**2
    assert np.isnan(v["ngt_coarseness_3D"]) and v["ngt_complexity_3D"] == 0.0


def test_empty_intensity_mask_gives_nan_for_every_tag():
    image = np.full((2, 3, 3), 50.0)
    mask = np.ones((2, 3, 3), bool)
    v = _no_warnings(roi_of(image, mask, texture_dims=ALL_DIMS, reseg_range=(100, 200)))
    full = texture(roi_of(image, mask, texture_dims=ALL_DIMS))
    assert set(v) == set(full) and len(v) == 6 * 25 + 6 * 16 + 3 * (16 + 16 + 5 + 17)
    assert all(np.isnan(x) for x in v.values())


def test_single_slice_roi_and_settings_choose_aggregations():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 5, size=(1, 6, 7))
    v = _no_warnings(roi_of(image, np.ones(image.shape, bool), texture_dims=("2D",), bin_width=1.0))
    assert all(k.endswith(("_2D", "_2D_avg", "_2D_comb")) for k in v)
    assert len(v) == 2 * 25 + 2 * 16 + 16 + 16 + 5 + 17
    assert all(np.isfinite(x) for x in v.values())
    # with one slice, slice-merged (2.5D) equals per-slice (2D)
    w = texture(roi_of(image, np.ones(image.shape, bool), texture_dims=("2D", "2.5D"), bin_width=1.0))
    for k, x in v.items():
        k25 = k.replace("_2D", "_2_5D")
        assert w[k25] == pytest.approx(x, rel=1e-12), k


def test_slices_without_roi_voxels_are_skipped():
    rng = np.random.default_rng(1)
    image = rng.integers(0, 4, size=(3, 5, 5)).astype(float)
    mask = np.ones(image.shape, bool)
    mask[1] = False  # an empty slice inside the bounding box
    v = _no_warnings(roi_of(image, mask, texture_dims=("2D",), bin_width=1.0))
    per_slice = [texture(roi_of(image[z : z + 1], mask[z : z + 1], texture_dims=("2D",), bin_width=1.0)) for z in (0, 2)]
    # per-slice roi_of() rediscretises from each slice's minimum; compare only level-shift-free features
    for tag in ("cm_contrast_2D_comb", "rlm_sre_2D_avg", "szm_sze_2D", "dzm_sde_2D", "ngl_lde_2D", "ngt_strength_2D"):
        assert v[tag] == pytest.approx(np.mean([p[tag] for p in per_slice]), rel=1e-12), tag


def test_feature_chunks_do_not_change_values(monkeypatch):
    rng = np.random.default_rng(2)
    roi = roi_of(rng.normal(0, 50, (5, 9, 9)), rng.random((5, 9, 9)) < 0.9, texture_dims=ALL_DIMS, bin_width=20.0)
    whole = texture(roi)
    monkeypatch.setattr(_texture, "_CHUNK_ELEMENTS", 1)  # one matrix per feature-function call
    chunked = texture(roi)
    assert whole.keys() == chunked.keys()
    np.testing.assert_array_equal(np.array(list(whole.values())), np.array([chunked[k] for k in whole]))


_THREAD_SCRIPT = """
import hashlib, sys
import numpy as np
import SimpleITK as sitk
from radrepro.features import _texture, gldzm, glcm, glrlm, glszm, ngldm, ngtdm
from radrepro.processing import prepare
from radrepro.settings import Settings
rng = np.random.default_rng(7)
image = sitk.GetImageFromArray(rng.normal(0, 100, size=(12, 40, 40)))
mask = sitk.GetImageFromArray((rng.random((12, 40, 40)) < 0.9).astype(np.uint8))
roi = prepare(image, mask, Settings(discretisation="fbn", bin_count=16, texture_dims=("2D", "2.5D", "3D")))
values = {}
for family in (glcm, glrlm, glszm, gldzm, ngtdm, ngldm):
    values.update(family.compute(roi))
keys = sorted(values)
print(len(keys), hashlib.sha256(np.array([values[k] for k in keys]).tobytes()).hexdigest())
"""


@pytest.mark.slow
def test_results_do_not_depend_on_thread_count():
    digests = []
    for threads in ("1", "2"):
        env = dict(os.environ, NUMBA_NUM_THREADS=threads, OMP_NUM_THREADS=threads, OPENBLAS_NUM_THREADS=threads)
        out = subprocess.run([sys.executable, "-c", _THREAD_SCRIPT], env=env, capture_output=True, text=True, check=True)
        digests.append(out.stdout.strip())
    assert digests[0] == digests[1]
    assert digests[0].startswith(str(6 * 25 + 6 * 16 + 3 * (16 + 16 + 5 + 17)) + " ")
