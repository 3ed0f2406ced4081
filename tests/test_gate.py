"""The nightly gate, both ways: an unchanged re-run passes; a changed setting, a slowed extractor, lost IBSI
matches, a stability drop or a value beyond its per-feature tolerance fail with the right reason.

Real runs on the shared 2-process LocalCluster and a real MLflow SQLite store; the gate reads the
baseline back from MLflow (run id or ``latest``) or from a results file.
"""

from __future__ import annotations

import mlflow
import pandas as pd
import pytest
from suite_helpers import set_worker_env, shared_cluster, shared_tracking_uri, write_suite

from radrepro.cli import main
from radrepro.results import read_results, write_results
from radrepro.suites import gate, load_suite, run_suite
from radrepro.tracking.runs import Reference

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def address():
    return shared_cluster().scheduler_address


@pytest.fixture(scope="module")
def uri():
    return shared_tracking_uri()


@pytest.fixture(autouse=True)
def _no_env_tracking(monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)


@pytest.fixture(scope="module")
def baseline(tmp_path_factory, address, uri):
    folder = tmp_path_factory.mktemp("gate")
    suite = load_suite(write_suite(folder, name="gated", extra=GATE))
    summary = run_suite(suite, runs_dir=folder / "baseline", scheduler=address, tracking_uri=uri, progress=False)
    return folder, summary


# machine noise on a shared 2-core machine must not fail an unchanged re-run: the small suite allows x3
GATE = "[gate]\nspeed_ratio = 3.0\n"


def _args(folder, out, address, uri, *more):
    return ["run", str(folder / "gated.toml"), "--out", str(folder / out), "--scheduler", address, "--tracking-uri", uri,
            "--no-progress", "--no-report", *more]


def test_unchanged_rerun_passes_against_latest(baseline, address, uri, capsys):
    folder, base = baseline
    # a fresh output folder: every task is computed again, then compared with the previous run
    assert main(_args(folder, "rerun", address, uri, "--gate", "latest")) == 0
    out = capsys.readouterr().out
    assert f"gate against {base.run_id}: passed" in out
    run = mlflow.MlflowClient(uri).search_runs([mlflow.get_experiment_by_name("radrepro-gated").experiment_id],
                                                 order_by=["attributes.start_time DESC"], max_results=5)
    parent = next(r for r in run if "mlflow.parentRunId" not in r.data.tags)
    assert parent.data.tags["gate.passed"] == "true" and parent.data.metrics["gate.regressions"] == 0


def test_changed_setting_fails_naming_the_setting_and_the_values(baseline, address, uri, capsys):
    folder, base = baseline
    write_suite(folder, name="gated", bin_width=10, extra=GATE)  # the same suite with another bin width
    try:
        code = main(_args(folder, "changed", address, uri, "--gate", base.run_id))
    finally:
        write_suite(folder, name="gated", extra=GATE)
    captured = capsys.readouterr()
    assert code == 1  # RegressionError
    assert "settings changed: bin_width 25.0 -> 10.0" in captured.out
    assert "values: " in captured.out and "beyond tolerance" in captured.out and "cm_" in captured.out
    assert "regression(s) against " + base.run_id in captured.err


def test_slowed_extractor_fails_on_speed_only(baseline, address, uri):
    folder, base = baseline
    set_worker_env(address, RADREPRO_TEST_DELAY="1.5")
    try:
        summary = run_suite(load_suite(folder / "gated.toml"), runs_dir=folder / "slow", scheduler=address, tracking_uri=uri,
                            progress=False, baseline=base.run_id)
    finally:
        set_worker_env(address, RADREPRO_TEST_DELAY=None)
    assert not summary.gate.passed
    assert len(summary.gate.reasons) == 1 and summary.gate.reasons[0].startswith("speed: extractor radrepro-test (ibsi) takes")
    assert (summary.gate.differences["status"] == "equal").all()  # same numbers, only slower


def test_compare_to_an_earlier_run(baseline, address, uri, capsys):
    folder, base = baseline
    # the baseline's own folder: nothing is computed again
    assert main(_args(folder, "baseline", address, uri, "--compare-to", base.run_id)) == 0
    out = capsys.readouterr().out
    assert f"compared with {base.run_id}" in out and "features beyond tolerance: 0" in out
    assert "(0 computed, 9 already done)" in out


def test_results_file_baseline_with_per_feature_tolerance(baseline, tmp_path):
    folder, base = baseline
    results = read_results(base.results_path)
    changed = results.copy()
    hit = changed["feature"] == "stat_mean"
    changed.loc[hit, "value"] = changed.loc[hit, "value"] * (1 + 1e-6)
    path = write_results(changed, tmp_path / "baseline.parquet")
    strict = load_suite(folder / "gated.toml")
    report = gate.evaluate(strict, results, {}, Reference(name=str(path), results=read_results(path)))
    assert len(report.reasons) == 1 and report.reasons[0].startswith(f"values: {int(hit.sum())} value(s) of 1 feature(s) beyond")
    assert "stat_mean" in report.reasons[0]
    lenient = load_suite(write_suite(tmp_path, name="gated", extra='[gate.features]\n"stat_m*" = { rtol = 1e-4 }\n'))
    assert gate.evaluate(lenient, results, {}, Reference(name=str(path), results=read_results(path))).passed
    # a value of the baseline missing now is a regression too
    fewer = results[results["case"] != "syn-A-00"]
    report = gate.evaluate(strict, fewer, {}, Reference(name=str(path), results=results))
    assert any(r.startswith("values: ") and "missing or NaN now (cases syn-A-00)" in r for r in report.reasons)


def test_lost_ibsi_matches_and_stability_drop_are_regressions(baseline):
    folder, base = baseline
    results = read_results(base.results_path)
    suite = load_suite(write_suite(folder, name="gated", extra="[gate]\nspeed_ratio = 3.0\nstability_drop = 0.05\n"))
    try:
        ref = Reference(name="run-x", results=results, metrics={"ibsi.match": 480.0, "ibsi.A.match": 80.0,
                                                                "stability.frac_excellent": 0.60, "stability.frac_good": 0.70})
        now = {"ibsi.match": 479.0, "ibsi.A.match": 79.0, "stability.frac_excellent": 0.50, "stability.frac_good": 0.68}
        reasons = gate.evaluate(suite, results, now, ref).reasons
    finally:
        write_suite(folder, name="gated", extra=GATE)
    assert "IBSI: ibsi.match 479 matches vs 480 in the baseline" in reasons
    assert "IBSI: ibsi.A.match 79 matches vs 80 in the baseline" in reasons
    assert any(r.startswith("stability: stability.frac_excellent dropped from 0.6000 to 0.5000") for r in reasons)
    assert not any("frac_good" in r for r in reasons)  # a drop of 0.02 is within 0.05
    assert len(reasons) == 3
