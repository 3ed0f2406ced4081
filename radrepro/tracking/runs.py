"""MLflow runs: tracking URI, one parent run per suite run, nested runs per extractor, baselines.

The default store is a SQLite file next to the run's outputs (``sqlite:///<runs dir>/mlflow.db``,
always written out explicitly) with artifacts beside it; ``--tracking-uri`` or
``MLFLOW_TRACKING_URI`` point elsewhere (an ``mlflow server``, ``http://127.0.0.1:5000``). SQLite
takes one writer at a time, so only the process that started the suite logs; Dask workers never
touch MLflow.

A suite run logs to the experiment ``radrepro-<suite>``:

- parent run (name = suite): params ``settings.*``, ``settings_digest``, ``suite``, ``seed``,
  ``version.*``; tags ``git_commit``, ``git_dirty``, ``machine.*``, ``dataset.<card>.sha256|doi``,
  ``scheduler``, ``gate.passed``; metrics (counts, seconds per case median/p95, features/s,
  timings, IBSI match counts, stability summaries, ComBat diagnostics, model scores); artifacts
  ``results.parquet``, ``status.parquet``, analysis tables, the suite file, ``provenance.json``,
  ``environment.txt``, ``gate.txt``;
- one nested run per extractor entry (label and convention): its speed metrics.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from radrepro.errors import DataUnavailableError, InputError


def resolve_tracking_uri(uri: str | None, runs_dir: Path) -> str:
    """``uri``, else ``MLFLOW_TRACKING_URI``, else a SQLite store in ``runs_dir`` (absolute path)."""
    if uri:
        return uri
    if os.environ.get("MLFLOW_TRACKING_URI"):
        return os.environ["MLFLOW_TRACKING_URI"]
    runs_dir.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(runs_dir / 'mlflow.db').resolve()}"


def experiment_name(suite: str) -> str:
    return f"radrepro-{suite}"


def ensure_experiment(name: str, runs_dir: Path) -> str:
    """Id of experiment ``name``, created with artifacts under ``runs_dir/artifacts`` for a local store."""
    import mlflow

    exp = mlflow.get_experiment_by_name(name)
    if exp is not None:
        return exp.experiment_id
    artifact_location = None
    if mlflow.get_tracking_uri().startswith("sqlite:"):
        artifact_location = (runs_dir / "artifacts").resolve().as_uri()
    return mlflow.create_experiment(name, artifact_location=artifact_location)


def ui_command(tracking_uri: str) -> str:
    """The command that opens this store in the MLflow UI."""
    if tracking_uri.startswith(("http://", "https://")):
        return f"open {tracking_uri}"
    return f"mlflow ui --backend-store-uri {tracking_uri}"


def _quiet_mlflow() -> None:
    import logging

    for name in ("mlflow", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)


# -- logging a suite run --------------------------------------------------------------------------


def _extractor_metrics(status: pd.DataFrame, results: pd.DataFrame, label: str, convention: str) -> dict[str, float]:
    st = status[(status["extractor"] == label) & (status["convention"] == convention)]
    ok = st[st["status"] == "ok"]["seconds"].astype(float)
    n_values = int(((results["extractor"] == label) & (results["convention"] == convention)).sum())
    return {
        "tasks": len(st),
        "tasks_failed": int((st["status"] == "failed").sum()),
        "seconds_per_case_median": float(ok.median()) if len(ok) else float("nan"),
        "seconds_per_case_p95": float(ok.quantile(0.95)) if len(ok) else float("nan"),
        "features_per_second": float(n_values / ok.sum()) if len(ok) and ok.sum() > 0 else float("nan"),
    }


def log_suite_run(*, suite, uri: str, runs_dir: Path, cards: list[str], metrics: dict[str, float],
                  artifacts: dict[str, Path], results: pd.DataFrame, status: pd.DataFrame,
                  execution: dict[str, Any], notes: list[str], gate=None, perturbations=(), out: Path) -> str:
    """Log one suite run (parent + nested per extractor) from this process; the parent run id."""
    import mlflow

    from radrepro.tracking.provenance import environment, git_state, machine, provenance, versions

    _quiet_mlflow()
    mlflow.set_tracking_uri(uri)
    experiment_id = ensure_experiment(experiment_name(suite.name), runs_dir)
    seeds = {"perturbations": suite.perturbations.seed}
    prov = provenance(suite=suite, cards=cards, seeds=seeds, execution=execution, notes=notes)
    prov["perturbations"] = [{"id": p.id, "params": p.params} for p in perturbations]
    prov_path = out / "provenance.json"
    prov_path.write_text(json.dumps(prov, indent=2, default=str))
    env_path = out / "environment.txt"
    env_path.write_text(environment())
    with mlflow.start_run(experiment_id=experiment_id, run_name=suite.name) as run:
        params = {f"settings.{k}": json.dumps(v) for k, v in suite.settings.to_dict().items()}
        params.update({"settings_digest": suite.settings.digest(), "suite": suite.name,
                       "seed": str(suite.perturbations.seed), "perturbations": str(len(perturbations)),
                       "extractors": ",".join(sorted(set(results["extractor"].astype(str))) or ["-"])})
        params.update({f"version.{k}": v for k, v in versions().items()})
        mlflow.log_params(params)
        tags = {**git_state(), **{f"machine.{k}": v for k, v in machine().items()},
                "scheduler": str(execution.get("scheduler", "")), "workers": str(execution.get("workers", ""))}
        for name, card in prov["datasets"].items():
            tags[f"dataset.{name}.sha256"] = card["sha256"]
            if card["doi"]:
                tags[f"dataset.{name}.doi"] = card["doi"]
        if notes:
            tags["notes"] = " | ".join(notes)[:4900]
        if gate is not None:
            tags["gate.passed"] = str(gate.passed).lower()
            tags["gate.baseline"] = gate.baseline
        mlflow.set_tags(tags)
        finite = {k: float(v) for k, v in metrics.items() if v is not None and pd.notna(v)}
        if gate is not None:
            finite["gate.regressions"] = float(len(gate.reasons))
        mlflow.log_metrics(finite)
        for path in [*artifacts.values(), suite.path, prov_path, env_path]:
            mlflow.log_artifact(str(path))
        pairs = dict.fromkeys(zip(status["extractor"].astype(str), status["convention"].astype(str)))
        for label, convention in pairs:
            with mlflow.start_run(experiment_id=experiment_id, run_name=f"{label} ({convention})", nested=True):
                mlflow.log_params({"extractor": label, "convention": convention,
                                   "settings_digest": suite.settings.digest(), "suite": suite.name})
                metrics_one = _extractor_metrics(status, results, label, convention)
                mlflow.log_metrics({k: v for k, v in metrics_one.items() if pd.notna(v)})
        return run.info.run_id


# -- baselines and comparisons --------------------------------------------------------------------


@dataclass
class Reference:
    """An earlier run to gate or compare against: its results and, for an MLflow run, its metrics."""

    name: str  # run id or file path, as shown to the user
    results: pd.DataFrame
    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    run_id: str | None = None


def latest_run_id(uri: str, suite: str) -> str:
    """The newest finished parent run of ``suite`` in the store at ``uri``."""
    import mlflow

    _quiet_mlflow()
    mlflow.set_tracking_uri(uri)
    exp = mlflow.get_experiment_by_name(experiment_name(suite))
    runs = pd.DataFrame() if exp is None else mlflow.search_runs(
        [exp.experiment_id], filter_string="attributes.status = 'FINISHED'", order_by=["attributes.start_time DESC"])
    if len(runs) and "tags.mlflow.parentRunId" in runs.columns:
        runs = runs[runs["tags.mlflow.parentRunId"].isna()]
    if not len(runs):
        raise DataUnavailableError(f"no earlier run of suite '{suite}' in {uri}",
                                   "run the suite once without --gate to make a baseline, or pass a run id or results file")
    return str(runs.iloc[0]["run_id"])


def load_reference(ref: str, uri: str, suite: str, runs_dir: Path | None = None) -> Reference:
    """An earlier run: a results file (Parquet/CSV), an MLflow run id, or ``latest`` (of this suite)."""
    from radrepro.results import read_results

    path = Path(ref)
    if path.suffix.lower() in (".parquet", ".csv") or path.is_file():
        return Reference(name=str(path), results=read_results(path))
    import mlflow
    from mlflow.exceptions import MlflowException

    _quiet_mlflow()
    mlflow.set_tracking_uri(uri)
    run_id = latest_run_id(uri, suite) if ref == "latest" else ref
    try:
        run = mlflow.get_run(run_id)
    except MlflowException as exc:
        raise InputError(f"no MLflow run '{ref}' in {uri}", "pass a run id shown by `radrepro run`, 'latest', or a results file") from exc
    with tempfile.TemporaryDirectory() as tmp:
        try:
            local = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="results.parquet", dst_path=tmp)
        except (MlflowException, OSError) as exc:
            raise DataUnavailableError(f"run {run_id} has no results.parquet artifact", "pass a run logged by `radrepro run`") from exc
        results = read_results(local)
    return Reference(name=run_id, results=results, metrics=dict(run.data.metrics), params=dict(run.data.params), run_id=run_id)
