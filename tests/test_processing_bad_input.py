"""Awkward input through IBSI processing and the intensity families: defined values or clear errors."""

import numpy as np
import pytest
import SimpleITK as sitk

from radrepro import extract
from radrepro.errors import InputError
from radrepro.processing import prepare
from radrepro.settings import Settings

MINE = ["stat", "ih", "ivh", "loc"]


def pair(arr, m, spacing):
    img = sitk.GetImageFromArray(np.asarray(arr, dtype=np.float64))
    msk = sitk.GetImageFromArray(np.asarray(m, dtype=np.uint8))
    img.SetSpacing(spacing)
    msk.SetSpacing(spacing)
    return img, msk


def blob(shape, seed=0):
    rng = np.random.default_rng(seed)
    return np.round(rng.normal(40, 30, size=shape))


def test_anisotropic_image_interpolated_to_isotropic():
    arr = blob((6, 30, 20))
    m = np.zeros(arr.shape)
    m[2:4, 8:20, 5:15] = 1
    img, msk = pair(arr, m, (0.5, 0.8, 4.0))
    roi = prepare(img, msk, Settings(spacing=(1, 1, 1), intensity_rounding=1.0), diagnostics=True)
    d = roi.diagnostics
    assert (d["img_dim_x_interp_img"], d["img_dim_y_interp_img"], d["img_dim_z_interp_img"]) == (10, 24, 24)
    assert roi.spacing == (1.0, 1.0, 1.0)
    v = extract(img, msk, {"spacing": [1, 1, 1], "intensity_rounding": 1.0, "families": MINE})
    assert np.isfinite(v.drop("ivh_auc")).all()


def test_2d_image_is_one_slice():
    arr = blob((12, 14))
    m = np.zeros(arr.shape)
    m[3:9, 4:10] = 1
    img, msk = pair(arr, m, (0.7, 0.7))
    roi = prepare(img, msk, Settings(spacing=(1.4, 1.4, 1.4)))
    assert roi.image.ndim == 3 and roi.image.shape[0] == 1 and roi.spacing[2] == 1.0
    v = extract(img, msk, {"families": MINE})
    assert np.isfinite(v).all()
    assert v["stat_mean"] == pytest.approx(arr[m > 0].mean())


def test_single_voxel_roi():
    arr = blob((5, 5, 5))
    m = np.zeros(arr.shape)
    m[2, 2, 2] = 1
    v = extract(*pair(arr, m, (1.0, 1.0, 1.0)), {"families": MINE, "discretisation": "fbn", "bin_count": 8})
    x = arr[2, 2, 2]
    assert v["stat_mean"] == x and v["stat_var"] == 0 and v["stat_skew"] == 0 and v["stat_kurt"] == 0
    assert v["ih_mean"] == 1 and v["ih_entropy"] == 0 and v["ih_max_grad"] == 0
    assert np.isnan(v["ivh_v10"]) and v["ivh_auc"] == 0 and v["ivh_i10"] == x + 1
    # the 6.2 mm sphere around the centre of a 5 x 5 x 5 mm image holds the whole image
    assert v["loc_peak_loc"] == v["loc_peak_glob"] == pytest.approx(arr.mean())


def test_single_slice_roi_with_in_plane_interpolation():
    arr = blob((5, 20, 20))
    m = np.zeros(arr.shape)
    m[2, 5:15, 5:15] = 1
    img, msk = pair(arr, m, (0.8, 0.8, 3.0))
    v = extract(img, msk, {"spacing": [2, 2, 0], "interpolation_2d": True, "families": MINE})
    assert np.isfinite(v).all()


def test_one_grey_level():
    arr = np.full((4, 8, 8), 17.0)
    m = np.zeros(arr.shape)
    m[1:3, 2:6, 2:6] = 1
    v = extract(*pair(arr, m, (1.0, 1.0, 1.0)), {"families": MINE, "discretisation": "fbn"})
    assert v["stat_var"] == 0 and v["stat_skew"] == 0 and v["stat_iqr"] == 0 and v["stat_mean"] == 17
    assert v["ih_mean"] == 1 and v["ih_uniformity"] == 1
    assert np.isnan(v["ivh_v10"]) and v["ivh_i90"] == 18
    assert v["loc_peak_loc"] == 17 and v["loc_peak_glob"] == 17


def test_roi_emptied_by_resegmentation_gives_nan():
    arr = blob((4, 8, 8))
    m = np.zeros(arr.shape)
    m[1:3, 2:6, 2:6] = 1
    img, msk = pair(arr, m, (1.0, 1.0, 1.0))
    s = Settings(reseg_range=(5000, 6000))
    roi = prepare(img, msk, s, diagnostics=True)
    assert not roi.int_mask.any() and roi.morph_mask.sum() == 32 and roi.n_levels == 0
    assert roi.diagnostics["int_mask_vox_count_reseg_roi"] == 0
    assert np.isnan(roi.diagnostics["int_mask_mean_int_reseg_roi"])
    v = extract(img, msk, {"reseg_range": [5000, 6000], "families": MINE})
    assert v.isna().all() and len(v) == 18 + 23 + 7 + 2


def test_mask_on_another_grid_and_empty_label_are_input_errors():
    arr = blob((4, 8, 8))
    m = np.zeros(arr.shape)
    img, msk = pair(arr, m, (1.0, 1.0, 1.0))
    with pytest.raises(InputError, match="no voxel with label"):
        extract(img, msk)
    with pytest.raises(InputError, match="no ROI voxel"):
        prepare(img, msk, Settings())
