"""Intensity-volume histogram features: hand-computed cases and the IBSI digital phantom."""

import numpy as np
import pytest

from radrepro.features.intensity_volume import FEATURES, ivh_features
from radrepro.processing.discretise import discretise_ivh
from radrepro.settings import Settings

NONE = Settings(ivh_discretisation="none")


def ivh(values, settings=NONE, bounds=(None, None)):
    return ivh_features(discretise_ivh(np.asarray(values, dtype=float), settings, bounds))


def test_hand_computed_integers():
    # intensities 1, 1, 2, 3: G = [1, 3]; gamma 0, 0.5, 1; nu 1, 0.5, 0.25
    v = ivh([1, 1, 2, 3])
    assert v["ivh_v10"] == 0.5  # first intensity with gamma >= 0.1 is 2
    assert v["ivh_v90"] == 0.25  # ... with gamma >= 0.9 is 3
    assert v["ivh_i90"] == 2  # smallest intensity held by at most 90 % of the volume
    assert v["ivh_i10"] == 4  # even intensity 3 holds 25 %: the next intensity above
    assert v["ivh_diff_v10_v90"] == 0.25 and v["ivh_diff_i10_i90"] == 2
    assert v["ivh_auc"] == pytest.approx(0.5 * (1 + 0.5) / 2 + 0.5 * (0.5 + 0.25) / 2)


def test_range_from_resegmentation():
    # G = [0, 10]: gamma >= 0.1 at intensity 1, >= 0.9 at 9
    v = ivh([0, 2, 5, 9, 10], bounds=(0, 10))
    assert v["ivh_v10"] == pytest.approx(4 / 5) and v["ivh_v90"] == pytest.approx(2 / 5)


def test_exact_fraction_boundaries():
    # 10 voxels: nu = 0.9 exactly at intensity 2 -> I90 = 2, not 3 (no float rounding)
    v = ivh([1] + [2] * 8 + [3])
    assert v["ivh_i90"] == 2
    # nu = 0.1 exactly at intensity 3 -> I10 = 3
    assert v["ivh_i10"] == 3


def test_fixed_bin_size_reports_bin_centres():
    s = Settings(ivh_discretisation="fbs", ivh_bin_width=1.0)
    # bins 1, 2, 3, 6 (centres 0.5, 1.5, 2.5, 5.5); G = [0.5, 4.5]; nu on the grid: 1, .75, .5, .25, .25
    v = ivh([0.0, 1.0, 2.4, 5.0], s, (0.0, 5.0))
    assert v["ivh_v10"] == 0.75 and v["ivh_v90"] == 0.25
    assert v["ivh_i90"] == 1.5
    assert v["ivh_i10"] == 6.5  # the bin centre above the highest voxel's


def test_fixed_bin_number_reports_bin_numbers():
    s = Settings(ivh_discretisation="fbn", ivh_bin_count=4)
    # floor(4 v / 8) + 1 -> 1, 2, 3, 4(max); G = [1, 4]
    v = ivh([0.0, 2.0, 4.0, 8.0], s)
    assert v["ivh_i90"] == 2 and v["ivh_v10"] == 0.75 and v["ivh_v90"] == 0.25


def test_single_intensity_and_empty():
    v = ivh([5, 5, 5])
    assert np.isnan(v["ivh_v10"]) and np.isnan(v["ivh_v90"])  # no intensity fraction reaches 10 %
    assert v["ivh_auc"] == 0  # IBSI: 0 for a single discretised intensity
    assert v["ivh_i10"] == 6 and v["ivh_i90"] == 6
    assert all(np.isnan(x) for x in ivh([]).values())


def test_huge_grid_is_a_settings_error():
    from radrepro.errors import SettingsError

    with pytest.raises(SettingsError, match="ivh_discretisation"):
        ivh([0.0, 1e12])


# IBSI 1 reference values for the digital phantom; the manual's example IVH is
# gamma 0, .2, .4, .6, .8, 1 -> nu 1, .324, .324, .311, .095, .095
PHANTOM = {"ivh_v10": 0.324, "ivh_v90": 0.0946, "ivh_i10": 5, "ivh_i90": 2, "ivh_diff_v10_v90": 0.23,
           "ivh_diff_i10_i90": 3, "ivh_auc": 0.32}


def test_digital_phantom_reference():
    from radrepro import extract
    from radrepro.datasets.phantom import digital_phantom

    image, mask = digital_phantom()
    v = extract(image, mask, {"families": ["ivh"]})
    for tag, ref in PHANTOM.items():
        assert v[tag] == pytest.approx(ref, rel=5e-3, abs=1e-3), tag


def test_registry_entries():
    assert [f.tag for f in FEATURES] == ["ivh_v10", "ivh_v90", "ivh_i10", "ivh_i90", "ivh_diff_v10_v90",
                                         "ivh_diff_i10_i90", "ivh_auc"]
