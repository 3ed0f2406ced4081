"""Intensity statistics: hand-computed small cases and the IBSI digital phantom reference values."""

import numpy as np
import pytest

from radrepro import extract
from radrepro.datasets.phantom import digital_phantom
from radrepro.features.statistics import intensity_statistics


def test_hand_computed():
    v = intensity_statistics(np.array([1.0, 2.0, 3.0, 4.0]))
    assert v["stat_mean"] == 2.5
    assert v["stat_var"] == pytest.approx(1.25)
    assert v["stat_skew"] == pytest.approx(0.0)
    assert v["stat_kurt"] == pytest.approx((0.5**4 * 2 + 1.5**4 * 2) / 4 / 1.25**2 - 3)
    assert v["stat_median"] == 2.5
    assert v["stat_p10"] == pytest.approx(1.3)
    assert v["stat_iqr"] == pytest.approx(1.5)
    assert v["stat_mad"] == pytest.approx(1.0)
    assert v["stat_medad"] == pytest.approx(1.0)
    assert v["stat_energy"] == 30.0
    assert v["stat_rms"] == pytest.approx(np.sqrt(7.5))
    assert v["stat_cov"] == pytest.approx(np.sqrt(1.25) / 2.5)


def test_constant_roi_is_defined_where_ibsi_defines_it():
    v = intensity_statistics(np.full(10, 3.0))
    assert v["stat_var"] == 0 and v["stat_range"] == 0 and v["stat_mean"] == 3
    # IBSI (KE2A, IPH6): skewness and kurtosis are 0 when the variance is 0
    assert v["stat_skew"] == 0 and v["stat_kurt"] == 0
    assert np.isnan(intensity_statistics(np.array([-1.0, 1.0]))["stat_cov"])  # mean 0: undefined


def test_empty_and_nan():
    assert all(np.isnan(x) for x in intensity_statistics(np.array([])).values())
    with pytest.raises(ValueError, match="finite"):
        intensity_statistics(np.array([1.0, np.nan]))


# IBSI 1 reference values for the digital phantom (reference manual, table "intensity-based statistics")
PHANTOM = {
    "stat_mean": 2.15, "stat_var": 3.05, "stat_skew": 1.08, "stat_kurt": -0.355, "stat_median": 1,
    "stat_min": 1, "stat_p10": 1, "stat_p90": 4, "stat_max": 6, "stat_iqr": 3, "stat_range": 5,
    "stat_mad": 1.55, "stat_rmad": 1.11, "stat_medad": 1.15, "stat_cov": 0.812, "stat_qcod": 0.6,
    "stat_energy": 567, "stat_rms": 2.77,
}


def test_digital_phantom_reference():
    image, mask = digital_phantom()
    v = extract(image, mask, {"families": ["stat"]})
    for tag, ref in PHANTOM.items():
        assert v[tag] == pytest.approx(ref, rel=5e-3, abs=1e-3), tag
