"""The pyradiomics <-> IBSI crosswalk: the registry against pyradiomics' own featuresDict_IBSIv7.tsv and
against the feature names (and deprecation flags) of the installed pyradiomics 3.0.1."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from radrepro import crosswalk as cw
from radrepro.case import Case
from radrepro.engine import extract
from radrepro.extractors.pyradiomics_backend import PyradiomicsExtractor
from radrepro.registry import all_features, implemented_families
from radrepro.settings import Settings

# Known errors of featuresDict_IBSIv7.tsv, corrected in the registry: IBSI id -> (TSV says, registry has)
TSV_ERRATA = {
    # GLSZM features filed under class "glcm"
    "5RAI": ("glcm_SmallAreaLowGrayLevelEmphasis", "glszm_SmallAreaLowGrayLevelEmphasis"),
    "HW1V": ("glcm_SmallAreaHighGrayLevelEmphasis", "glszm_SmallAreaHighGrayLevelEmphasis"),
    "YH51": ("glcm_LargeAreaLowGrayLevelEmphasis", "glszm_LargeAreaLowGrayLevelEmphasis"),
    "J17V": ("glcm_LargeAreaHighGrayLevelEmphasis", "glszm_LargeAreaHighGrayLevelEmphasis"),
    # pyradiomics 3.0.1 names them ZoneVariance / ZoneEntropy
    "3NSA": ("glszm_ZoneSizeVariance", "glszm_ZoneVariance"),
    "GU8N": ("glszm_ZoneSizeEntropy", "glszm_ZoneEntropy"),
    # GLSZM low/high grey level zone emphasis put on the GLDZM rows (pyradiomics has no GLDZM), misspelt
    "S1RA": ("glszm_LowGreyLevelZoneEmphasis", None),
    "K26C": ("glszm_HighGreyLevelZoneEmphasis", None),
}
# Links the TSV leaves empty, added in the registry (same definitions in pyradiomics' documentation)
REGISTRY_EXTENSIONS = {
    "QWB0": "glcm_Autocorrelation",
    "R8DG": "glcm_Imc1",
    "JN9H": "glcm_Imc2",
    "XMSY": "glszm_LowGrayLevelZoneEmphasis",  # the TSV's S1RA/K26C entries, moved to their GLSZM rows
    "5GN9": "glszm_HighGrayLevelZoneEmphasis",
}
# pyradiomics 3.0.1 features without an IBSI 1 counterpart (enabled by default unless marked)
NO_IBSI = {
    "firstorder_TotalEnergy",  # Energy x voxel volume
    "firstorder_StandardDeviation",  # deprecated
    "glcm_MCC",  # maximal correlation coefficient
    "glcm_Homogeneity1", "glcm_Homogeneity2",  # deprecated
    "shape_Maximum2DDiameterSlice", "shape_Maximum2DDiameterColumn", "shape_Maximum2DDiameterRow",
}


@pytest.fixture(scope="module")
def tsv(ibsi_data) -> pd.DataFrame:
    path = ibsi_data / "crosswalk" / "pyradiomics_featuresDict_IBSIv7.tsv"
    return pd.read_csv(path, sep="\t", dtype=str).fillna("")


@pytest.fixture(scope="module")
def pyradiomics_features() -> dict[str, bool]:
    """Every feature of the installed pyradiomics: ``class_Feature`` -> deprecated?"""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from radiomics import getFeatureClasses

        return {f"{c}_{n}": bool(dep) for c, k in getFeatureClasses().items() for n, dep in k.getFeatureNames().items()}


def test_registry_agrees_with_pyradiomics_tsv(tsv):
    by_id = {f.ibsi_id: f for f in all_features()}
    checked = 0
    for _, row in tsv[tsv.pyradiomics_feature_name != ""].iterrows():
        said = f"{row.pyradiomics_feature_class}_{row.pyradiomics_feature_name}"
        feature = by_id.get(row.IBSI_code)
        if feature is None:  # a family not implemented in this version
            assert row.IBSI_code not in TSV_ERRATA
            continue
        expected = said
        if row.IBSI_code in TSV_ERRATA:
            assert TSV_ERRATA[row.IBSI_code][0] == said, "the TSV changed; revisit the erratum"
            expected = TSV_ERRATA[row.IBSI_code][1]
        assert feature.pyradiomics == expected, (row.IBSI_code, feature.tag)
        checked += 1
    assert checked >= 75  # statistics, histogram, five texture families (+ shape once morphology is in)
    tsv_linked = set(tsv.IBSI_code[tsv.pyradiomics_feature_name != ""])
    extra = {f.ibsi_id: f.pyradiomics for f in all_features() if f.pyradiomics and f.ibsi_id not in tsv_linked}
    assert extra == {k: v for k, v in REGISTRY_EXTENSIONS.items() if k in by_id}


def test_tsv_ibsi_codes_are_the_registry_codes(tsv):
    """Identifiers of linked features are IBSI codes the TSV knows (it has no kurtosis row, IPH6)."""
    codes = set(tsv.IBSI_code)
    missing = {link.ibsi_id for link in cw.links() if link.ibsi_id not in codes}
    assert missing == {"IPH6"}


def test_every_link_is_a_real_pyradiomics_feature(pyradiomics_features):
    for link in cw.links():
        assert link.pyradiomics in pyradiomics_features, link.pyradiomics
        # our "deprecated" relation is pyradiomics' own flag
        assert (link.relation == "deprecated") == pyradiomics_features[link.pyradiomics], link.pyradiomics


def test_every_pyradiomics_feature_is_linked_or_known_to_have_no_ibsi_match(pyradiomics_features):
    families = set(implemented_families())
    cls_family = {"firstorder": "stat", "glcm": "cm", "glrlm": "rlm", "glszm": "szm", "gldm": "ngl", "ngtdm": "ngt",
                  "shape": "morph"}
    linked = {k.pyradiomics for k in cw.links()}
    for name in pyradiomics_features:
        cls = name.split("_")[0]
        if cls_family.get(cls) not in families:
            continue  # shape2D, or a family this version does not implement
        assert name in linked or name in NO_IBSI, name


def test_lookups_both_ways():
    assert cw.to_ibsi("original_glcm_JointEnergy") == "cm_energy_3D_avg"
    assert cw.to_ibsi("original_glcm_JointEnergy", force2d=True) == "cm_energy_2_5D_avg"
    assert cw.to_ibsi("original_glszm_ZoneEntropy") == "szm_zs_entr_3D"
    assert cw.to_ibsi("original_firstorder_Mean") == "stat_mean"
    assert cw.to_ibsi("original_glcm_MCC") is None
    assert cw.to_pyradiomics("cm_energy_3D_avg") == "original_glcm_JointEnergy"
    assert cw.to_pyradiomics("cm_energy_2_5D_avg") == "original_glcm_JointEnergy"
    assert cw.to_pyradiomics("cm_energy_3D_comb") is None  # pyradiomics never merges directions
    assert cw.to_pyradiomics("dzm_sde_3D") is None
    assert cw.for_ibsi("8ZQL").pyradiomics == "glcm_JointEnergy"
    assert cw.for_pyradiomics("wavelet-LLH_glcm_JointEnergy").tag == "cm_energy"
    assert cw.parse_pyradiomics_name("log-sigma-1-0-mm-3D_firstorder_10Percentile") == (
        "log-sigma-1-0-mm-3D", "firstorder", "10Percentile")
    kurt = cw.for_pyradiomics("original_firstorder_Kurtosis")
    assert (kurt.tag, kurt.relation, kurt.offset) == ("stat_kurt", "offset", 3.0)
    table = cw.table()
    assert table["tag"].is_unique and table["pyradiomics"].is_unique
    for link in cw.links():  # every link round-trips
        assert cw.to_pyradiomics(cw.to_ibsi(link.pyradiomics_name())) == link.pyradiomics_name()


def test_align_names():
    a = ["stat_mean", "stat_kurt", "cm_energy_3D_avg", "cm_energy_3D_comb", "ivh_auc", "ngl_dc_energy_3D"]
    b = ["original_firstorder_Mean", "original_firstorder_Kurtosis", "original_glcm_JointEnergy", "original_glcm_MCC"]
    m = {x.key: x for x in cw.align(a, b)}
    assert set(m) == {"original_firstorder_Mean", "original_firstorder_Kurtosis", "original_glcm_JointEnergy"}
    assert m["original_glcm_JointEnergy"].a == "cm_energy_3D_avg" and m["original_glcm_JointEnergy"].ibsi_id == "8ZQL"
    assert m["original_firstorder_Kurtosis"].offset_a == 3.0 and m["original_firstorder_Kurtosis"].offset_b == 0.0
    assert m["original_firstorder_Mean"].relation == "same"
    # same names match as they are, either convention
    same = cw.align(b, list(reversed(b)))
    assert [x.key for x in same] == b and all(x.relation == "same name" and x.offset_a == x.offset_b == 0 for x in same)
    assert [x.key for x in cw.align(a, a)] == a
    # with force2D pyradiomics' GLCM corresponds to the 2.5D average
    assert [x.a for x in cw.align(["cm_energy_2_5D_avg", "cm_energy_3D_avg"], ["original_glcm_JointEnergy"], force2d=True)] == [
        "cm_energy_2_5D_avg"]


def test_links_on_real_numbers(pyradiomics_data):
    """Through the crosswalk, IBSI and pyradiomics agree where the definitions coincide (no resampling),
    and kurtosis differs by exactly 3."""
    d = pyradiomics_data / "data"
    case = Case("breast1", d / "breast1_image.nrrd", d / "breast1_label.nrrd")
    py = PyradiomicsExtractor().extract(case, Settings(families=("firstorder",)))
    ibsi = extract(case.image, case.mask, Settings(families=("stat",)))
    matches = cw.align(ibsi.index, py.index)
    assert len(matches) == 15  # 14 registry links of the statistics family + kurtosis (offset)
    for m in matches:
        a, b = ibsi[m.a] + m.offset_a, py[m.b] + m.offset_b
        np.testing.assert_allclose(a, b, rtol=1e-12, err_msg=m.key)
    assert py["original_firstorder_Kurtosis"] - ibsi["stat_kurt"] == pytest.approx(3.0, abs=1e-12)
