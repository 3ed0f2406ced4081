"""Intensity histogram features: hand-computed cases and the IBSI digital phantom."""

import numpy as np
import pytest

from radrepro.features.intensity_histogram import FEATURES, intensity_histogram
from radrepro.registry import lookup


def test_hand_computed():
    # levels 1, 1, 2, 4 with N_g = 4: counts 2, 1, 0, 1
    v = intensity_histogram(np.array([1, 1, 2, 4]), 4)
    assert v["ih_mean"] == 2.0
    assert v["ih_var"] == pytest.approx((1 + 1 + 0 + 4) / 4)
    assert v["ih_median"] == 1.5
    assert v["ih_min"] == 1 and v["ih_max"] == 4 and v["ih_range"] == 3
    assert v["ih_mode"] == 1
    assert v["ih_entropy"] == pytest.approx(1.5)  # -(1/2 log2 1/2 + 2 * 1/4 log2 1/4)
    assert v["ih_uniformity"] == pytest.approx(0.25 + 0.0625 + 0.0625)
    # gradient: n2 - n1 = -1, (n3 - n1)/2 = -1, (n4 - n2)/2 = 0, n4 - n3 = 1
    assert v["ih_max_grad"] == 1 and v["ih_max_grad_g"] == 4
    assert v["ih_min_grad"] == -1 and v["ih_min_grad_g"] == 1  # the first of two minima
    assert v["ih_mad"] == pytest.approx(1.0)
    assert v["ih_cov"] == pytest.approx(np.sqrt(1.5) / 2)


def test_empty_bins_count_in_the_gradient():
    # levels 3 only, but 5 bins: counts 0, 0, 2, 0, 0 -> gradient 0, 1, 0, -1, 0
    v = intensity_histogram(np.array([3, 3]), 5)
    assert (v["ih_max_grad"], v["ih_max_grad_g"], v["ih_min_grad"], v["ih_min_grad_g"]) == (1, 2, -1, 4)


def test_mode_ties_go_to_the_level_closest_to_the_mean_then_left():
    assert intensity_histogram(np.array([1, 1, 3, 3, 4]))["ih_mode"] == 3  # mean 2.4: 3 is closer
    assert intensity_histogram(np.array([1, 1, 3, 3]))["ih_mode"] == 1  # mean 2: equidistant -> left


def test_single_grey_level():
    v = intensity_histogram(np.full(7, 2), 2)
    assert v["ih_var"] == 0 and v["ih_skew"] == 0 and v["ih_kurt"] == 0  # IBSI: 0 when the variance is 0
    assert v["ih_entropy"] == 0 and v["ih_uniformity"] == 1
    assert v["ih_mode"] == 2 and v["ih_iqr"] == 0 and v["ih_qcod"] == 0
    v = intensity_histogram(np.full(3, 1), 1)  # one bin: gradient 0
    assert v["ih_max_grad"] == 0 and v["ih_min_grad"] == 0 and v["ih_max_grad_g"] == 1


def test_empty_and_bad_input():
    assert all(np.isnan(x) for x in intensity_histogram(np.array([], dtype=np.int32), 0).values())
    with pytest.raises(ValueError, match="integers >= 1"):
        intensity_histogram(np.array([0, 1]))
    with pytest.raises(ValueError, match="integers >= 1"):
        intensity_histogram(np.array([1.5, 2.0]))
    with pytest.raises(ValueError, match="below the highest level"):
        intensity_histogram(np.array([1, 5]), 3)


# IBSI 1 reference values for the digital phantom (grey levels = intensities)
PHANTOM = {
    "ih_mean": 2.15, "ih_var": 3.05, "ih_skew": 1.08, "ih_kurt": -0.355, "ih_median": 1, "ih_min": 1,
    "ih_p10": 1, "ih_p90": 4, "ih_max": 6, "ih_mode": 1, "ih_iqr": 3, "ih_range": 5, "ih_mad": 1.55,
    "ih_rmad": 1.11, "ih_medad": 1.15, "ih_cov": 0.812, "ih_qcod": 0.6, "ih_entropy": 1.27,
    "ih_uniformity": 0.512, "ih_max_grad": 8, "ih_max_grad_g": 3, "ih_min_grad": -50, "ih_min_grad_g": 1,
}


def test_digital_phantom_reference():
    from radrepro import extract
    from radrepro.datasets.phantom import digital_phantom

    image, mask = digital_phantom()
    v = extract(image, mask, {"families": ["ih"], "discretisation": "fbs", "bin_width": 1.0})
    for tag, ref in PHANTOM.items():
        assert v[tag] == pytest.approx(ref, rel=5e-3, abs=1e-3), tag


def test_registry_entries():
    assert len(FEATURES) == 23 and len({f.tag for f in FEATURES}) == 23
    assert lookup("ih_mean").ibsi_id == "X6K6"
    assert lookup("ih_entropy").pyradiomics == "firstorder_Entropy"
