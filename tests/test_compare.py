"""Comparing extractors: the numbers (hand-made tables), live runs of real pyradiomics against itself and
against radrepro's IBSI engine through the crosswalk, and the ``radrepro compare`` command."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from radrepro import crosswalk as cw
from radrepro.case import Case
from radrepro.cli import main
from radrepro.compare import cases_from_dir, compare, parse_extractor, relative_difference, run_extractor
from radrepro.errors import InputError, SettingsError
from radrepro.results import long_rows, write_results
from radrepro.settings import Settings


def _table(extractor: str, values: dict[str, dict[str, float]], seconds: dict[str, float]) -> pd.DataFrame:
    return pd.concat([long_rows(v, case=c, extractor=extractor, convention="x", settings="s", seconds=seconds[c])
                      for c, v in values.items()], ignore_index=True)


# ------------------------------------------------------------------------------------------------ numbers


def test_relative_difference_by_hand():
    a = np.array([1.0, 2.0, 0.0, -4.0, np.nan, np.nan, 5.0])
    b = np.array([1.0, 2.2, 0.0, 4.0, np.nan, 1.0, np.inf])
    rel = relative_difference(a, b)
    assert rel[0] == 0 and rel[2] == 0 and rel[4] == 0  # equal, both 0, both NaN
    assert rel[1] == pytest.approx(0.2 / 2.2)
    assert rel[3] == pytest.approx(2.0)  # |-4 - 4| / 4
    assert rel[5] == math.inf  # NaN against a number
    assert rel[6] == math.inf  # an infinity against a number
    assert relative_difference(np.array([np.inf]), np.array([np.inf]))[0] == 0


def test_compare_hand_made_tables():
    a = _table("x@1", {"c1": {"f": 1.0, "g": 10.0, "only_a": 3.0}, "c2": {"f": 2.0, "g": 0.0}}, {"c1": 2.0, "c2": 4.0})
    b = _table("y@2", {"c1": {"f": 1.0, "g": 10.0, "only_b": 1.0}, "c2": {"f": 2.2, "g": 1e-9}, "c3": {"f": 9.0}},
               {"c1": 0.5, "c2": 1.0, "c3": 1.0})
    r = compare(a, b, rtol=1e-3)
    f = r.features.set_index("feature")
    assert f.loc["f", "n_cases"] == 2  # c3 is only in B
    assert f.loc["f", "max_abs_diff"] == pytest.approx(0.2)
    assert f.loc["f", "max_rel_diff"] == pytest.approx(0.2 / 2.2)
    assert f.loc["f", "median_rel_diff"] == pytest.approx(0.1 / 2.2)
    assert (f.loc["f", "n_beyond"], f.loc["f", "verdict"]) == (1, "differ")
    assert f.loc["g", "max_rel_diff"] == 1.0 and f.loc["g", "n_beyond"] == 1  # 0 vs 1e-9: relative 1
    assert compare(a, b, rtol=1e-3, atol=1e-8).features.set_index("feature").loc["g", "verdict"] == "agree"
    assert f.loc["only_a", "verdict"] == "only in a" and f.loc["only_b", "verdict"] == "only in b"
    assert list(r.matched["feature"]) == ["g", "f"]  # worst first
    assert r.n_differ == 2 and r.worst() == 1.0
    assert r.speed.set_index("case")["ratio"].to_dict() == {"c1": 4.0, "c2": 4.0}
    assert (r.a, r.b) == ("x@1", "y@2")
    assert "2 features matched (2 beyond rtol=0.001" in r.summary()


def test_compare_refuses_unrelated_tables():
    a = _table("x", {"c1": {"f": 1.0}}, {"c1": 1.0})
    with pytest.raises(InputError, match="share no case"):
        compare(a, _table("y", {"c9": {"f": 1.0}}, {"c9": 1.0}))
    with pytest.raises(InputError, match="no feature in common"):
        compare(a, _table("y", {"c1": {"h": 1.0}}, {"c1": 1.0}))
    with pytest.raises(SettingsError):
        compare(a, a, rtol=-1)


def test_parse_extractor_and_cases_from_dir(pyradiomics_data, tmp_path):
    assert parse_extractor("radrepro").convention == "ibsi"
    assert parse_extractor("radrepro:ibsi").label.startswith("radrepro@")
    assert parse_extractor("pyradiomics").label == "pyradiomics@3.0.1"
    with pytest.raises(SettingsError, match="unknown extractor"):
        parse_extractor("nonsense")
    with pytest.raises(SettingsError, match="conventions"):
        parse_extractor("pyradiomics:ibsi")
    params = tmp_path / "p.yaml"
    params.write_text("setting:\n  binWidth: 10\n")
    assert parse_extractor("pyradiomics", params).params == params  # passed through as is
    cases = cases_from_dir(pyradiomics_data / "data")
    assert {"lung1", "lung2", "brain1", "brain2", "breast1"} <= {c.id for c in cases}
    assert str(cases_from_dir(pyradiomics_data / "data", ["lung1"])[0].mask).endswith("lung1_label.nrrd")
    with pytest.raises(InputError, match="no case nope"):
        cases_from_dir(pyradiomics_data / "data", ["nope"])


# ------------------------------------------------------------------------------------------------ live runs


@pytest.fixture(scope="module")
def cases(pyradiomics_data) -> dict[str, Case]:
    return {c.id: c for c in cases_from_dir(pyradiomics_data / "data", ["lung1", "breast1", "brain1"])}


def test_pyradiomics_against_itself_is_identical(cases):
    ex = parse_extractor("pyradiomics")
    run = [cases["breast1"], cases["brain1"]]
    a, status_a = run_extractor(ex, run, Settings(), warmup=False)
    b, _ = run_extractor(ex, run, Settings(), warmup=False)
    assert (status_a["status"] == "ok").all()
    r = compare(a, b, rtol=0.0)
    assert len(r.matched) == 107 and (r.matched["n_cases"] == 2).all()
    assert (r.matched["max_abs_diff"] == 0).all() and r.n_differ == 0
    assert (r.speed["ratio"] > 0).all() and r.speed["seconds_a"].notna().all()


@pytest.fixture(scope="module")
def ibsi_vs_pyradiomics(cases):
    """radrepro's IBSI engine and pyradiomics: FBS 25 (both defaults) on lung1 and breast1, FBN 16 on
    breast1 and brain1."""
    out = {}
    for name, settings, run in (("fbs", Settings(), [cases["breast1"], cases["lung1"]]),
                                ("fbn", Settings(discretisation="fbn", bin_count=16), [cases["breast1"], cases["brain1"]])):
        a, _ = run_extractor(parse_extractor("radrepro"), run, settings, warmup=False)
        b, _ = run_extractor(parse_extractor("pyradiomics"), run, settings, warmup=False)
        out[name] = compare(a, b, rtol=1e-9)
    return out


def test_ibsi_vs_pyradiomics_statistics_agree_exactly(ibsi_vs_pyradiomics):
    """No resampling: first-order statistics are the same definitions on the same voxels (mean and energy
    bit for bit), and kurtosis lines up through the crosswalk's +3."""
    f = ibsi_vs_pyradiomics["fbs"].features.set_index("feature")
    for name in ("Mean", "Energy", "Minimum", "Maximum", "Median", "10Percentile", "90Percentile", "RootMeanSquared"):
        row = f.loc[f"original_firstorder_{name}"]
        assert row["max_abs_diff"] == 0 and row["n_cases"] == 2, name
    for name in ("Variance", "Skewness", "Kurtosis", "MeanAbsoluteDeviation", "RobustMeanAbsoluteDeviation"):
        assert f.loc[f"original_firstorder_{name}", "verdict"] == "agree", name
    assert f.loc["original_firstorder_Mean", "a_feature"] == "stat_mean"
    assert f.loc["original_firstorder_Kurtosis", "relation"] == "offset"


def test_ibsi_vs_pyradiomics_fixed_bin_width_edges_differ(ibsi_vs_pyradiomics):
    """pyradiomics' bin edges sit on multiples of binWidth, IBSI's at the ROI minimum: texture differs."""
    m = ibsi_vs_pyradiomics["fbs"].matched
    texture = m[m["relation"] == "discretised"]
    assert len(texture) >= 70
    assert (texture["verdict"] == "differ").mean() > 0.9
    assert texture["max_rel_diff"].max() > 0.1


def test_ibsi_vs_pyradiomics_fixed_bin_count_agree(ibsi_vs_pyradiomics):
    """With a fixed bin count the discretisations coincide, so every crosswalked texture and histogram
    feature (GLCM 3D_avg, GLRLM 3D_avg, GLSZM, GLDM, NGTDM, firstorder Entropy/Uniformity) agrees."""
    m = ibsi_vs_pyradiomics["fbn"].matched.set_index("feature")
    texture = m[m["relation"] == "discretised"]
    assert len(texture) >= 70
    assert (texture["max_rel_diff"] < 1e-9).all(), texture[texture["max_rel_diff"] >= 1e-9]["max_rel_diff"]
    assert {"cm", "rlm", "szm", "ngt", "ngl", "ih"} <= {cw.for_pyradiomics(n).family for n in texture.index}
    # relation "differs": PCA axis lengths from the sample covariance, pyradiomics = IBSI x sqrt(N / (N - 1))
    if "original_shape_MajorAxisLength" in m.index:  # morphology implemented
        assert m.loc["original_shape_MajorAxisLength", "relation"] == "differs"
        n = 143  # breast1 ROI voxels; the larger of the two relative differences
        assert m.loc["original_shape_MajorAxisLength", "max_rel_diff"] == pytest.approx(1 - math.sqrt((n - 1) / n), rel=1e-6)


# ------------------------------------------------------------------------------------------------ command line


def test_cli_live_pyradiomics_against_itself(pyradiomics_data, tmp_path, capsys):
    out = tmp_path / "cmp.csv"
    code = main(["compare", "--a", "pyradiomics", "--b", "pyradiomics", "--data", str(pyradiomics_data / "data"),
                 "--cases", "breast1", "-o", str(out), "--fail-above", "0", "--save-results", str(tmp_path / "res")])
    assert code == 0
    table = pd.read_csv(out)
    assert (table["verdict"] == "agree").all() and len(table) == 107
    speed = pd.read_csv(tmp_path / "cmp_speed.csv")
    assert list(speed["case"]) == ["breast1"] and speed["ratio"].iloc[0] > 0
    assert (tmp_path / "res" / "a.parquet").is_file() and (tmp_path / "res" / "b.parquet").is_file()
    printed = capsys.readouterr().out
    assert "original_glcm_JointEnergy" in printed and "107 features matched (0 beyond" in printed


def test_cli_results_files_and_fail_above(tmp_path, capsys):
    a = _table("x@1", {"c1": {"f": 1.0, "g": 2.0}, "c2": {"f": 3.0, "g": 4.0}}, {"c1": 1.0, "c2": 1.0})
    b = a.assign(extractor="x@2", value=a["value"] * np.where(a["feature"] == "g", 1 + 1e-4, 1.0))
    pa, pb, both = tmp_path / "a.parquet", tmp_path / "b.parquet", tmp_path / "both.parquet"
    write_results(a, pa)
    write_results(b, pb)
    write_results(pd.concat([a, b]), both)
    assert main(["compare", "--a", str(pa), "--b", str(pb), "--fail-above", "1e-3"]) == 0
    assert main(["compare", "--a", str(pa), "--b", str(pb), "--fail-above", "1e-6"]) == 1
    assert "1 features differ by more than 1e-06 relative (worst: g" in capsys.readouterr().err
    assert main(["compare", "--a", str(pa), "--b", str(pb), "--rtol", "1e-6", "--fail-above"]) == 1
    assert main(["compare", "--a", str(both), "--b", str(both)]) == 2  # which extractor?
    assert "holds several extractors" in capsys.readouterr().err
    assert main(["compare", "--a", str(both), "--a-extractor", "x@1", "--b", str(both), "--b-extractor", "x@2",
                 "-o", str(tmp_path / "o.csv")]) == 0
    o = pd.read_csv(tmp_path / "o.csv").set_index("feature")
    assert o.loc["g", "max_rel_diff"] == pytest.approx(1e-4 / (1 + 1e-4), rel=1e-4)
    assert o.loc["f", "max_abs_diff"] == 0
    assert main(["compare", "--a", "radrepro", "--b", str(pb)]) == 2
    assert "no --data" in capsys.readouterr().err


def test_radrepro_pyradiomics_convention_agrees_with_pyradiomics(cases, tmp_path):
    """radrepro's numba kernels in the pyradiomics convention against the installed pyradiomics, run live on two
    real images: with pyradiomics' defaults, and with a parameter file (resampling, B-spline, bin width 10,
    sigma re-segmentation) that pyradiomics reads as is and radrepro loads as settings."""
    from radrepro.settings import load_settings

    params = tmp_path / "Params.yaml"
    params.write_text("setting:\n  binWidth: 10\n  resampledPixelSpacing: [2, 2, 2]\n  interpolator: sitkBSpline\n"
                      "  resegmentRange: [-3, 3]\n  resegmentMode: sigma\nimageType:\n  Original: {}\n")
    run = [cases["breast1"], cases["brain1"]]
    for settings, py_params in ((Settings(), None), (load_settings(params), params)):
        a, _ = run_extractor(parse_extractor("radrepro:pyradiomics"), run, settings, warmup=False)
        b, _ = run_extractor(parse_extractor("pyradiomics", py_params), run, settings, warmup=False)
        r = compare(a, b, rtol=1e-6)
        assert len(r.matched) == 107 and (r.matched["n_cases"] == 2).all()
        assert r.n_differ == 0, r.matched[r.matched["verdict"] == "differ"][["feature", "max_rel_diff"]]
        assert (r.matched["relation"] == "same name").all()


def test_force2d_is_ibsi_two_and_a_half_d(cases):
    """pyradiomics' force2D corresponds to IBSI 2.5D (per-direction matrices merged over slices, averaged over
    directions for GLCM/GLRLM; one merged matrix for the zone/neighbourhood families): with a fixed bin number
    every crosswalked texture feature agrees with radrepro's 2.5D values."""
    base = Settings(discretisation="fbn", bin_count=16, families=("stat", "ih", "cm", "rlm", "szm", "ngt", "ngl"))
    run = [cases["breast1"]]
    a, _ = run_extractor(parse_extractor("radrepro"), run, base.replace(texture_dims=("2.5D", "3D")), warmup=False)
    b, _ = run_extractor(parse_extractor("pyradiomics"), run, base.replace(texture_dims=("2D",)), warmup=False)
    r = compare(a, b, rtol=1e-9, force2d=True)
    texture = r.matched[r.matched["relation"] == "discretised"]
    assert len(texture) == 76 and r.n_differ == 0
    assert set(texture["a_feature"].str.extract(r"_(2_5D(?:_avg)?)$")[0].dropna()) == {"2_5D_avg", "2_5D"}
    assert not texture["a_feature"].str.contains("3D").any()  # 3D values present in A, not picked


def test_cli_two_mlflow_runs(tmp_path, capsys):
    """Two runs as `radrepro run` logs them (results.parquet artifact) in a real SQLite store."""
    import mlflow

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    exp = mlflow.create_experiment("radrepro-x", artifact_location=(tmp_path / "artifacts").as_uri())
    a = _table("x@1", {"c1": {"f": 1.0, "g": 2.0}, "c2": {"f": 3.0, "g": 4.0}}, {"c1": 1.0, "c2": 1.0})
    b = a.assign(extractor="x@2", value=a["value"] * np.where(a["feature"] == "g", 1 + 1e-3, 1.0))
    ids = []
    for name, table in (("a", a), ("b", b)):
        folder = tmp_path / name
        folder.mkdir()
        with mlflow.start_run(experiment_id=exp) as run:
            mlflow.log_artifact(str(write_results(table, folder / "results.parquet")))
            ids.append(run.info.run_id)
    code = main(["compare", "--a", f"run:{ids[0]}", "--b", ids[1], "--tracking-uri", uri, "--fail-above", "1e-6",
                 "-o", str(tmp_path / "o.csv")])
    assert code == 1
    o = pd.read_csv(tmp_path / "o.csv").set_index("feature")
    assert o.loc["g", "max_rel_diff"] == pytest.approx(1e-3 / (1 + 1e-3), rel=1e-4) and o.loc["f", "max_abs_diff"] == 0
    assert main(["compare", "--a", "run:" + "0" * 32, "--b", ids[1], "--tracking-uri", uri]) == 2
    assert "no MLflow run" in capsys.readouterr().err
