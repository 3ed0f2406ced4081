"""Running a suite: cases x perturbations x extractors on Dask, resumable, analysed, logged to MLflow.

:func:`run_suite` is the whole of ``radrepro run``:

1. the suite's cases are loaded in the client (a data set that is not available is skipped with a
   note when the suite marks it ``optional``) and every (case x perturbation x extractor) task gets
   its content address (:mod:`radrepro.suites.tasks`);
2. keys that already have a part file (:mod:`radrepro.suites.store`) are skipped; the others run
   on Dask (:mod:`radrepro.suites.cluster`) as futures collected with ``as_completed``, each part
   written by the client the moment it arrives; a task that raises is retried, then recorded as
   failed with its error, and the others go on;
3. the results table is assembled from the parts in the suite's order, then the analyses run on
   it (:mod:`radrepro.suites.analyses`);
4. one MLflow run is logged from the client (:mod:`radrepro.tracking.runs`), and the gate or a
   comparison against an earlier run is evaluated (:mod:`radrepro.suites.gate`).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from radrepro.case import Case
from radrepro.errors import DataUnavailableError
from radrepro.results import RESULT_COLUMNS, STATUS_COLUMNS, empty_results, write_results
from radrepro.suites.definition import Suite, build_extractor
from radrepro.suites.store import PartStore, part_table
from radrepro.suites.tasks import PerturbationSpec, Task, content_digest, execute, task_key

STATUS_TABLE_COLUMNS = {**STATUS_COLUMNS, "convention": "string", "key": "string", "source": "string"}


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
    n_tasks: int = 0
    n_computed: int = 0
    n_cached: int = 0
    extraction_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    artifacts: dict[str, Path] = field(default_factory=dict)
    gate: Any = None  # radrepro.suites.gate.GateReport when a baseline was given
    comparison: Any = None  # per-feature comparison table when compare_to was given
    out_dir: Path | None = None


@dataclass
class SuiteCases:
    cases: list[Case]
    cards: list[str]  # cards whose cases are in the run
    notes: list[str]
    perturb: list[bool] = field(default_factory=list)  # per case: run its perturbations (or only "none")


def suite_cases(suite: Suite) -> list[Case]:
    """All cases of the suite's available data sets (card case ids are unique)."""
    return load_suite_cases(suite).cases


def load_suite_cases(suite: Suite) -> SuiteCases:
    """Cases of every data set; an ``optional`` data set that is not available becomes a note."""
    from radrepro.datasets.cards import load_cases

    cases: list[Case] = []
    cards, notes, perturb = [], [], []
    for entry in suite.datasets:
        try:
            loaded = load_cases(entry["card"], **entry.get("params", {}))
        except DataUnavailableError as exc:
            if not entry.get("optional"):
                raise
            notes.append(f"data set {entry['card']} skipped: {exc.oneline()}")
            continue
        cases.extend(loaded)
        perturb.extend([entry.get("perturb", True)] * len(loaded))
        cards.append(entry["card"])
    ids = [c.id for c in cases]
    if len(set(ids)) != len(ids):
        dup = sorted({i for i in ids if ids.count(i) > 1})[:5]
        from radrepro.errors import InputError

        raise InputError(f"suite {suite.name}: case ids occur more than once: {', '.join(dup)}", "give each data set entry distinct cases")
    return SuiteCases(cases, cards, notes, perturb)


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


def _digests(cases: list[Case], cache_path: Path) -> list[tuple[str, str]]:
    """(image, mask) content digests; file digests are remembered by path, size and mtime."""
    cache: dict[str, str] = {}
    if cache_path.is_file():
        try:
            cache = json.loads(cache_path.read_text())
        except (OSError, ValueError):
            cache = {}
    n_before = len(cache)
    out = [(content_digest(c.image, cache), content_digest(c.mask, cache)) for c in cases]
    if len(cache) != n_before:
        tmp = cache_path.with_name(cache_path.name + ".tmp")
        tmp.write_text(json.dumps(cache))
        tmp.replace(cache_path)
    return out


def plan_tasks(suite: Suite, cases: list[Case], perturbations: list[PerturbationSpec], extractors: list, digests,
               perturb: list[bool] | None = None) -> list[Task]:
    """Every (case x perturbation x extractor) task in the suite's order, with its key.

    A case whose ``perturb`` flag is false gets only the unperturbed task (when the suite has one).
    """
    settings = suite.settings.digest()
    tasks = []
    for ci, case in enumerate(cases):
        for pi, pert in enumerate(perturbations):
            if perturb is not None and not perturb[ci] and not pert.is_none:
                continue
            for ei, ex in enumerate(extractors):
                key = task_key(digests[ci][0], digests[ci][1], settings, pert, ex.label, ex.convention, suite.extractors[ei])
                tasks.append(Task(len(tasks), key, ci, pi, ei, case.id))
    return tasks


def _status(task: Task, pert: PerturbationSpec, extractor, outcome: dict, source: str) -> dict:
    return {
        "case": task.case_id, "perturbation": pert.id, "extractor": extractor.label, "convention": extractor.convention,
        "status": outcome["status"], "error": outcome.get("error", ""), "roi_voxels": None,
        "seconds": float(outcome.get("seconds", float("nan"))), "key": task.key, "source": source,
    }


def _rows(task: Task, pert: PerturbationSpec, extractor, settings_digest: str, outcome: dict):
    """The task's long rows as an Arrow table (cheap: the client writes one per finished task)."""
    return part_table(case=task.case_id, perturbation=pert.id, perturbation_params=pert.params,
                      extractor=extractor.label, convention=extractor.convention, settings=settings_digest,
                      features=outcome["features"], values=np.asarray(outcome["values"], dtype=np.float64),
                      seconds=outcome["seconds"])


def _run_tasks(client, suite: Suite, todo: list[Task], cases, perturbations, extractors, store: PartStore,
               progress: bool) -> tuple[dict[str, dict], float]:
    """Submit ``todo``, write each finished part as it arrives; statuses of the tasks that failed."""
    from distributed import as_completed

    failed: dict[str, dict] = {}
    settings_digest = suite.settings.digest()
    t0 = time.perf_counter()
    needed = sorted({t.case for t in todo})
    scattered = dict(zip(needed, client.scatter([cases[i] for i in needed], hash=False)))
    futures = {}
    for t in todo:
        fut = client.submit(execute, scattered[t.case], perturbations[t.perturbation], suite.extractors[t.extractor],
                            suite.settings, suite.execution.numba_threads, key=f"radrepro-extract-{t.key}",
                            retries=suite.execution.retries, pure=False)
        futures[fut] = t
    with _progress(progress, len(todo), f"suite {suite.name}") as advance:
        for fut in as_completed(list(futures)):
            t = futures.pop(fut)
            pert, ex = perturbations[t.perturbation], extractors[t.extractor]
            if fut.status == "finished":
                outcome = fut.result()
            else:  # raised on every attempt, or its worker died
                exc = fut.exception()
                outcome = {"status": "failed", "error": f"{type(exc).__name__}: {exc}"[:500], "seconds": float("nan")}
            status = _status(t, pert, ex, outcome, "computed")
            if outcome["status"] == "ok":
                store.write(t.key, _rows(t, pert, ex, settings_digest, outcome), status)
            else:
                failed[t.key] = status
            fut.release()
            advance()
    del scattered
    return failed, time.perf_counter() - t0


def assemble(tasks: list[Task], store: PartStore, failed: dict[str, dict], computed: set[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The results table (in task order) and the status table, from the part files and the failures."""
    done = store.done()
    parts, statuses = [], []
    for t in tasks:
        if t.key in done:
            rows, status = store.read_table(t.key)
            status["source"] = "computed" if t.key in computed else "cached"
            parts.append(rows)
        elif t.key in failed:
            status = failed[t.key]
        else:  # cannot happen unless a part file was removed while the run went on
            status = {"case": t.case_id, "status": "failed", "error": "result part missing", "key": t.key, "source": "computed"}
        statuses.append(status)
    if parts:
        import pyarrow as pa

        results = pa.concat_tables(parts).to_pandas().astype(RESULT_COLUMNS)
    else:
        results = empty_results()
    status = pd.DataFrame(statuses, columns=list(STATUS_TABLE_COLUMNS))
    status["roi_voxels"] = pd.array([None] * len(status), dtype="Int64")
    return results, status.astype(STATUS_TABLE_COLUMNS)


def run_suite(
    suite: Suite,
    *,
    runs_dir: Path = Path("runs"),
    tracking_uri: str | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    processes: bool = True,
    progress: bool = True,
    fresh: bool = False,
    baseline: str | None = None,
    compare_to: str | None = None,
) -> RunSummary:
    """Run ``suite`` on Dask and log it to MLflow; see the module docstring.

    Parameters
    ----------
    suite
        A loaded suite (:func:`radrepro.suites.load_suite`).
    runs_dir
        Folder of the run outputs (``<runs_dir>/<suite>/``) and of the default MLflow store.
    tracking_uri
        MLflow tracking URI (default ``$MLFLOW_TRACKING_URI``, else ``sqlite:///<runs_dir>/mlflow.db``).
    scheduler
        Address of a running Dask scheduler; ``None`` starts a local cluster.
    workers
        Local cluster size (default: one worker per usable core); with ``scheduler``, the number
        of workers to wait for.
    processes
        Local cluster: worker processes (default) or threads.
    progress
        Show a progress bar.
    fresh
        Recompute every task (remove this suite's finished parts first).
    baseline
        Gate against this baseline (an MLflow run id, ``latest``, or a results file); the
        returned summary's ``gate`` holds the verdict (the CLI turns a regression into exit 1).
    compare_to
        Compare with this earlier run (run id, ``latest`` or results file), without failing.

    Returns
    -------
    RunSummary
    """
    from radrepro.suites import analyses as analyses_mod
    from radrepro.suites.cluster import dask_client, describe_client, warm_jit, warm_workers, worker_threads
    from radrepro.suites.perturbing import expand
    from radrepro.tracking import runs as tracking

    t_start = time.perf_counter()
    out = Path(runs_dir) / suite.name
    out.mkdir(parents=True, exist_ok=True)
    loaded = load_suite_cases(suite)
    cases, notes = loaded.cases, list(loaded.notes)
    perturbations = expand(suite.perturbations)
    extractors = [build_extractor(spec) for spec in suite.extractors]
    digests = _digests(cases, out / "digests.json")
    tasks = plan_tasks(suite, cases, perturbations, extractors, digests, loaded.perturb)
    store = PartStore(out / "parts")
    if fresh:
        store.remove(t.key for t in tasks)
    done = store.done()
    todo = [t for t in tasks if t.key not in done]

    uri = tracking.resolve_tracking_uri(tracking_uri, Path(runs_dir))
    reference = {}
    for role, ref in (("baseline", baseline), ("compare_to", compare_to)):
        if ref:
            reference[role] = tracking.load_reference(ref, uri, suite.name, Path(runs_dir))

    timings: dict[str, float] = {"load_seconds": time.perf_counter() - t_start}
    failed: dict[str, dict] = {}
    execution: dict[str, Any] = {"scheduler": scheduler or "LocalCluster", "workers": 0}
    needs_cluster = bool(todo) or "ibsi" in suite.analyses
    analysis_out = None
    if needs_cluster:
        t0 = time.perf_counter()
        warm = [p for p in perturbations if not p.is_none]
        warm = list({tuple(s.get("kind") for s in p.steps): p for p in warm}.values())  # one chain per kind set
        timings["warm_client_seconds"] = warm_jit(suite.settings, suite.extractors, warm) if todo else 0.0
        with dask_client(scheduler, workers, numba_threads=suite.execution.numba_threads, processes=processes) as client:
            execution.update(describe_client(client))
            execution["worker_threads"] = client.run(worker_threads)
            timings["cluster_start_seconds"] = time.perf_counter() - t0 - timings["warm_client_seconds"]
            if todo:
                t1 = time.perf_counter()
                warm_workers(client, suite.settings, suite.extractors, warm)
                timings["warm_workers_seconds"] = time.perf_counter() - t1
                failed, timings["extraction_seconds"] = _run_tasks(client, suite, todo, cases, perturbations,
                                                                   extractors, store, progress)
            analysis_out = analyses_mod.run_cluster_analyses(client, suite, notes)
    if analysis_out is not None and "ibsi" in analysis_out.tables:
        loaded.cards.extend(analyses_mod.ibsi_cards(suite))
    computed = {t.key for t in todo}
    results, status = assemble(tasks, store, failed, computed)
    results_path = write_results(results, out / "results.parquet")
    status_path = out / "status.parquet"
    status.to_parquet(status_path, index=False)

    t0 = time.perf_counter()
    analysis = analyses_mod.run_analyses(suite, results, cases, out, notes, previous=analysis_out)
    timings["analyses_seconds"] = time.perf_counter() - t0
    metrics = {**run_metrics(results, status, len(cases)), **analysis.metrics, **timings}
    timings["seconds_total"] = metrics["seconds_total"] = time.perf_counter() - t_start

    from radrepro.suites import gate as gate_mod

    gate_report = comparison = None
    if "baseline" in reference:
        gate_report = gate_mod.evaluate(suite, results, metrics, reference["baseline"])
    if "compare_to" in reference:
        comparison = gate_mod.compare(suite, results, metrics, reference["compare_to"])
    cases_path = analyses_mod.write_case_metadata(cases, out / "cases.csv")
    artifacts = {"results": results_path, "status": status_path, "cases": cases_path, **analysis.artifacts}
    if gate_report is not None:
        artifacts["gate"] = gate_report.write(out / "gate.txt")
    if comparison is not None:
        artifacts["comparison"] = comparison.write(out / "comparison.csv")
    logged = tracking.log_suite_run(
        suite=suite, uri=uri, runs_dir=Path(runs_dir), cards=loaded.cards, metrics=metrics, artifacts=artifacts,
        results=results, status=status, execution=execution, notes=notes, gate=gate_report,
        perturbations=perturbations, out=out,
    )
    return RunSummary(
        suite=suite.name,
        n_cases=len(cases),
        n_failed=int((status["status"] == "failed").sum()),
        n_features=int(results["feature"].nunique()),
        seconds=metrics["seconds_total"],
        results_path=results_path,
        status_path=status_path,
        run_id=logged,
        tracking_uri=uri,
        n_tasks=len(tasks),
        n_computed=len(todo),
        n_cached=len(tasks) - len(todo),
        extraction_seconds=timings.get("extraction_seconds", 0.0),
        notes=notes,
        metrics=metrics,
        artifacts=artifacts,
        gate=gate_report,
        comparison=comparison,
        out_dir=out,
    )


def run_metrics(results: pd.DataFrame, status: pd.DataFrame, n_cases: int) -> dict[str, float]:
    """Counts and speed of the extraction tasks (seconds are each task's own, cached or not)."""
    ok = status[status["status"] == "ok"]
    sec = ok["seconds"].astype(float)
    rows_ok = len(results)
    return {
        "cases": n_cases,
        "tasks": len(status),
        "tasks_failed": int((status["status"] == "failed").sum()),
        "cases_failed": int(status.loc[status["status"] == "failed", "case"].nunique()),
        "tasks_computed": int((status["source"] == "computed").sum()),
        "tasks_cached": int((status["source"] == "cached").sum()),
        "features": int(results["feature"].nunique()),
        "values": rows_ok,
        "seconds_per_case_median": float(sec.median()) if len(sec) else float("nan"),
        "seconds_per_case_p95": float(sec.quantile(0.95)) if len(sec) else float("nan"),
        "features_per_second": float(rows_ok / sec.sum()) if len(sec) and sec.sum() > 0 else float("nan"),
    }
