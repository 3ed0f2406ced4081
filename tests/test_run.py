"""`radrepro run` end to end on a small suite: Parquet results, a real MLflow SQLite run, failures recorded."""

import mlflow
import numpy as np
import pandas as pd
import SimpleITK as sitk

from radrepro.cli import main
from radrepro.results import read_results


def test_run_small_suite_with_a_bad_case(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    suite = tmp_path / "small.toml"
    suite.write_text(
        'name = "small"\n'
        '[[datasets]]\ncard = "ibsi-digital-phantom"\n'
        '[[datasets]]\ncard = "synthetic-multicentre"\nparams = { n_sites = 2, lesions_per_site = 2 }\n'
        '[settings]\nreseg_range = [-1000, 400]\n'
    )
    out = tmp_path / "runs"
    assert main(["run", str(suite), "--out", str(out), "--no-progress", "--report-dir", str(tmp_path / "report")]) == 0
    printed = capsys.readouterr().out
    assert "5 cases, 0 failed" in printed and "mlflow ui --backend-store-uri sqlite:///" in printed
    assert f"report:     {tmp_path / 'report' / 'report.html'}" in printed  # the run ends with its report
    cases = pd.read_csv(out / "small" / "cases.csv").set_index("case")
    assert cases.loc["syn-B-01", "site"] == "B" and "mol_site" in cases.columns
    results = read_results(out / "small" / "results.parquet")
    assert set(results["case"]) == {"ibsi-digital-phantom", "syn-A-00", "syn-A-01", "syn-B-00", "syn-B-01"}
    phantom = results[results["case"] == "ibsi-digital-phantom"].set_index("feature")["value"]
    assert phantom["stat_energy"] == 567
    mlflow.set_tracking_uri(f"sqlite:///{out / 'mlflow.db'}")
    runs = mlflow.search_runs(experiment_names=["radrepro-small"])
    assert len(runs) == 2  # the suite run and one nested run for its extractor
    run = runs[runs["tags.mlflow.parentRunId"].isna()].iloc[0]
    assert run["metrics.cases"] == 5 and run["metrics.cases_failed"] == 0
    assert run["params.version.numba"] and run["tags.dataset.synthetic-multicentre.sha256"]


def test_bad_case_is_recorded_and_others_go_on(tmp_path):
    from radrepro.case import Case
    from radrepro.datasets.phantom import digital_phantom
    from radrepro.settings import Settings
    from radrepro.suites.tasks import PerturbationSpec, execute

    image, mask = digital_phantom()
    empty = sitk.GetImageFromArray(np.zeros(sitk.GetArrayFromImage(mask).shape, np.uint8))
    empty.CopyInformation(mask)
    spec = {"name": "radrepro", "convention": "ibsi"}
    # bad input is a failed status (not retried: it would fail again), not an exception
    out = execute(Case("empty", image, empty), PerturbationSpec(), spec, Settings())
    assert out["status"] == "failed" and "no voxel with label 1" in out["error"] and not out["features"]
    out = execute(Case("ok", image, mask), PerturbationSpec(), spec, Settings())
    assert out["status"] == "ok" and len(out["features"]) == len(out["values"]) > 0
    assert dict(zip(out["features"], out["values"]))["stat_energy"] == 567
