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
