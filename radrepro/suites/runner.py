"""Running a suite: extraction of every (case x extractor), results to Parquet, one MLflow run."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from radrepro.case import Case
from radrepro.errors import RadreproError
from radrepro.results import STATUS_COLUMNS, empty_results, long_rows, write_results
from radrepro.suites.definition import Suite


@dataclass
class RunSummary:
    """What a suite run produced and where it is."""

    suite: str
    n_cases: int
    n_failed: int
    n_features: int
    seconds: float
    results_path: Path
    status_path: Path
    run_id: str
    tracking_uri: str


def suite_cases(suite: Suite) -> list[Case]:
    """All cases of the suite's data sets, ids prefixed by nothing (card ids are unique)."""
    from radrepro.datasets.cards import load_cases

    cases: list[Case] = []
    for entry in suite.datasets:
        cases.extend(load_cases(entry["card"], **entry.get("params", {})))
    return cases


def _extract_one(case: Case, extractor, settings) -> tuple[pd.DataFrame, dict]:
    t0 = time.perf_counter()
    status = {"case": case.id, "perturbation": "none", "extractor": extractor.label,
              "status": "ok", "error": "", "roi_voxels": pd.NA, "seconds": float("nan")}
    try:
        values = extractor.extract(case, settings)
    except RadreproError as exc:
        status.update(status="failed", error=exc.oneline(), seconds=time.perf_counter() - t0)
        return empty_results(), status
    except Exception as exc:  # a bug must not stop the other cases; it is recorded with its type
        status.update(status="failed", error=f"{type(exc).__name__}: {exc}", seconds=time.perf_counter() - t0)
        return empty_results(), status
    seconds = time.perf_counter() - t0
    status["seconds"] = seconds
    rows = long_rows(values, case=case.id, extractor=extractor.label, convention=extractor.convention,
                     settings=settings.digest(), seconds=seconds)
    return rows, status


def run_suite(
    suite: Suite,
    *,
    runs_dir: Path = Path("runs"),
    tracking_uri: str | None = None,
    progress: bool = True,
) -> RunSummary:
    """Run ``suite``: extract every case with every extractor, write results, log one MLflow run.

    A case that fails (bad input, or a bug) is recorded as failed with its reason in the status
    table; the others go on.
    """
    from radrepro.extractors import get_extractor

    t_start = time.perf_counter()
    out = runs_dir / suite.name
    cases = suite_cases(suite)
    extractors = [get_extractor(**e) for e in suite.extractors]
    parts, statuses = [], []
    tasks = [(c, e) for c in cases for e in extractors]
    with _progress(progress, len(tasks), f"suite {suite.name}") as advance:
        for case, extractor in tasks:
            rows, status = _extract_one(case, extractor, suite.settings)
            parts.append(rows)
            statuses.append(status)
            advance()
    results = pd.concat(parts, ignore_index=True) if parts else empty_results()
    status = pd.DataFrame(statuses).astype(STATUS_COLUMNS)
    results_path = write_results(results, out / "results.parquet")
    status_path = out / "status.parquet"
    status.to_parquet(status_path, index=False)
    seconds = time.perf_counter() - t_start
    run_id, uri = _log_run(suite, cases, results, status, results_path, status_path, runs_dir, tracking_uri, seconds)
    return RunSummary(
        suite=suite.name,
        n_cases=len(cases),
        n_failed=int((status["status"] == "failed").sum()),
        n_features=int(results["feature"].nunique()),
        seconds=seconds,
        results_path=results_path,
        status_path=status_path,
        run_id=run_id,
        tracking_uri=uri,
    )


class _progress:
    """A rich progress bar when ``enabled``; a no-op otherwise."""

    def __init__(self, enabled: bool, total: int, description: str) -> None:
        self.enabled, self.total, self.description = enabled, total, description

    def __enter__(self):
        if not self.enabled:
            return lambda: None
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn, TimeRemainingColumn

        self._p = Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                           TimeElapsedColumn(), TimeRemainingColumn(), transient=False)
        self._p.__enter__()
        task = self._p.add_task(self.description, total=self.total)
        return lambda: self._p.advance(task)

    def __exit__(self, *exc):
        if self.enabled:
            self._p.__exit__(*exc)
        return False


def _log_run(suite, cases, results, status, results_path, status_path, runs_dir, tracking_uri, seconds):
    import mlflow

    from radrepro.datasets.cards import get_card
    from radrepro.tracking.provenance import git_state, machine, versions
    from radrepro.tracking.runs import ensure_experiment, resolve_tracking_uri

    uri = resolve_tracking_uri(tracking_uri, runs_dir)
    mlflow.set_tracking_uri(uri)
    experiment_id = ensure_experiment(f"radrepro-{suite.name}", runs_dir)
    ok = status[status["status"] == "ok"]
    with mlflow.start_run(experiment_id=experiment_id, run_name=suite.name) as run:
        mlflow.log_params({f"settings.{k}": json.dumps(v) for k, v in suite.settings.to_dict().items()})
        mlflow.log_params({"settings_digest": suite.settings.digest(), "suite": suite.name})
        mlflow.log_params({f"version.{k}": v for k, v in versions().items()})
        tags = {**git_state(), **{f"machine.{k}": v for k, v in machine().items()}}
        for entry in suite.datasets:
            card = get_card(entry["card"])
            tags[f"dataset.{card.name}.sha256"] = card.checksum
            if card.doi:
                tags[f"dataset.{card.name}.doi"] = card.doi
        mlflow.set_tags(tags)
        mlflow.log_metrics({
            "cases": len(cases),
            "cases_failed": int((status["status"] == "failed").sum()),
            "features": int(results["feature"].nunique()),
            "seconds_total": seconds,
            "seconds_per_case_median": float(ok["seconds"].median()) if len(ok) else float("nan"),
            "seconds_per_case_p95": float(ok["seconds"].quantile(0.95)) if len(ok) else float("nan"),
        })
        mlflow.log_artifact(str(results_path))
        mlflow.log_artifact(str(status_path))
        mlflow.log_artifact(str(suite.path))
        return run.info.run_id, uri
