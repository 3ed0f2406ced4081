"""Extractor backends: pyradiomics run for real (against its own published baselines), optional peers."""

from __future__ import annotations

import ast
import importlib.util
import logging

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk
import yaml

from radrepro.case import Case
from radrepro.errors import InputError, SettingsError
from radrepro.extractors import BACKENDS, get_extractor
from radrepro.extractors.pyradiomics_backend import PyradiomicsExtractor, pyradiomics_params
from radrepro.settings import Settings, from_pyradiomics


def _case(pyradiomics_data, name: str) -> Case:
    d = pyradiomics_data / "data"
    return Case(name, d / f"{name}_image.nrrd", d / f"{name}_label.nrrd")


def _baseline(pyradiomics_data, cls: str) -> pd.DataFrame:
    return pd.read_csv(pyradiomics_data / "data" / "baseline" / f"baseline_{cls}.csv", index_col=0)


def _baseline_settings(table: pd.DataFrame, column: str) -> Settings:
    """radrepro Settings from the baseline's own record of pyradiomics' settings."""
    setting = ast.literal_eval(table.loc["diagnostics_Configuration_Settings", column])
    return from_pyradiomics({"setting": setting}, where=f"baseline {column}")


def test_pyradiomics_is_registered():
    assert "pyradiomics" in BACKENDS
    ex = get_extractor("pyradiomics")
    assert ex.label == "pyradiomics@3.0.1"
    assert ex.convention == "pyradiomics"


@pytest.mark.parametrize("column", ["lung1", "breast1", "breast1_resegmentation"])
def test_pyradiomics_reproduces_its_baseline(pyradiomics_data, column):
    """radrepro settings -> pyradiomics settings -> the numbers in pyradiomics' own baseline CSVs."""
    tables = {cls: _baseline(pyradiomics_data, cls) for cls in ("firstorder", "glcm")}
    configs = {cls: t.loc["diagnostics_Configuration_Settings", column] for cls, t in tables.items()}
    assert configs["firstorder"] == configs["glcm"]
    table = tables["firstorder"]
    settings = _baseline_settings(table, column).replace(families=tuple(tables))
    case = _case(pyradiomics_data, table.loc["diagnostics_Configuration_TestCase", column])
    values = PyradiomicsExtractor().extract(case, settings)
    assert not any(i.startswith("diagnostics_") for i in values.index)
    for cls, t in tables.items():
        expected = t[column][[i for i in t.index if i.startswith("original_")]].astype(float)
        # the baseline holds every feature of the class, deprecated ones too; we compute the enabled ones
        common = expected.index.intersection(values.index)
        assert len(common) == (18 if cls == "firstorder" else 24), cls
        np.testing.assert_allclose(values[common].to_numpy(), expected[common].to_numpy(), rtol=1e-9, atol=0)
    voxels = int(table.loc["diagnostics_Mask-original_VoxelNum", column])
    if "reseg" not in column:
        assert values.attrs["roi_voxels"] == voxels
    else:  # pyradiomics reports the re-segmented ROI (mean +- 3 sd keeps all of breast1's 143 voxels)
        assert 0 < values.attrs["roi_voxels"] <= voxels
    assert values.attrs["seconds"] > 0


def test_pyradiomics_default_feature_set_and_names(pyradiomics_data):
    values = PyradiomicsExtractor().extract(_case(pyradiomics_data, "breast1"), Settings())
    classes = {n.split("_")[1] for n in values.index}
    assert classes == {"firstorder", "shape", "glcm", "glrlm", "glszm", "gldm", "ngtdm"}
    assert all(n.startswith("original_") for n in values.index)
    assert len(values) == 107  # pyradiomics 3.0.1's default set (deprecated features off)
    assert values.dtype == np.float64


def test_params_file_passes_through(pyradiomics_data, tmp_path):
    """A pyradiomics YAML given to the backend is read by pyradiomics itself; same numbers as translated."""
    params = {"setting": {"binWidth": 10, "voxelArrayShift": 1000, "label": 1},
              "imageType": {"Original": {}}, "featureClass": {"firstorder": ["Energy", "Mean"], "glcm": None}}
    path = tmp_path / "Params.yaml"
    path.write_text(yaml.safe_dump(params))
    case = _case(pyradiomics_data, "breast1")
    direct = PyradiomicsExtractor(params=path).extract(case, Settings())
    translated = PyradiomicsExtractor().extract(case, from_pyradiomics(params))
    assert {"original_firstorder_Energy", "original_firstorder_Mean"} <= set(direct.index)
    assert not any("_shape_" in n for n in direct.index)
    pd.testing.assert_series_equal(direct.sort_index(), translated.sort_index(), check_names=False)
    # voxelArrayShift reaches pyradiomics: energy = sum((x + 1000)^2)
    img = sitk.GetArrayFromImage(sitk.ReadImage(str(case.image))).astype(float)
    roi = sitk.GetArrayFromImage(sitk.ReadImage(str(case.mask))) == 1
    assert direct["original_firstorder_Energy"] == pytest.approx(((img[roi] + 1000) ** 2).sum(), rel=1e-12)


def test_in_memory_images_and_family_names(pyradiomics_data):
    case = _case(pyradiomics_data, "breast1")
    mem = Case("mem", sitk.ReadImage(str(case.image)), sitk.ReadImage(str(case.mask)))
    settings = Settings(families=("stat", "cm", "dzm"))  # radrepro families; dzm has no pyradiomics class
    a = PyradiomicsExtractor().extract(mem, settings)
    b = PyradiomicsExtractor().extract(case, settings.replace(families=("firstorder", "glcm")))
    assert {n.split("_")[1] for n in a.index} == {"firstorder", "glcm"}
    pd.testing.assert_series_equal(a, b)


def test_translation_of_settings():
    p = pyradiomics_params(Settings(spacing=(1, 1, 2), interpolator="cubic", reseg_range=(None, 300),
                                    discretisation="fbn", bin_count=16, texture_dims=("2D",),
                                    weighting_norm="euclidean", voxel_array_shift=1000.0))
    s = p["setting"]
    assert s["resampledPixelSpacing"] == [1.0, 1.0, 2.0]
    assert s["interpolator"] == "sitkBSpline"
    assert s["resegmentRange"] == [float("-inf"), 300.0]
    assert s["binCount"] == 16 and "binWidth" not in s
    assert s["force2D"] is True and s["weightingNorm"] == "euclidean"
    assert s["voxelArrayShift"] == 1000 and isinstance(s["voxelArrayShift"], int)
    assert p["imageType"] == {"Original": {}}
    assert "featureClass" not in p


@pytest.mark.parametrize(
    "settings, match",
    [
        (Settings(texture_dims=("2.5D",)), "texture_dims"),
        (Settings(texture_dims=("2D", "3D")), "texture_dims"),
        (Settings(voxel_array_shift=0.5), "voxel_array_shift"),
        (Settings(families=("ivh", "loc")), "none of the families"),
        (Settings(families=("nonsense",)), "unknown feature family"),
    ],
)
def test_settings_pyradiomics_cannot_express(settings, match):
    with pytest.raises(SettingsError, match=match):
        pyradiomics_params(settings)


def test_bad_input_is_an_input_error(pyradiomics_data, tmp_path):
    case = _case(pyradiomics_data, "breast1")
    with pytest.raises(InputError, match="label"):  # pyradiomics: "Label (7) not present in mask"
        PyradiomicsExtractor().extract(case, Settings(label=7))
    with pytest.raises(InputError, match="does not exist"):
        PyradiomicsExtractor().extract(Case("x", tmp_path / "missing.nrrd", case.mask), Settings())
    bad = tmp_path / "bad.yaml"
    bad.write_text("setting:\n  binWidth: -3\n")
    with pytest.raises(SettingsError, match="pyradiomics rejected"):
        PyradiomicsExtractor(params=bad).extract(case, Settings())


def test_pyradiomics_logging_is_silenced(pyradiomics_data, tmp_path):
    """pyradiomics warns on stderr for the default feature set ("force2D must be set ...", "GLCM is
    symmetrical ..."); the backend silences that, also when it is the first to import pyradiomics."""
    import subprocess
    import sys

    d = pyradiomics_data / "data"
    code = ("from radrepro.extractors.pyradiomics_backend import PyradiomicsExtractor\n"
            "from radrepro.case import Case\nfrom radrepro.settings import Settings\n"
            f"c = Case('b', r'{d / 'breast1_image.nrrd'}', r'{d / 'breast1_label.nrrd'}')\n"
            "v = PyradiomicsExtractor().extract(c, Settings())\n"
            "import logging; print(len(v), logging.getLogger('radiomics').level)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    assert r.stdout.split() == ["107", str(logging.INFO)]  # pyradiomics' own logger level is restored


# ------------------------------------------------------------------------------------------------
# Optional peers (MIRP, Nyxus): not in the default install, so these tests skip when the package is
# absent (CI does not install them); install with `pip install radrepro[peers]` to run them.


def test_optional_backends_fail_clearly_or_load():
    for name, module in (("mirp", "mirp"), ("nyxus", "nyxus")):
        ex = get_extractor(name)  # registering them never imports the package
        if importlib.util.find_spec(module) is None:
            with pytest.raises(SettingsError, match=r"pip install radrepro\[peers\]"):
                ex.version
        else:
            assert ex.label.startswith(f"{name}@")


@pytest.mark.parametrize("name", ["mirp", "nyxus"])
def test_optional_backend_absent_names_the_extra(name, monkeypatch, pyradiomics_data):
    """Without the package (simulated: the import fails) the backend says how to install it."""
    import sys

    monkeypatch.setitem(sys.modules, name, None)  # `import name` now raises ImportError
    with pytest.raises(SettingsError, match=r"pip install radrepro\[peers\]"):
        get_extractor(name).extract(_case(pyradiomics_data, "breast1"), Settings())


def test_mirp_names_to_ibsi():
    from radrepro.extractors.mirp_backend import ibsi_name, mirp_kwargs

    assert ibsi_name("cm_energy_d1_3d_avg_fbn_n16") == "cm_energy_3D_avg"
    assert ibsi_name("cm_joint_max_d1.0_2.5d_d_mrg_fbs_w25.0") == "cm_joint_max_2_5D_avg"
    assert ibsi_name("rlm_sre_3d_v_mrg_fbn_n16") == "rlm_sre_3D_comb"
    assert ibsi_name("ngl_lde_d1_a0.0_3d_fbn_n16") == "ngl_lde_3D"
    assert ibsi_name("ih_entropy_fbs_w25.0") == "ih_entropy"
    assert ibsi_name("morph_area_dens_aabb") == "morph_area_dens_aabb"
    kw = mirp_kwargs(Settings(spacing=(1, 2, 3), reseg_range=(-100, None), discretisation="fbn", bin_count=8))
    assert kw["new_spacing"] == [3.0, 2.0, 1.0]  # MIRP wants (z, y, x)
    assert kw["resegmentation_intensity_range"] == [-100.0, float("inf")]
    assert kw["base_discretisation_n_bins"] == 8
    with pytest.raises(SettingsError, match="reseg_mode"):
        mirp_kwargs(Settings(reseg_range=(-3, 3), reseg_mode="sigma"))


def test_mirp_agrees_with_radrepro_ibsi(pyradiomics_data):
    pytest.importorskip("mirp", reason="optional peer backend: pip install radrepro[peers]")
    case = _case(pyradiomics_data, "breast1")
    settings = Settings(families=("stat", "cm", "szm"), discretisation="fbn", bin_count=16)  # MIRP: ~10 s
    mirp = get_extractor("mirp").extract(case, settings)
    from radrepro.engine import extract

    ours = extract(case.image, case.mask, settings)
    common = ours.index.intersection(mirp.index)
    assert len(common) == 18 + 2 * 25 + 16  # statistics, GLCM 3D_avg and 3D_comb, GLSZM 3D
    # MIRP computes in single precision: statistics agree to ~1e-7, except skewness (~2e-5)
    stat = [c for c in common if c.startswith("stat_") and c != "stat_skew"]
    np.testing.assert_allclose(mirp[stat], ours[stat], rtol=1e-6)
    np.testing.assert_allclose(mirp["stat_skew"], ours["stat_skew"], rtol=1e-4)
    texture = [c for c in common if not c.startswith("stat_")]
    np.testing.assert_allclose(mirp[texture], ours[texture], rtol=1e-7)  # grey level variance: 5e-9
    assert mirp.attrs["roi_voxels"] == 143


def test_nyxus_intensity_statistics(pyradiomics_data):
    """Nyxus in IBSI mode against radrepro: shift-invariant statistics agree; Nyxus moves intensities so
    that the image minimum is 0, and it has another percentile definition (measured, documented)."""
    pytest.importorskip("nyxus", reason="optional peer backend: pip install radrepro[peers]")
    rng = np.random.default_rng(7)
    arr = rng.integers(-200, 300, size=(8, 12, 12)).astype(np.int16)
    arr[0, 0, 0] = -500  # image minimum, outside the ROI
    msk = np.zeros(arr.shape, np.uint8)
    msk[2:7, 3:10, 2:9] = 1
    img = sitk.GetImageFromArray(arr)
    m = sitk.GetImageFromArray(msk)
    case = Case("synthetic", img, m)
    nyx = get_extractor("nyxus", features=("*3D_ALL_INTENSITY*",)).extract(case, Settings())
    from radrepro.engine import extract

    ours = extract(img, m, Settings(families=("stat",)))
    for tag in ("stat_var", "stat_skew", "stat_kurt", "stat_mad", "stat_medad", "stat_range"):
        assert nyx[tag] == pytest.approx(ours[tag], rel=1e-9), tag
    for tag in ("stat_mean", "stat_min", "stat_max", "stat_median"):  # shifted by -(image minimum)
        assert nyx[tag] == pytest.approx(ours[tag] + 500, rel=1e-9), tag
    assert nyx.attrs["roi_voxels"] == int(msk.sum())
    with pytest.raises(SettingsError, match="cannot resample"):
        get_extractor("nyxus").extract(case, Settings(spacing=(1, 1, 1)))


def test_flash_radiomics_agrees_with_pyradiomics(pyradiomics_data, tmp_path, monkeypatch):
    """flash-radiomics (optional peer) computes pyradiomics' default 107 features; all but Kurtosis
    equal pyradiomics 3.0.1's (measured on brain1: 1e-10, MCC), Kurtosis is the excess kurtosis (-3).
    The HDF5 file it writes of each extraction does not land in the working directory."""
    pytest.importorskip("flash_radiomics", reason="optional peer backend: pip install radrepro[peers]")
    monkeypatch.chdir(tmp_path)
    case = _case(pyradiomics_data, "brain1")
    flash = get_extractor("flash-radiomics").extract(case, Settings())
    ref = get_extractor("pyradiomics").extract(case, Settings())
    assert sorted(flash.index) == sorted(ref.index) and len(ref) == 107
    flash = flash[ref.index]
    other = ref.index != "original_firstorder_Kurtosis"
    np.testing.assert_allclose(flash[other], ref[other], rtol=1e-9)
    assert flash["original_firstorder_Kurtosis"] == pytest.approx(ref["original_firstorder_Kurtosis"] - 3, rel=1e-9)
    assert flash.attrs["seconds"] > 0 and get_extractor("flash-radiomics").version == "1.0.0"
    assert list(tmp_path.iterdir()) == []
