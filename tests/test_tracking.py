"""MLflow tracking of suite runs: what one run records (params, tags, metrics, artifacts, nested runs,
provenance), the explicit SQLite default, baselines read back, and a real ``mlflow server`` on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from suite_helpers import comparable, shared_cluster, shared_tracking_uri, write_suite

from radrepro.errors import DataUnavailableError
from radrepro.results import read_results
from radrepro.suites import load_suite, run_suite
from radrepro.tracking.runs import latest_run_id, load_reference, resolve_tracking_uri

pytestmark = pytest.mark.slow

TWO_EXTRACTORS = """
[[extractors]]
name = "radrepro"
convention = "ibsi"
[analyses.harmonisation]
recipe = "combat-site"
diagnostics = false                  # 2 lesions per site: too few for the site classifier
[analyses.stability]
"""


@pytest.fixture(scope="module")
def address():
    return shared_cluster().scheduler_address


@pytest.fixture(autouse=True)
def _no_env_tracking(monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)


def test_default_store_is_an_explicit_sqlite_file(tmp_path, monkeypatch):
    assert resolve_tracking_uri(None, tmp_path / "runs") == f"sqlite:///{(tmp_path / 'runs' / 'mlflow.db').resolve()}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:1")
    assert resolve_tracking_uri(None, tmp_path) == "http://127.0.0.1:1"
    assert resolve_tracking_uri("sqlite:////x/y.db", tmp_path) == "sqlite:////x/y.db"


def test_one_run_records_params_tags_metrics_artifacts_nested_runs_and_provenance(tmp_path, address):
    uri = shared_tracking_uri()
    suite = load_suite(write_suite(tmp_path, name="tracked", extra=TWO_EXTRACTORS))
    summary = run_suite(suite, runs_dir=tmp_path / "runs", scheduler=address, tracking_uri=uri, progress=False)
    client = mlflow.MlflowClient(uri)
    run = client.get_run(summary.run_id)
    p, t, m = run.data.params, run.data.tags, run.data.metrics
    assert p["suite"] == "tracked" and p["settings.bin_width"] == "25.0" and p["settings_digest"] == suite.settings.digest()
    for pkg in ("radrepro", "numpy", "numba", "SimpleITK", "pyradiomics", "dask", "mlflow"):
        assert p[f"version.{pkg}"] and p[f"version.{pkg}"] != "not installed"
    assert len(t["git_commit"]) == 40 and t["git_dirty"] in ("true", "false") and t["machine.cores"]
    assert t["dataset.ibsi-digital-phantom.doi"] == "10.48550/arXiv.1612.07003"
    assert len(t["dataset.synthetic-multicentre.sha256"]) == 64 and t["scheduler"] == address
    assert m["tasks"] == 18 and m["tasks_failed"] == 0 and m["cases"] == 5 and m["analyses_failed"] == 0
    assert m["seconds_per_case_median"] > 0 and m["features_per_second"] > 0 and m["extraction_seconds"] > 0
    assert 0 <= m["stability.radrepro.ibsi.frac_excellent"] <= m["stability.radrepro.ibsi.frac_good"] <= 1
    # stability per (extractor, convention) when there are two; ComBat diagnostics per extractor
    assert any(k.startswith("stability.radrepro.ibsi.") for k in m) and any(k.startswith("harmonisation.") for k in m)
    artifacts = {f.path for f in client.list_artifacts(summary.run_id)}
    assert {"results.parquet", "status.parquet", "tracked.toml", "provenance.json", "environment.txt",
            "stability.csv", "harmonisation.csv"} <= artifacts
    nested = client.search_runs([run.info.experiment_id], f"tags.mlflow.parentRunId = '{summary.run_id}'")
    assert sorted(r.data.params["extractor"].split("@")[0] for r in nested) == ["radrepro", "radrepro-test"]
    assert all(r.data.metrics["tasks"] == 9 for r in nested)
    prov = json.loads(Path(mlflow.artifacts.download_artifacts(run_id=summary.run_id, artifact_path="provenance.json",
                                                               tracking_uri=uri)).read_text())
    assert prov["git"]["git_commit"] == t["git_commit"] and prov["seeds"] == {"perturbations": 0}
    assert {"numpy", "numba", "SimpleITK", "pyradiomics", "dask", "mlflow"} <= set(prov["versions"])
    assert prov["datasets"]["ibsi-digital-phantom"]["sha256"] == t["dataset.ibsi-digital-phantom.sha256"]
    # both extractors compute the same numbers (the test one is radrepro under another name)
    res = read_results(summary.results_path)
    a = res[res["extractor"].str.startswith("radrepro@")].reset_index(drop=True)
    b = res[res["extractor"].str.startswith("radrepro-test@")].reset_index(drop=True)
    pd.testing.assert_series_equal(a["value"], b["value"])
    # the baseline is read back from MLflow: by id and as the latest parent run of the suite
    assert latest_run_id(uri, "tracked") == summary.run_id
    back = load_reference("latest", uri, "tracked")
    pd.testing.assert_frame_equal(comparable(back.results), comparable(res))
    assert back.metrics["tasks"] == 18
    with pytest.raises(DataUnavailableError, match="no earlier run of suite 'nothing-yet'"):
        latest_run_id(uri, "nothing-yet")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.network
def test_logs_to_an_mlflow_server_on_localhost(tmp_path, address):
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
         "--backend-store-uri", f"sqlite:///{tmp_path / 'server.db'}", "--artifacts-destination", str(tmp_path / "artifacts")],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    uri = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{uri}/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            assert server.poll() is None, server.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, "mlflow server did not start"
            time.sleep(0.5)
        suite = load_suite(write_suite(tmp_path, name="served"))
        summary = run_suite(suite, runs_dir=tmp_path / "runs", scheduler=address, tracking_uri=uri, progress=False)
        assert summary.tracking_uri == uri and not (tmp_path / "runs" / "mlflow.db").exists()
        run = mlflow.MlflowClient(uri).get_run(summary.run_id)
        assert run.data.params["suite"] == "served" and run.data.metrics["tasks"] == 9
        back = load_reference(summary.run_id, uri, "served")  # results.parquet through the server's artifact proxy
        pd.testing.assert_frame_equal(comparable(back.results), comparable(read_results(summary.results_path)))
        assert list((tmp_path / "artifacts").rglob("results.parquet"))
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)
