"""Local intensity features: hand-computed spheres and the IBSI digital phantom."""

import numpy as np
import pytest

from radrepro.features.local_intensity import local_intensity, sphere_offsets


def test_sphere_offsets_at_4_mm():
    # r = 6.20 mm: axis neighbours (4 mm) and in-plane diagonals (5.66 mm) are in, 3D diagonals
    # (6.93 mm) and second neighbours (8 mm) are out: 1 + 6 + 12 voxels
    off = sphere_offsets((4.0, 4.0, 4.0))
    assert len(off) == 19
    assert not any((abs(o) == 1).all() for o in off)
    # anisotropic: 1 mm in-plane, 5 mm slices: dz = +-1 reaches 3.3 mm in-plane
    off = sphere_offsets((1.0, 1.0, 5.0))
    assert set(off[:, 0]) == {-1, 0, 1}
    assert sum(1 for o in off if o[0] == 0) == sum(1 for dy in range(-6, 7) for dx in range(-6, 7) if dy * dy + dx * dx <= 6.2035**2)


def test_hand_computed_peaks():
    img = np.zeros((3, 3, 3))
    img[1, 1, 1] = 19.0
    img[0, 0, 0] = 20.0  # brightest voxel, but outside the mask
    img[1, 1, 2] = 10.0
    mask = np.zeros((3, 3, 3), bool)
    mask[1, 1, 1] = mask[1, 1, 2] = True
    v = local_intensity(img, mask, (4.0, 4.0, 4.0))
    # centre (1,1,1): all 19 sphere voxels exist; the corner (0,0,0) is a 3D diagonal, out
    assert v["loc_peak_loc"] == pytest.approx((19 + 10) / 19)
    # (1,1,2) on the x edge: the 5 offsets with dx = +1 fall outside the image -> a mean of 14 voxels
    assert v["loc_peak_glob"] == pytest.approx((19 + 10) / 14)
    img[1, 1, 2] = 19.0  # two voxels share the maximum: the higher local mean wins
    v = local_intensity(img, mask, (4.0, 4.0, 4.0))
    assert v["loc_peak_loc"] == pytest.approx(38 / 14)
    assert v["loc_peak_glob"] == pytest.approx(38 / 14)


def test_nan_outside_the_roi_is_not_counted_and_empty_mask():
    img = np.ones((1, 3, 3))
    img[0, 0, 0] = np.nan
    mask = np.zeros((1, 3, 3), bool)
    mask[0, 1, 1] = True
    v = local_intensity(img, mask, (4.0, 4.0, 4.0))
    assert v["loc_peak_loc"] == 1.0 and v["loc_peak_glob"] == 1.0
    assert all(np.isnan(x) for x in local_intensity(img, np.zeros_like(mask), (1, 1, 1)).values())
    with pytest.raises(ValueError, match="equal 3D shapes"):
        local_intensity(img, mask[0], (1, 1, 1))


def test_digital_phantom_reference():
    from radrepro import extract
    from radrepro.datasets.phantom import digital_phantom

    image, mask = digital_phantom()
    v = extract(image, mask, {"families": ["loc"]})
    assert v["loc_peak_loc"] == pytest.approx(2.6, abs=0.05)
    assert v["loc_peak_glob"] == pytest.approx(3.1, abs=0.05)
