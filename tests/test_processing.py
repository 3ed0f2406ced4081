"""IBSI image processing on hand-computed cases: grid, interpolation, rounding, re-segmentation, discretisation."""

import numpy as np
import pytest
import SimpleITK as sitk

from radrepro.errors import InputError
from radrepro.processing import prepare
from radrepro.processing.discretise import discretise, discretise_ivh, fixed_bin_number, fixed_bin_size
from radrepro.processing.interpolate import axis_grid, ibsi_grid, interpolate, mask_box
from radrepro.processing.resegment import resegment
from radrepro.processing.roi import LOCAL_RADIUS_MM, local_margin
from radrepro.settings import Settings


def image(arr, spacing=(1.0, 1.0, 1.0)):
    img = sitk.GetImageFromArray(np.asarray(arr, dtype=np.float64))
    img.SetSpacing(spacing)
    return img


def mask_image(arr, spacing=(1.0, 1.0, 1.0)):
    m = sitk.GetImageFromArray(np.asarray(arr, dtype=np.uint8))
    m.SetSpacing(spacing)
    return m


# --------------------------------------------------------------------------------------------
# interpolation grid (IBSI 026Q, QCY4)


def test_axis_grid_ibsi_example():
    # IBSI manual: 4 voxels of 3 mm to 2 mm -> ceil(4 * 3 / 2) = 6 voxels, centred on the original grid
    n, start, step = axis_grid(4, 3.0, 2.0)
    assert n == 6
    assert step == pytest.approx(2 / 3)
    assert start == pytest.approx(0.5 * (3 - 2 / 3 * 5))
    assert start + step * (n - 1) / 2 == pytest.approx(1.5)  # same centre as the original grid


def test_axis_grid_rounds_up_and_keeps_exact_extents():
    assert axis_grid(5, 1.0, 2.0)[0] == 3  # 2.5 -> 3
    assert axis_grid(60, 3.0, 2.0)[0] == 90  # exactly 90: no spurious 91
    assert axis_grid(204, 0.9769999980926514, 2.0)[0] == 100  # CT phantom x
    assert axis_grid(201, 0.9769999980926514, 2.0)[0] == 99  # CT phantom y
    n, start, step = axis_grid(7, 2.0, 2.0)
    assert (n, start, step) == (7, 0.0, 1.0)  # same spacing: the identity


def test_ibsi_grid_in_plane_and_zero_spacing_keep_axes():
    g = ibsi_grid((10, 20, 30), (0.5, 0.5, 3.0), (1.0, 1.0, 1.0), in_plane=True)
    assert g.shape == (10, 10, 15)
    assert g.start[0] == 0.0 and g.step[0] == 1.0
    assert g.spacing == (1.0, 1.0, 3.0)
    g = ibsi_grid((10, 20, 30), (0.5, 0.5, 3.0), (0.0, 1.0, 1.5))
    assert g.shape == (20, 10, 30)
    assert g.spacing == (0.5, 1.0, 1.5)


def test_linear_interpolation_reproduces_a_ramp():
    z, y, x = np.meshgrid(np.arange(8), np.arange(9), np.arange(10), indexing="ij")
    ramp = 2.0 * x - 3.0 * y + 0.5 * z
    g = ibsi_grid(ramp.shape, (1.0, 1.0, 1.0), (0.7, 0.7, 0.7))
    zc, yc, xc = (g.coordinates(a) for a in range(3))
    expected = 2.0 * xc[None, None, :] - 3.0 * yc[None, :, None] + 0.5 * zc[:, None, None]
    out = interpolate(ramp, g, 1)
    assert out.shape == g.shape == (12, 13, 15)
    inside = tuple(slice(1, n - 1) for n in g.shape)  # the first and last new voxels lie outside the old grid
    np.testing.assert_allclose(out[inside], expected[inside], atol=1e-12)
    # outside the original grid the boundary intensity is repeated (IBSI: pad with the boundary values)
    assert out[5, 5, 0] == pytest.approx(expected[5, 5, 0] + 2.0 * (0 - xc[0]))


def test_cubic_spline_interpolates_the_samples_and_is_smooth_inside():
    rng = np.random.default_rng(0)
    arr = rng.normal(size=(3, 4, 60))
    same = ibsi_grid(arr.shape, (1.0, 1.0, 1.0), (1.0, 1.0, 1.0))
    np.testing.assert_allclose(interpolate(arr, same, 3), arr, atol=1e-12)  # an interpolating spline
    # deep inside a long ramp the cubic B-spline is exact (the boundary's influence decays as 0.268^d)
    ramp = np.broadcast_to(np.arange(60, dtype=float), (3, 4, 60)).copy()
    g = ibsi_grid(ramp.shape, (1.0, 1.0, 1.0), (0.0, 0.0, 0.5))
    out = interpolate(ramp, g, 3)[1, 1]
    xc = g.coordinates(2)
    np.testing.assert_allclose(out[40:80], xc[40:80], atol=1e-6)


def test_nearest_interpolation_picks_the_nearest_voxel():
    arr = np.arange(4, dtype=float).reshape(1, 1, 4)  # x = 0, 1, 2, 3
    g = ibsi_grid(arr.shape, (3.0, 1.0, 1.0), (2.0, 0.0, 0.0))
    # new x positions -1/6, 1/2 (exact tie, rounds to 0 or 1), 7/6, 11/6, 5/2, 19/6 (beyond: padded)
    out = interpolate(arr, g, 0)[0, 0]
    assert out[0] == 0 and out[2] == 1 and out[3] == 2 and out[5] == 3


def test_interpolating_a_box_equals_cropping_the_full_grid():
    rng = np.random.default_rng(1)
    arr = rng.normal(size=(12, 30, 31)).cumsum(axis=2)
    msk = np.zeros(arr.shape, bool)
    msk[4:8, 10:20, 12:18] = True
    g = ibsi_grid(arr.shape, (0.8, 0.8, 2.5), (2.0, 2.0, 2.0))
    box = mask_box(msk, g, (1, 1, 1))
    for order in (0, 1, 3):
        full = interpolate(arr, g, order)
        np.testing.assert_allclose(interpolate(arr, g, order, box=box), full[box], atol=1e-9)
    # the box holds every voxel the interpolated mask reaches
    frac = interpolate(msk.astype(float), g, 1)
    assert frac[box].sum() == pytest.approx(frac.sum())


# --------------------------------------------------------------------------------------------
# re-segmentation and discretisation


def test_range_resegmentation_is_inclusive():
    img = np.array([-600.0, -500, 0, 400, 401])
    m = np.ones(5, bool)
    keep = resegment(img, m, Settings(reseg_range=(-500, 400)))
    assert keep.tolist() == [False, True, True, True, False]
    assert resegment(img, m, Settings(reseg_range=(None, 0))).tolist() == [True, True, True, False, False]


def test_outlier_filter_uses_the_mask_before_the_range():
    # values 0 x 9 and 100: mean 10, population sd 30 -> mean + 3 sd = 100 keeps 100 (<=)
    img = np.array([0.0] * 9 + [100.0, 500.0])
    m = np.ones(11, bool)
    m[10] = False  # outside the morphological mask: never kept, never counted
    assert resegment(img, m, Settings(outlier_sigma=3)).tolist() == [True] * 10 + [False]
    # mean +- 2 sd = [-50, 70] drops 100
    assert resegment(img, m, Settings(outlier_sigma=2)).tolist() == [True] * 9 + [False, False]
    # combined with a range: the sigma window comes from all ten voxels, then both are intersected
    both = resegment(img, m, Settings(reseg_range=(-1, 150), outlier_sigma=3))
    assert both.tolist() == [True] * 10 + [False]


def test_fixed_bin_number_hand_case():
    v = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    # N = 2: floor(2 (v - 1) / 4) + 1 = 1, 1, 2, 2, (3 -> 2)
    assert fixed_bin_number(v, 2).tolist() == [1, 1, 2, 2, 2]
    assert fixed_bin_number(np.full(3, 7.0), 32).tolist() == [1, 1, 1]


def test_fixed_bin_size_starts_at_the_range_lower_bound():
    v = np.array([-500.0, -476.0, -475.0, 0.0, 399.0])
    assert fixed_bin_size(v, -500, 25).tolist() == [1, 1, 2, 21, 36]
    levels, n, low, width = discretise(v, np.ones(5, bool), Settings(discretisation="fbs", bin_width=25), low=-500)
    assert levels.tolist() == [1, 1, 2, 21, 36] and n == 36 and low == -500 and width == 25
    # without a range the ROI minimum is the origin
    levels, n, low, _ = discretise(v + 1000, np.ones(5, bool), Settings(discretisation="fbs", bin_width=25))
    assert low == 500 and levels.tolist() == [1, 1, 2, 21, 36]


def test_ivh_discretisations():
    v = np.array([0.0, 1.0, 2.4, 5.0])
    s = Settings(ivh_discretisation="fbs", ivh_bin_width=1.0)
    d = discretise_ivh(v, s, (0.0, 5.0))
    # bins 1, 2, 3, 6 -> grid units 0, 1, 2, 5; G = [0.5, 4.5] (bin centres), span 4
    assert d.x.tolist() == [0, 1, 2, 5] and d.span == 4 and d.origin == 0.5 and d.step == 1.0
    d = discretise_ivh(v, Settings(ivh_discretisation="fbn", ivh_bin_count=10))
    # floor(10 v / 5) + 1, the maximum in bin 10 -> 1, 3, 5, 10; G = [1, 10]
    assert d.x.tolist() == [0, 2, 4, 9] and d.span == 9 and d.origin == 1.0
    d = discretise_ivh(np.array([3.0, -2.0, 7.0]), Settings(ivh_discretisation="none"), (-5.0, None))
    assert d.x.tolist() == [3, 8, 12] and d.span == 12 and d.origin == -5.0 and d.step == 1.0


# --------------------------------------------------------------------------------------------
# prepare: the whole chain


def test_prepare_rounds_resegments_and_discretises():
    arr = np.zeros((3, 6, 6))
    arr[1, 2:4, 2:4] = [[10.4, 20.6], [-30.0, 99.5]]
    m = np.zeros(arr.shape)
    m[1, 2:4, 2:4] = 1
    s = Settings(intensity_rounding=1.0, reseg_range=(0, 50), discretisation="fbs", bin_width=10)
    roi = prepare(image(arr), mask_image(m), s, diagnostics=True)
    assert sorted(roi.image[roi.morph_mask].tolist()) == [-30, 10, 21, 100]  # 99.5 -> 100 (nearest, half to even)
    assert sorted(roi.values.tolist()) == [10, 21]
    assert sorted(roi.levels[roi.int_mask].tolist()) == [2, 3]  # floor((10 - 0) / 10) + 1, floor(21 / 10) + 1
    assert roi.n_levels == 3 and roi.bin_edges_low == 0
    assert roi.reseg_bounds == (0, 50)
    d = roi.diagnostics
    assert d["int_mask_vox_count_init_roi"] == 4 and d["int_mask_vox_count_reseg_roi"] == 2
    assert d["morph_mask_vox_count_reseg_roi"] == 4
    assert d["int_mask_max_int_reseg_roi"] == 21 and d["int_mask_bb_dim_x_reseg_roi"] == 2
    assert d["img_dim_x_init_img"] == 6 and d["img_dim_z_init_img"] == 3


def test_prepare_interpolation_and_partial_volume():
    # 4 x 4 x 4 voxels of 1 mm -> 2 mm: new voxels at 0.5 and 2.5, each the mean of 2 x 2 x 2 old voxels
    arr = np.arange(64, dtype=float).reshape(4, 4, 4)
    m = np.zeros((4, 4, 4))
    m[0:2, 0:2, 0:2] = 1  # exactly one new voxel's neighbourhood: fraction 1; its neighbours get 0
    roi = prepare(image(arr), mask_image(m), Settings(spacing=(2, 2, 2)), diagnostics=True)
    d = roi.diagnostics
    assert (d["img_dim_x_interp_img"], d["img_dim_z_interp_img"], d["vox_dim_z_interp_img"]) == (2, 2, 2.0)
    assert roi.morph_mask.sum() == 1 and d["morph_mask_vox_count_interp_roi"] == 1
    assert roi.values.tolist() == [pytest.approx(arr[0:2, 0:2, 0:2].mean())]
    assert d["mean_int_interp_img"] == pytest.approx(arr.mean())
    # the inner 2 x 2 x 2 cube gives every new voxel a fraction of 1/8 < 0.5: nothing is left
    m[:] = 0
    m[1:3, 1:3, 1:3] = 1
    with pytest.raises(InputError, match="empty after interpolation"):
        prepare(image(arr), mask_image(m), Settings(spacing=(2, 2, 2)))


def test_mask_exactly_at_the_threshold_is_kept():
    # halfway between two slices the mask fraction is exactly 0.5: IBSI keeps it (>= 0.5)
    arr = np.zeros((2, 3, 3))
    m = np.zeros((2, 3, 3))
    m[0] = 1
    g = Settings(spacing=(0.0, 0.0, 2.0))  # z: 2 slices of 1 mm -> 1 slice of 2 mm at z = 0.5
    roi = prepare(image(arr), mask_image(m), g)
    assert roi.morph_mask.sum() == 9


def test_roi_keeps_a_margin_for_local_intensity():
    arr = np.zeros((5, 40, 40))
    m = np.zeros(arr.shape)
    m[2, 20, 20] = 1
    roi = prepare(image(arr, (0.5, 0.5, 3.0)), mask_image(m, (0.5, 0.5, 3.0)), Settings())
    assert local_margin((0.5, 0.5, 3.0)) == (3, 13, 13)
    assert roi.image.shape == (5, 27, 27)  # z clipped by the image, y/x 13 on each side
    assert LOCAL_RADIUS_MM == pytest.approx(6.2035, abs=1e-4)


def test_empty_mask_after_interpolation_is_a_clear_error():
    arr = np.zeros((6, 6, 6))
    m = np.zeros(arr.shape)
    m[2, 2, 2] = 1  # one 1 mm voxel: no 3 mm voxel reaches a fraction of 0.5
    with pytest.raises(InputError, match="empty after interpolation"):
        prepare(image(arr), mask_image(m), Settings(spacing=(3, 3, 3)))


def test_nan_next_to_the_roi_spreading_into_it_is_a_clear_error():
    arr = np.zeros((4, 6, 6))
    arr[:, :, 0] = np.nan
    m = np.zeros(arr.shape)
    m[:, :, 1:] = 1  # the new voxels at x = 0.5 mix the NaN column with the ROI (fraction 0.5)
    with pytest.raises(InputError, match="NaN"):
        prepare(image(arr), mask_image(m), Settings(spacing=(2, 2, 2)))
    # without interpolation the NaN stays outside the ROI and is fine
    roi = prepare(image(arr), mask_image(m), Settings())
    assert np.isfinite(roi.values).all()
