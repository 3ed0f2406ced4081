"""Extractor backends with test behaviour, for the suite tests (``class = "suite_helpers:TestExtractor"``).

The behaviour comes from environment variables, so that it is not part of a task's key (the
numbers are radrepro's own): the Dask workers read them when a task runs.

- ``RADREPRO_TEST_DELAY``: seconds to sleep in every extraction (a slowed extractor; lets a test
  kill a run midway);
- ``RADREPRO_TEST_FAIL_CASE``: a case id whose extraction raises ``RuntimeError`` every time;
- ``RADREPRO_TEST_FLAKY_DIR``: a folder; the first extraction of each case raises ``OSError`` and
  leaves a marker file there, the next attempt succeeds.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from radrepro.extractors.radrepro_engine import RadreproExtractor


class TestExtractor(RadreproExtractor):
    """radrepro's engine (same numbers) under the name ``radrepro-test``."""

    __test__ = False  # not a pytest test class
    name = "radrepro-test"

    def extract(self, case, settings):
        delay = float(os.environ.get("RADREPRO_TEST_DELAY", "0") or 0)
        if delay:
            time.sleep(delay)
        if case.id == os.environ.get("RADREPRO_TEST_FAIL_CASE"):
            raise RuntimeError(f"deliberate failure on {case.id}")
        flaky = os.environ.get("RADREPRO_TEST_FLAKY_DIR")
        if flaky:
            marker = Path(flaky) / f"{case.id}-{os.getpid()}.attempt"
            first = not any(Path(flaky).glob(f"{case.id}-*.attempt"))
            if first:
                marker.touch()
                raise OSError(f"transient failure on {case.id} (first attempt)")
        return super().extract(case, settings)


# -- shared by tests/test_suites_dask.py, test_tracking.py, test_gate.py -------------------------

SMALL_SUITE = """
name = "{name}"
[[datasets]]
card = "ibsi-digital-phantom"
perturb = false
[[datasets]]
card = "synthetic-multicentre"
params = {{ n_sites = 2, lesions_per_site = 2 }}
[settings]
intensity_rounding = 1.0
reseg_range = [-1000, 400]
bin_width = {bin_width}
[perturbations]
seed = 0
[[perturbations.chains]]
steps = [{{ kind = "rotation", angle = 10.0 }}]
[[extractors]]
class = "suite_helpers:TestExtractor"
{extra}
"""

#: tasks of the small suite: the phantom unperturbed, 4 lesions x (none, rotation)
SMALL_TASKS = 9


def write_suite(folder: Path, name: str = "small", bin_width: float = 25, extra: str = "") -> Path:
    """A small suite file: 5 cases, 9 tasks, radrepro's numbers under the test extractor."""
    path = Path(folder) / f"{name}.toml"
    path.write_text(SMALL_SUITE.format(name=name, bin_width=bin_width, extra=extra))
    return path


_SHARED: dict = {}


def shared_cluster():
    """One 2-worker LocalCluster (processes) for the whole test session; tests pass its address."""
    if "cluster" not in _SHARED:
        import atexit
        import logging

        from distributed import LocalCluster

        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                               silence_logs=logging.ERROR)
        _SHARED["cluster"] = cluster
        atexit.register(cluster.close)
    return _SHARED["cluster"]


def set_worker_env(address: str, **variables: str | None) -> None:
    """Set (or, with None, remove) environment variables in every worker of the cluster at ``address``."""
    from distributed import Client

    def apply(values):
        for k, v in values.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v

    with Client(address) as client:
        client.run(apply, variables)


def shared_tracking_uri() -> str:
    """One MLflow SQLite store for the session (creating its tables takes seconds)."""
    if "uri" not in _SHARED:
        import tempfile

        folder = Path(tempfile.mkdtemp(prefix="radrepro-mlflow-"))
        _SHARED["uri"] = f"sqlite:///{folder / 'mlflow.db'}"
    return _SHARED["uri"]


def comparable(results):
    """A results table without the timing column (the only one that differs between equal runs)."""
    return results.drop(columns=["seconds"]).reset_index(drop=True)
