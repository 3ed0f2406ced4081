"""IBSI 2 filters: boundary conditions, alignment, rotations and check values computed by hand."""

import itertools
import math

import numpy as np
import pytest

from radrepro.errors import SettingsError
from radrepro.filters import apply_filter, check_filter
from radrepro.filters.boundary import NUMPY_MODES, separable_convolve
from radrepro.filters.gabor import gabor_filter
from radrepro.filters.laws import LAWS_KERNELS, laws_filter
from radrepro.filters.log import log_filter
from radrepro.filters.mean import mean_filter
from radrepro.filters.rotations import Pool, rotate, rotations, unrotate
from radrepro.filters.simoncelli import simoncelli_filter, simoncelli_transfer
from radrepro.filters.wavelets import dilate, wavelet_filter

BOUNDARIES = ("zero", "nearest", "periodic", "mirror")


def _slow_convolve_1d(f, h, boundary, axis):
    """sum_n h[n] f(x + floor(N/2) - n) with the boundary written out index by index."""
    f = np.moveaxis(f, axis, 0)
    n_len = f.shape[0]
    out = np.zeros_like(f, dtype=float)
    c = len(h) // 2
    for x in range(n_len):
        for t, w in enumerate(h):
            i = x + c - t
            if 0 <= i < n_len:
                v = f[i]
            elif boundary == "zero":
                v = 0.0
            elif boundary == "nearest":
                v = f[min(max(i, 0), n_len - 1)]
            elif boundary == "periodic":
                v = f[i % n_len]
            else:  # mirror, repeating the edge: ... c b a | a b c ...
                period = 2 * n_len
                j = i % period
                v = f[j if j < n_len else period - 1 - j]
            out[x] += w * v
    return np.moveaxis(out, 0, axis)


@pytest.mark.parametrize("boundary", BOUNDARIES)
@pytest.mark.parametrize("taps", [2, 3, 4, 5, 6, 12])
def test_separable_convolution_alignment_and_boundaries(boundary, taps):
    rng = np.random.default_rng(taps)
    f = rng.normal(size=(7, 5, 4))
    h = rng.normal(size=taps)
    for axis in range(3):
        expected = _slow_convolve_1d(f, h, boundary, axis)
        np.testing.assert_allclose(separable_convolve(f, {axis: h}, boundary), expected, rtol=1e-12, atol=1e-12)


def test_mirror_repeats_the_edge_voxel():
    assert NUMPY_MODES["mirror"] == "symmetric"
    f = np.array([1.0, 2.0, 3.0]).reshape(3, 1, 1)
    out = mean_filter(f, 3, "3D", "mirror")[:, 0, 0]
    # along the other two axes the single voxel is repeated: the mean is along i only
    np.testing.assert_allclose(out, [(1 + 1 + 2) / 3, 2.0, (2 + 3 + 3) / 3])
    np.testing.assert_allclose(mean_filter(f, 3, "3D", "periodic")[:, 0, 0], [2.0, 2.0, 2.0])
    np.testing.assert_allclose(mean_filter(f, 3, "3D", "zero")[:, 0, 0] * 27, [3.0, 6.0, 5.0])
    np.testing.assert_allclose(mean_filter(f, 3, "3D", "nearest")[:, 0, 0], [4 / 3, 2.0, 8 / 3])


def test_rotations_are_the_24_proper_rotations_of_the_cube():
    rots = rotations("3D")
    assert len(rots) == 24 and rots[0] == ((0, 1, 2), ())
    f = np.arange(2 * 3 * 4, dtype=float).reshape(2, 3, 4)
    images = {rotate(f, r).tobytes() + bytes(str(rotate(f, r).shape), "ascii") for r in rots}
    assert len(images) == 24
    for r in rots:
        np.testing.assert_array_equal(unrotate(rotate(f, r), r), f)
        perm, flips = r
        m = np.zeros((3, 3))
        for a, p in enumerate(perm):
            m[a, p] = -1.0 if a in flips else 1.0
        assert round(np.linalg.det(m)) == 1
    assert len(rotations("2D")) == 4
    assert all(p[2] == 2 and 2 not in fl for p, fl in rotations("2D"))


def test_pool_average_max_and_weights():
    p = Pool("average")
    p.add(np.array([1.0, 4.0]))
    p.add(np.array([3.0, 0.0]), weight=3)
    np.testing.assert_allclose(p.value(), [(1 + 9) / 4, 1.0])
    q = Pool("max")
    q.add(np.array([1.0, 4.0]))
    q.add(np.array([3.0, 0.0]))
    np.testing.assert_allclose(q.value(), [3.0, 4.0])
    with pytest.raises(SettingsError):
        Pool("median")


def _impulse(n=21, value=255.0):
    f = np.zeros((n, n, n))
    f[n // 2, n // 2, n // 2] = value
    return f


def test_log_centre_value_on_the_impulse():
    # 255 x LoG(0) for sigma 1.5 voxels in 3D: 255 * (-3 / s^2) / (2 pi s^2)^(3/2) = -6.3965 (IBSI 2 test 2.a)
    s = 1.5
    expected = 255 * (-3 / s**2) / (2 * math.pi * s**2) ** 1.5
    out = log_filter(_impulse(), s, "3D", "zero")
    assert out[10, 10, 10] == pytest.approx(expected, rel=2e-3)
    assert out[10, 10, 10] == pytest.approx(-6.3965, abs=2e-3)


def test_laws_maximum_and_rotation_invariance():
    out = laws_filter(_impulse(), "E5L5S5", "3D", "zero")
    assert out.max() == pytest.approx(255 * (2 / math.sqrt(10)) * (6 / math.sqrt(70)) * (2 / math.sqrt(6)), rel=1e-12)
    # true convolution: the response to an impulse is the kernel itself (correlation would flip it)
    k = np.einsum("i,j,k->ijk", LAWS_KERNELS["E5"], LAWS_KERNELS["L5"], LAWS_KERNELS["S5"])
    np.testing.assert_allclose(out[8:13, 8:13, 8:13], 255 * k, atol=1e-12)
    pooled = laws_filter(_impulse(), "E5L5S5", "3D", "zero", rotation_invariant=True, pooling="max")
    rotated = laws_filter(np.ascontiguousarray(rotate(_impulse(), rotations("3D")[5])), "E5L5S5", "3D", "zero",
                          rotation_invariant=True, pooling="max")
    np.testing.assert_allclose(rotate(pooled, rotations("3D")[5]), rotated, atol=1e-12)


def test_wavelet_alignment_and_level_two_gain():
    f = np.zeros((64, 1, 1))
    f[31] = 255.0
    out = wavelet_filter(f, "db2", "HLL", 1, "3D", "zero")[:, 0, 0]
    assert set(np.nonzero(np.abs(out) > 1e-12)[0]) == {29, 30, 31, 32}  # IBSI 2: response on voxels 29-32
    np.testing.assert_array_equal(dilate(np.array([1.0, 2.0]), 2), [1.0, 0.0, 2.0, 0.0])
    # haar level-2 LLL of a constant image: (sqrt 2)^6 gain (IBSI 2 test 7.a.1 reaches 255 x 8 = 2040)
    const = np.full((8, 8, 8), 255.0)
    out = wavelet_filter(const, "haar", "LLL", 2, "3D", "mirror", rotation_invariant=True)
    np.testing.assert_allclose(out, 2040.0, rtol=1e-12)


def test_gabor_peak_is_the_impulse_height():
    f = np.zeros((41, 41, 3))
    f[20, 20, 1] = 255.0
    out = gabor_filter(f, sigma=5.0, lambda_=2.0, gamma=0.5, theta=math.pi / 3, boundary="zero")
    assert out.max() == pytest.approx(255.0, rel=1e-12) and out[20, 20, 1] == pytest.approx(255.0, rel=1e-12)
    assert np.all(out[:, :, 0] < 1e-9)  # 2D: slices are independent
    # theta and theta + pi give the same modulus: pooling over [0, 2 pi) equals pooling over [0, pi) twice
    a = gabor_filter(f, 3.0, 4.0, 1.0, theta_step=math.pi / 2, boundary="zero")
    b = (gabor_filter(f, 3.0, 4.0, 1.0, theta=0.0, boundary="zero")
         + gabor_filter(f, 3.0, 4.0, 1.0, theta=math.pi / 2, boundary="zero")) / 2
    np.testing.assert_allclose(a, b, atol=1e-9)


def test_simoncelli_profile_and_constant_image():
    h = simoncelli_transfer((65,), level=1)
    # centred grid: nu_k = (k - 32) / 32; the band [1/4, 1] peaks (1) at rho 1/2 (k = 48 centred)
    centred = np.fft.fftshift(h)
    assert centred[48] == pytest.approx(1.0) and centred[32] == 0.0 and centred[32 + 7] == 0.0
    assert np.all((h >= 0) & (h <= 1))
    out = simoncelli_filter(np.full((16, 16, 16), 7.0), 1, "3D", "periodic")
    np.testing.assert_allclose(out, 0.0, atol=1e-9)


def test_filter_specs_are_validated():
    assert check_filter({"kind": "log", "sigma_mm": 1.5})["boundary"] == "mirror"
    assert check_filter({"kind": "simoncelli"})["boundary"] == "periodic"
    for bad in ({"kind": "median"}, {"kind": "log"}, {"kind": "log", "sigma_mm": 1, "radius": 3},
                {"kind": "mean", "support": 5, "boundary": "reflect"}, {"kind": "laws", "kernel": "E5L5"},
                {"kind": "wavelet", "wavelet": "nope"}, {"sigma_mm": 1}):
        with pytest.raises(SettingsError):
            check_filter(bad)


def test_apply_filter_converts_mm_and_axis_order():
    rng = np.random.default_rng(1)
    zyx = rng.normal(size=(6, 9, 11))
    out = apply_filter(zyx, (0.5, 0.5, 3.0), {"kind": "log", "sigma_mm": 1.0, "dims": "2D", "boundary": "nearest"})
    expected = log_filter(zyx.transpose(2, 1, 0), (2.0, 2.0), "2D", "nearest").transpose(2, 1, 0)
    np.testing.assert_allclose(out, expected, atol=1e-12)
    # 2D Laws along i then j: L5 along x (last array axis), E5 along y
    out = apply_filter(zyx, (1, 1, 1), {"kind": "laws", "kernel": "L5E5", "dims": "2D", "boundary": "zero"})
    direct = separable_convolve(zyx, {2: LAWS_KERNELS["L5"], 1: LAWS_KERNELS["E5"]}, "zero")
    np.testing.assert_allclose(out, direct, atol=1e-12)
    with pytest.raises(SettingsError):
        apply_filter(zyx, (0.5, 0.7, 3.0), {"kind": "gabor", "sigma_mm": 2, "lambda_mm": 2, "dims": "2D"})


def test_processing_filters_before_resegmentation():
    import SimpleITK as sitk

    from radrepro.processing import prepare
    from radrepro.settings import Settings

    rng = np.random.default_rng(2)
    arr = rng.integers(-200, 200, size=(8, 20, 20)).astype(np.float64)
    arr[:, 5, 5] = 1000.0  # re-segmented away, but it still feeds the filter of its neighbours
    msk = np.zeros(arr.shape, dtype=np.uint8)
    msk[2:6, 3:15, 3:15] = 1
    image, mask = sitk.GetImageFromArray(arr), sitk.GetImageFromArray(msk)
    spec = {"kind": "mean", "support": 3, "dims": "2D", "boundary": "mirror"}
    roi = prepare(image, mask, Settings(reseg_range=[-500, 500], filter=spec))
    keep = (msk == 1) & (arr <= 500)
    expected = apply_filter(arr, (1.0, 1.0, 1.0), spec)[keep]
    assert roi.int_mask.sum() == keep.sum()
    np.testing.assert_allclose(np.sort(roi.values), np.sort(expected), atol=1e-12)
    # the 1000 HU voxels were filtered in before re-segmentation took them out of the mask
    clipped = np.where(arr > 500, 0.0, arr)
    assert not np.allclose(np.sort(roi.values), np.sort(apply_filter(clipped, (1.0, 1.0, 1.0), spec)[keep]))


def test_all_boundaries_for_every_kind_run():
    f = np.random.default_rng(3).normal(size=(10, 10, 10))
    for kind, params in (("mean", {"support": 3}), ("log", {"sigma_mm": 1.0}), ("laws", {"kernel": "E3L3S3"}),
                         ("wavelet", {"wavelet": "coif1", "subband": "HLH"})):
        for boundary, dims in itertools.product(BOUNDARIES, ("2D", "3D")):
            p = dict(params)
            if kind == "laws" and dims == "2D":
                p["kernel"] = "E3L3"
            if kind == "wavelet" and dims == "2D":
                p["subband"] = "HL"
            out = apply_filter(f, (1, 1, 1), {"kind": kind, "boundary": boundary, "dims": dims, **p})
            assert out.shape == f.shape and np.isfinite(out).all()


@pytest.mark.parametrize("spec", [
    {"kind": "log", "sigma_mm": 4.0},
    {"kind": "laws", "kernel": "L5E5E5", "rotation_invariant": True, "energy_distance": 10},
    {"kind": "gabor", "sigma_mm": 4.0, "lambda_mm": 2.0, "gamma": 1.5, "theta_step": math.pi / 2, "dims": "2D"},
    {"kind": "wavelet", "wavelet": "db3", "subband": "HHH", "level": 2, "rotation_invariant": True},
    {"kind": "simoncelli", "level": 1, "boundary": "mirror", "pad_width": 4},
])
def test_filtering_the_roi_box_grown_by_the_support_equals_filtering_the_whole_image(spec):
    """The processing filters only the ROI box plus the filter's reach: exactly the whole image's response there.

    The supports (16-18 voxels) are larger than the 7-voxel margin the processing keeps anyway, so a
    reach that is too short fails here."""
    import SimpleITK as sitk

    from radrepro.processing import prepare
    from radrepro.settings import Settings

    rng = np.random.default_rng(4)
    arr = rng.normal(0, 100, size=(60, 70, 70)).round()
    msk = np.zeros(arr.shape, dtype=np.uint8)
    msk[28:33, 33:38, 31:36] = 1
    image, mask = sitk.GetImageFromArray(arr), sitk.GetImageFromArray(msk)
    roi = prepare(image, mask, Settings(filter=spec))
    whole = apply_filter(arr, (1.0, 1.0, 1.0), spec)[msk == 1]
    np.testing.assert_allclose(np.sort(roi.values), np.sort(whole), rtol=1e-11, atol=1e-9)


def test_real_ffts_equal_the_real_part_of_the_complex_response():
    from radrepro.filters.riesz import riesz_transfer
    from radrepro.filters.simoncelli import real_response

    rng = np.random.default_rng(5)
    for shape, axes in (((9, 10, 7), (0, 1, 2)), ((8, 9, 5), (0, 1)), ((10, 10, 10), (0, 1, 2))):
        f = rng.normal(size=shape)
        grid = tuple(shape[a] for a in axes)
        order = (0, 2) + (0,) * (len(axes) - 2)
        for m in (simoncelli_transfer(grid, 1), simoncelli_transfer(grid, 2) * riesz_transfer(grid, order)):
            bshape = [1, 1, 1]
            for a in axes:
                bshape[a] = shape[a]
            expected = np.real(np.fft.ifftn(np.fft.fftn(f, axes=axes) * m.reshape(bshape), axes=axes))
            np.testing.assert_allclose(real_response(f, axes, m), expected, atol=1e-12)
