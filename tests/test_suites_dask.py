"""Suites on Dask: identical results whatever the workers or scheduler, failures recorded, resume after a kill.

Real Dask clusters (a shared 2-process LocalCluster passed by address, plus the LocalClusters that
``run_suite`` starts itself) and a real MLflow SQLite store. The suite is small (5 cases, 9 tasks)
and extracts with radrepro's engine under the test name ``radrepro-test`` (tests/suite_helpers.py).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from suite_helpers import SMALL_TASKS, comparable, set_worker_env, shared_cluster, shared_tracking_uri, write_suite

from radrepro.cli import main
from radrepro.results import read_results
from radrepro.suites import load_suite, run_suite
from radrepro.suites.store import PartStore

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def address():
    return shared_cluster().scheduler_address


@pytest.fixture(scope="module")
def uri():
    return shared_tracking_uri()


@pytest.fixture(autouse=True)
def _no_env_tracking(monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)


def _bits(values: pd.Series) -> np.ndarray:
    return values.to_numpy(np.float64).view(np.int64)


def test_bit_identical_with_1_and_2_workers_threads_and_an_existing_scheduler(tmp_path, address, uri, capsys):
    suite = load_suite(write_suite(tmp_path))
    # a LocalCluster of one worker process, started by the run itself
    one = run_suite(suite, runs_dir=tmp_path / "w1", workers=1, tracking_uri=uri, progress=False)
    # two workers as threads of this process
    threads = run_suite(suite, runs_dir=tmp_path / "threads", workers=2, processes=False, tracking_uri=uri, progress=False)
    # the CLI with --scheduler: the same code path on a cluster started elsewhere (two worker processes)
    assert main(["run", str(suite.path), "--out", str(tmp_path / "sched"), "--scheduler", address,
                 "--tracking-uri", uri, "--no-progress", "--no-report"]) == 0
    assert f"{SMALL_TASKS} ({SMALL_TASKS} computed, 0 already done)" in capsys.readouterr().out
    tables = {name: read_results(tmp_path / name / "small" / "results.parquet") for name in ("w1", "threads", "sched")}
    ref = tables["w1"]
    assert one.n_tasks == SMALL_TASKS and one.n_failed == 0 and len(ref) == SMALL_TASKS * ref["feature"].nunique()
    phantom = ref[(ref["case"] == "ibsi-digital-phantom")].set_index("feature")["value"]
    assert phantom["stat_energy"] == 567  # IBSI reference value of the digital phantom
    assert set(ref["perturbation"]) == {"none", suite_perturbation_id(suite)}
    for name, table in tables.items():
        pd.testing.assert_frame_equal(comparable(table), comparable(ref), check_exact=True, obj=name)
        assert np.array_equal(_bits(table["value"]), _bits(ref["value"])), name
    # worker counts and numba threads as asked, recorded in the provenance
    prov = {name: json.loads((tmp_path / name / "small" / "provenance.json").read_text()) for name in ("w1", "sched")}
    assert prov["w1"]["execution"]["workers"] == 1 and prov["sched"]["execution"]["workers"] == 2
    assert prov["sched"]["execution"]["scheduler"] == address
    for threads_info in prov["w1"]["execution"]["worker_threads"].values():
        assert threads_info["NUMBA_NUM_THREADS"] == 1 and threads_info["numba_threads"] == 1
    assert threads.metrics["tasks_computed"] == SMALL_TASKS


def suite_perturbation_id(suite) -> str:
    from radrepro.suites.perturbing import expand

    return expand(suite.perturbations)[1].id


def test_failed_task_is_recorded_the_others_go_on_and_a_transient_failure_is_retried(tmp_path, address, uri):
    flaky = tmp_path / "flaky"
    flaky.mkdir()
    suite = load_suite(write_suite(tmp_path, extra="[execution]\nretries = 1\n"))
    set_worker_env(address, RADREPRO_TEST_FAIL_CASE="syn-B-01", RADREPRO_TEST_FLAKY_DIR=str(flaky))
    try:
        summary = run_suite(suite, runs_dir=tmp_path / "runs", scheduler=address, tracking_uri=uri, progress=False)
    finally:
        set_worker_env(address, RADREPRO_TEST_FAIL_CASE=None, RADREPRO_TEST_FLAKY_DIR=None)
    status = pd.read_parquet(summary.status_path)
    failed = status[status["status"] == "failed"]
    assert sorted(failed["case"]) == ["syn-B-01", "syn-B-01"]  # unperturbed and rotated
    assert (failed["error"] == "RuntimeError: deliberate failure on syn-B-01").all()
    assert (status.loc[status["status"] == "ok", "case"] != "syn-B-01").all() and (status["status"] == "ok").sum() == 7
    # every case failed its first attempt (a marker per case) and still finished: retried
    assert {p.name.rsplit("-", 1)[0] for p in flaky.glob("*.attempt")} >= {"syn-A-00", "syn-A-01", "syn-B-00"}
    results = read_results(summary.results_path)
    assert "syn-B-01" not in set(results["case"]) and results["case"].nunique() == 4
    assert summary.metrics["tasks_failed"] == 2 and summary.n_failed == 2
    # a re-run computes only what failed
    again = run_suite(suite, runs_dir=tmp_path / "runs", scheduler=address, tracking_uri=uri, progress=False)
    assert again.n_computed == 2 and again.n_cached == 7 and again.n_failed == 0


def test_resume_computes_only_the_missing_keys(tmp_path, address, uri):
    suite = load_suite(write_suite(tmp_path))
    first = run_suite(suite, runs_dir=tmp_path, scheduler=address, tracking_uri=uri, progress=False)
    before = read_results(first.results_path)
    store = PartStore(first.out_dir / "parts")
    keys = sorted(store.done())
    assert len(keys) == SMALL_TASKS
    removed = set(keys[::3])
    store.remove(removed)
    second = run_suite(suite, runs_dir=tmp_path, scheduler=address, tracking_uri=uri, progress=False)
    status = pd.read_parquet(second.status_path)
    assert set(status.loc[status["source"] == "computed", "key"]) == removed
    assert set(status.loc[status["source"] == "cached", "key"]) == set(keys) - removed
    after = read_results(second.results_path)
    pd.testing.assert_frame_equal(comparable(after), comparable(before), check_exact=True)
    recomputed = list(status.loc[status["source"] == "computed", ["case", "perturbation"]].itertuples(index=False, name=None))
    cached = ~after.set_index(["case", "perturbation"]).index.isin(recomputed)
    assert np.array_equal(after.loc[cached, "seconds"].to_numpy(), before.loc[cached, "seconds"].to_numpy())


def test_sigkill_midway_then_rerun_loses_nothing_and_computes_nothing_twice(tmp_path, address, uri):
    suite_path = write_suite(tmp_path, name="killed")
    out = tmp_path / "runs"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "tests"), "MLFLOW_TRACKING_URI": uri}
    set_worker_env(address, RADREPRO_TEST_DELAY="0.5")  # slow tasks, so that the kill comes midway
    proc = subprocess.Popen([sys.executable, "-m", "radrepro", "run", str(suite_path), "--out", str(out), "--scheduler", address,
                             "--no-progress", "--no-report"], env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    parts = out / "killed" / "parts"
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if parts.is_dir() and len(list(parts.glob("*.parquet"))) >= 3:
                break
            time.sleep(0.02)
        assert proc.poll() is None, f"the run ended before it could be killed: {proc.stderr.read().decode()[-2000:]}"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the suite run (the Dask client) dies at once
        proc.wait(timeout=30)
        set_worker_env(address, RADREPRO_TEST_DELAY=None)
    survived = {p.stem for p in parts.glob("*.parquet")}
    assert 3 <= len(survived) < SMALL_TASKS
    summary = run_suite(load_suite(suite_path), runs_dir=out, scheduler=address, tracking_uri=uri, progress=False)
    status = pd.read_parquet(summary.status_path)
    computed = set(status.loc[status["source"] == "computed", "key"])
    assert computed.isdisjoint(survived) and computed | survived == set(status["key"])  # none twice, none lost
    assert len(computed) == SMALL_TASKS - len(survived) and summary.n_failed == 0
    assert not list(parts.glob(".*.tmp"))
    # identical to an uninterrupted run of the same suite
    whole = run_suite(load_suite(suite_path), runs_dir=tmp_path / "whole", scheduler=address, tracking_uri=uri, progress=False)
    resumed, uninterrupted = read_results(summary.results_path), read_results(whole.results_path)
    assert not resumed.duplicated(["case", "perturbation", "extractor", "feature"]).any()
    pd.testing.assert_frame_equal(comparable(resumed), comparable(uninterrupted), check_exact=True)


def test_part_store_is_atomic_and_round_trips(tmp_path):
    from radrepro.results import long_rows

    store = PartStore(tmp_path / "parts")
    (tmp_path / "parts" / ".abc.123.tmp").write_bytes(b"half a file")
    rows = long_rows({"stat_mean": 1.5, "stat_var": np.nan}, case="c", extractor="x@1", convention="ibsi", settings="s", seconds=0.25)
    store.write("k1", rows, {"case": "c", "status": "ok", "seconds": 0.25})
    again = PartStore(tmp_path / "parts")
    assert again.done() == {"k1"} and not list((tmp_path / "parts").glob(".*.tmp"))
    back, status = again.read("k1")
    pd.testing.assert_frame_equal(back, rows)
    assert status == {"case": "c", "status": "ok", "seconds": 0.25}


def test_run_cli_flags_are_documented():
    from radrepro.cli import build_parser

    text = build_parser()._subparsers._group_actions[0].choices["run"].format_help()
    for flag in ("--scheduler", "--workers", "--tracking-uri", "--gate", "--compare-to", "--fresh"):
        assert flag in text


def test_task_key_changes_with_everything_that_decides_the_numbers(monkeypatch):
    from radrepro.suites import tasks
    from radrepro.suites.tasks import PerturbationSpec, task_key

    base = dict(image="image:a", mask="image:b", settings="s1", perturbation=PerturbationSpec(), extractor="radrepro@0.1.0",
                convention="ibsi", spec={"name": "radrepro"})
    key = task_key(**base)
    assert key == task_key(**base) and len(key) == 32
    for change in ({"image": "image:c"}, {"mask": "image:c"}, {"settings": "s2"}, {"extractor": "radrepro@0.2.0"},
                   {"convention": "pyradiomics"}, {"spec": {"name": "radrepro", "params": "p.yaml"}},
                   {"perturbation": PerturbationSpec(id="x", params='[{"kind":"noise"}]', seed=0)}):
        assert task_key(**{**base, **change}) != key, change
    noisy = PerturbationSpec(id="x", params='[{"kind":"noise"}]', seed=0)
    assert task_key(**{**base, "perturbation": noisy}) != task_key(**{**base, "perturbation": PerturbationSpec(
        id="x", params='[{"kind":"noise"}]', seed=1)})
    monkeypatch.setattr(tasks, "code_digest", lambda: "other code")
    assert task_key(**base) != key
