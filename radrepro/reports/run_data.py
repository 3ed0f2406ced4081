"""Everything a report reads, fetched from one MLflow run: its record and its artifacts.

The report needs nothing but the run. It recognises these artifacts by file name, in any folder of
the run's artifacts (Parquet or CSV):

============================== ==========================================================
``results``                    long results table (:mod:`radrepro.results`)
``status``                     one row per extraction task (seconds, ROI voxels, failures)
``cases``                      one row per case: ``case`` and its metadata (``site``,
                               ``label``, ...), for harmonisation figures and models
``stability``                  one row per feature: ``icc_*``, ``icc_*_low``, ``icc_*_high``
``harmonisation_diagnostics``  :func:`radrepro.harmonisation.harmonise_results` diagnostics
``harmonised``                 the harmonised long results table
``models``                     :func:`radrepro.models.compare_models` table
``ibsi_compliance``            IBSI compliance rows (dataset, tag, family, kind, verdict, ...)
``radiogenomics_*``            :class:`radrepro.radiogenomics.RadiogenomicsResult` tables (summary,
                               survival, associations, prediction)
============================== ==========================================================

Also read: ``provenance.json`` (versions, datasets with citations, seeds), ``environment.txt``
(every installed distribution), the run's parameters (``settings.*``, ``version.*``, ``seed*``), tags (``git_commit``,
``machine.*``, ``dataset.<card>.sha256|doi``), metrics and the suite file (``*.toml``).
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from radrepro.errors import DataUnavailableError, InputError

TABLE_NAMES = ("results", "status", "cases", "stability", "harmonisation_diagnostics", "harmonised", "models", "ibsi_compliance",
               "radiogenomics_summary", "radiogenomics_survival", "radiogenomics_associations", "radiogenomics_prediction")
ALIASES = {"metadata": "cases", "model_performance": "models", "ibsi": "ibsi_compliance", "harmonisation": "harmonisation_diagnostics"}


@dataclass
class RunData:
    """A run's record and the tables found among its artifacts."""

    run_id: str
    run_name: str
    experiment: str
    tracking_uri: str
    start_time: pd.Timestamp | None
    status: str
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    suite_text: str = ""
    provenance: dict = field(default_factory=dict)  # provenance.json of the run, when logged
    environment: str = ""  # environment.txt: every installed distribution, name==version


def _read_table(path: Path) -> pd.DataFrame:
    return pd.read_csv(path) if path.suffix == ".csv" else pd.read_parquet(path)


def resolve_run_id(run_id: str, tracking_uri: str) -> str:
    """``run_id`` itself, or for ``latest`` the most recent top-level run of the store (nested runs skipped)."""
    if run_id != "latest":
        return run_id
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri)
    experiments = [e.experiment_id for e in client.search_experiments()]
    runs = client.search_runs(experiments, order_by=["attributes.start_time DESC"], max_results=200) if experiments else []
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]  # a suite's run, not its per-extractor children
    if not parents:
        raise DataUnavailableError(f"the MLflow store {tracking_uri} has no runs", "run a suite first: radrepro run")
    return parents[0].info.run_id


def load_run(run_id: str, tracking_uri: str, workdir: Path | None = None) -> RunData:
    """Fetch run ``run_id`` (or ``latest``) from ``tracking_uri`` with its artifacts."""
    import mlflow.artifacts
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri)
    run_id = resolve_run_id(run_id, tracking_uri)
    try:
        run = client.get_run(run_id)
    except MlflowException as exc:
        raise InputError(f"no MLflow run {run_id!r} in {tracking_uri}", "pass a run id shown by `radrepro run` or the MLflow UI, or --tracking-uri") from exc
    experiment = client.get_experiment(run.info.experiment_id)
    data = RunData(
        run_id=run_id,
        run_name=run.info.run_name or "",
        experiment=experiment.name if experiment else "",
        tracking_uri=tracking_uri,
        start_time=pd.to_datetime(run.info.start_time, unit="ms", utc=True) if run.info.start_time else None,
        status=run.info.status,
        params=dict(run.data.params),
        tags={k: v for k, v in run.data.tags.items() if not k.startswith("mlflow.")},
        metrics=dict(run.data.metrics),
    )
    dst = Path(workdir or tempfile.mkdtemp(prefix="radrepro-report-"))
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")  # a report prints its own one line
    try:
        local = Path(mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="", dst_path=str(dst), tracking_uri=tracking_uri))
    except (MlflowException, OSError) as exc:
        raise DataUnavailableError(f"the artifacts of run {run_id} cannot be downloaded ({exc})", "check that the artifact store is reachable") from exc
    for path in sorted(p for p in local.rglob("*") if p.is_file()):
        rel = path.relative_to(local).as_posix()
        data.files.append(rel)
        stem = ALIASES.get(path.stem, path.stem)
        if path.suffix in (".parquet", ".csv") and stem in TABLE_NAMES and stem not in data.tables:
            try:
                data.tables[stem] = _read_table(path)
            except Exception:  # a damaged artifact drops its section, not the report
                continue
        elif path.suffix == ".toml" and not data.suite_text:
            data.suite_text = path.read_text(errors="replace")
        elif path.name == "provenance.json":
            try:
                data.provenance = json.loads(path.read_text())
            except ValueError:
                pass
        elif path.name == "environment.txt":
            data.environment = path.read_text(errors="replace")
    return data
