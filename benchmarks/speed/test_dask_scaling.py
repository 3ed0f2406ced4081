"""Dask scaling: one small suite run on a local cluster of 1 and of 2 single-threaded workers.

Issue 10. The suite (written to a temporary folder) is the synthetic multi-centre cohort cut to
4 sites x 6 lesions (24 cases), unperturbed, with Gaussian noise at the image's own level and
rotated by 10 degrees (72 tasks of about 0.1 s each), radrepro's engine in the IBSI convention
(all 11 families), no analyses; it runs through the public API (:func:`radrepro.suites.run_suite`)
with ``fresh=True``, so every round recomputes every task. The figure is the whole run (cluster
start, JIT warm-up from the cache, tasks, results table, MLflow logging to a SQLite store in the
temporary folder); ``extra_info`` also holds the run's own extraction seconds
(``RunSummary.extraction_seconds``), the task count, and the median and sum of the seconds each
task took inside its worker (from the run's ``status.parquet``): when they grow with the worker
count, the workers compete for the cores. Speed-up = 1-worker time / 2-worker time
(``benchmarks/summary.py``).

Run with ``.venv/bin/python -m pytest benchmarks/speed/test_dask_scaling.py --benchmark-only``
(marker ``dask``).
"""

from __future__ import annotations

import pandas as pd
import pytest

pytestmark = pytest.mark.dask

SUITE = """
name = "bench-dask"
description = "speed benchmark: 24 synthetic lesions, unperturbed, with noise and rotated, radrepro IBSI convention"
[[datasets]]
card = "synthetic-multicentre"
params = { n_sites = 4, lesions_per_site = 6 }
[settings]
intensity_rounding = 1.0
reseg_range = [-1000, 400]
bin_width = 25
[perturbations]
seed = 0
unperturbed = true
[[perturbations.chains]]
steps = [{ kind = "noise" }]
[[perturbations.chains]]
steps = [{ kind = "rotation", angle = 10.0 }]
[[extractors]]
name = "radrepro"
convention = "ibsi"
[execution]
retries = 0
numba_threads = 1
"""


@pytest.fixture(scope="module")
def suite(tmp_path_factory):
    from radrepro.suites import load_suite

    path = tmp_path_factory.mktemp("suite") / "bench-dask.toml"
    path.write_text(SUITE)
    return load_suite(path)


@pytest.mark.parametrize("workers", [1, 2])
def test_suite_workers(benchmark, record, rounds, tmp_path, suite, workers):
    from radrepro.suites import run_suite

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    summaries = []

    def run():
        summary = run_suite(suite, runs_dir=tmp_path / "runs", workers=workers, tracking_uri=uri, progress=False,
                            fresh=True)
        summaries.append(summary)
        return summary

    benchmark.group = "Dask scaling: 72-task suite, IBSI convention"
    record(kind="dask", workers=workers, suite=suite.name, cases=24, tasks=72, settings=suite.settings.to_dict())
    # warm-up: MLflow store created, numba cache written, worker imports in the OS file cache
    summary = benchmark.pedantic(run, rounds=rounds(2), iterations=1, warmup_rounds=1)
    measured = summaries[1:]
    benchmark.extra_info["extraction_seconds"] = [s.extraction_seconds for s in measured]
    # seconds of each task measured inside its worker: contention shows here, scheduling overhead does not
    status = pd.read_parquet(summary.status_path)
    benchmark.extra_info["task_seconds_median"] = float(status["seconds"].median())
    benchmark.extra_info["task_seconds_sum"] = float(status["seconds"].sum())
    benchmark.extra_info["tasks"] = summary.n_tasks
    benchmark.extra_info["computed"] = summary.n_computed
    assert summary.n_failed == 0 and summary.n_computed == summary.n_tasks == 72
