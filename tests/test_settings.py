import json

import pytest

from radrepro.errors import SettingsError
from radrepro.settings import Settings, load_settings


def test_defaults_and_digest_are_stable():
    a, b = Settings(), Settings()
    assert a == b and a.digest() == b.digest()
    assert json.loads(a.to_json())["bin_width"] == 25.0
    assert Settings(bin_width=10).digest() != a.digest()


def test_source_does_not_change_the_digest():
    assert Settings(source="x.toml").digest() == Settings().digest()


def test_toml_file(tmp_path):
    f = tmp_path / "s.toml"
    f.write_text('spacing = [2, 2, 2]\ninterpolator = "linear"\nreseg_range = [-1000, 400]\n'
                 'discretisation = "fbn"\nbin_count = 32\ntexture_dims = ["2D", "2.5D"]\n')
    s = load_settings(f)
    assert s.spacing == (2.0, 2.0, 2.0)
    assert s.reseg_range == (-1000.0, 400.0)
    assert s.discretisation == "fbn" and s.bin_count == 32
    assert s.texture_dims == ("2D", "2.5D")


def test_settings_table_and_yaml(tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text("settings:\n  bin_width: 10\n  outlier_sigma: 3\n")
    s = load_settings(f)
    assert s.bin_width == 10.0 and s.outlier_sigma == 3.0


def test_unknown_key_lists_accepted(tmp_path):
    f = tmp_path / "s.toml"
    f.write_text("bin_widht = 25\n")
    with pytest.raises(SettingsError) as err:
        load_settings(f)
    msg = str(err.value)
    assert "bin_widht" in msg and str(f) in msg and "bin_width" in msg


@pytest.mark.parametrize(
    "key,value,fragment",
    [
        ("bin_width", "25", "finite number"),
        ("bin_width", -1, "> 0"),
        ("bin_count", 2.5, "integer"),
        ("interpolator", "spline", "nearest, linear, cubic"),
        ("spacing", [1, 2], "three numbers"),
        ("reseg_range", [400, -1000], "low <= high"),
        ("texture_dims", ["4D"], "2D, 2.5D, 3D"),
        ("mask_threshold", 1.5, "(0, 1]"),
        ("glcm_symmetric", "yes", "true or false"),
    ],
)
def test_wrong_types_are_named(key, value, fragment):
    with pytest.raises(SettingsError) as err:
        Settings(**{key: value})
    assert key in str(err.value) and fragment in str(err.value)


def test_ivh_needs_its_parameter():
    with pytest.raises(SettingsError, match="ivh_bin_width"):
        Settings(ivh_discretisation="fbs")


def test_replace_validates():
    s = Settings().replace(bin_width=5)
    assert s.bin_width == 5.0
    with pytest.raises(SettingsError, match="unknown setting 'bogus'"):
        Settings().replace(bogus=1)


def test_pyradiomics_params_yaml(pyradiomics_data):
    s = load_settings(pyradiomics_data / "examples" / "exampleSettings" / "Params.yaml")
    assert s.bin_width == 25.0
    assert s.label == 1
    assert s.interpolator == "cubic"  # sitkBSpline
    assert s.spacing is None  # empty resampledPixelSpacing disables resampling
    assert s.weighting_norm is None
    sel = s.feature_selection
    assert set(sel) == {"shape", "firstorder", "glcm", "glrlm", "glszm", "gldm"}
    assert sel["firstorder"] is None and sel["shape"] is None
    assert "SumAverage" not in sel["glcm"] and "Imc1" in sel["glcm"] and len(sel["glcm"]) == 22
    assert s.image_type_params == {"Original": {}}


def test_pyradiomics_ct_yaml(pyradiomics_data):
    s = load_settings(pyradiomics_data / "examples" / "exampleSettings" / "exampleCT.yaml")
    assert s.spacing == (1.0, 1.0, 1.0)
    assert s.pad_distance == 10
    assert s.voxel_array_shift == 1000.0
    params = s.image_type_params
    assert set(params) == {"Original", "LoG", "Wavelet"}
    assert params["LoG"]["sigma"] == (1.0, 2.0, 3.0, 4.0, 5.0)


@pytest.mark.parametrize("name", ["MR_2D_extraction.yaml", "exampleMR_3mm.yaml", "exampleMR_5mm.yaml",
                                  "exampleMR_NoResampling.yaml", "example_allShape.yaml"])
def test_every_pyradiomics_example_parses(pyradiomics_data, name):
    s = load_settings(pyradiomics_data / "examples" / "exampleSettings" / name)
    assert isinstance(s, Settings)


def test_pyradiomics_2d(pyradiomics_data):
    s = load_settings(pyradiomics_data / "examples" / "exampleSettings" / "MR_2D_extraction.yaml")
    assert s.texture_dims == ("2D",)


def test_pyradiomics_voxel_settings_are_refused(pyradiomics_data):
    with pytest.raises(SettingsError, match="voxel-based"):
        load_settings(pyradiomics_data / "examples" / "exampleSettings" / "exampleVoxel.yaml")


def test_pyradiomics_unknown_setting():
    with pytest.raises(SettingsError, match="unknown pyradiomics setting 'binWdth'"):
        load_settings({"setting": {"binWdth": 25}})
