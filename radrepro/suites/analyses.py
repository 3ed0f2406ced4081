"""The suite's analyses: IBSI compliance, stability, harmonisation, models, radiogenomics.

Each analysis reads the long results table (IBSI compliance reads the phantoms with IBSI's own
settings instead) and returns tables, written next to the results, and metrics, logged to MLflow.
An analysis whose module or data is not available is skipped with a note when the suite marks it
``optional``; otherwise its error stops the run with a one-line message.
"""

from __future__ import annotations

import importlib
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from radrepro.errors import DataUnavailableError, RadreproError, SettingsError
from radrepro.suites.definition import Suite


@dataclass
class AnalysisOutput:
    metrics: dict[str, float] = field(default_factory=dict)
    artifacts: dict[str, Path] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)


def _metric_name(*parts: Any) -> str:
    """An MLflow-safe metric name (letters, digits, _ - . / and spaces)."""
    import re

    return re.sub(r"[^A-Za-z0-9_\-./ ]", "_", ".".join(str(p) for p in parts if p != ""))


def _skip_or_raise(suite: Suite, name: str, exc: RadreproError, notes: list[str]) -> None:
    if suite.analyses[name].get("optional"):
        notes.append(f"analysis {name} skipped: {exc.oneline()}")
        return
    raise exc


# -- IBSI compliance (on the cluster: one task per IBSI data set) ----------------------------------


def _ibsi_one(phase: int, data_dir, dataset: str):
    from radrepro.ibsi import phase_module

    return phase_module(phase).run(data_dir, dataset)


def run_cluster_analyses(client, suite: Suite, notes: list[str]) -> AnalysisOutput:
    """Analyses that run as Dask tasks: the IBSI compliance check, one task per data set."""
    out = AnalysisOutput()
    opts = suite.analyses.get("ibsi")
    if opts is None:
        return out
    from radrepro.ibsi import phase_module
    from radrepro.ibsi.data import ibsi_data_dir, require_files

    phase = int(opts.get("phase", 1))
    data = opts.get("data")
    if data:
        data = Path(data).expanduser()
        if not data.is_absolute():
            data = (suite.path.parent / data).resolve()
    try:
        module = phase_module(phase)
        chosen = opts.get("datasets", "all")
        chosen = list(module.DATASETS) if chosen == "all" else [module.select(ds)[0] for ds in chosen]
        root = ibsi_data_dir(data)
        if hasattr(module, "IMAGES") and hasattr(module, "REFERENCE"):
            require_files(root, [module.REFERENCE] + sorted({p for ds in chosen for p in module.IMAGES[ds]}),
                          explicit=data is not None)
        futures = [client.submit(_ibsi_one, phase, root, ds, pure=False) for ds in chosen]
        results = [fut.result() for fut in futures]
    except (DataUnavailableError, SettingsError) as exc:
        _skip_or_raise(suite, "ibsi", exc, notes)
        return out
    parts, seconds, warns = [], {}, []
    for res in results:
        parts.append(res.table)
        seconds.update(res.seconds)
        warns.extend(res.warnings)
    from radrepro.ibsi.result import ComplianceResult

    result = ComplianceResult(table=pd.concat(parts, ignore_index=True), seconds=seconds, warnings=warns)
    out.tables["ibsi"] = result.table
    counts = result.counts(["dataset"])
    for ds, row in counts.iterrows():
        for col in counts.columns:
            out.metrics[_metric_name("ibsi", ds, str(col).replace(" ", "_"))] = float(row[col])
    total = counts.sum()
    for col in counts.columns:
        out.metrics[_metric_name("ibsi", str(col).replace(" ", "_"))] = float(total[col])
    out.metrics["ibsi.passed"] = float(result.passed)
    for ds, s in seconds.items():
        out.metrics[_metric_name("ibsi", ds, "seconds")] = float(s)
    notes.extend(f"ibsi: {w}" for w in warns)
    return out


def ibsi_cards(suite: Suite) -> list[str]:
    """The dataset card of the IBSI phase the suite checks (for provenance), if there is one."""
    from radrepro.datasets.cards import all_cards

    name = {1: "ibsi-1-phantoms", 2: "ibsi-2-phantoms"}.get(int(suite.analyses["ibsi"].get("phase", 1)))
    return [name] if name in all_cards() else []


# -- analyses in the client -----------------------------------------------------------------------


def _stability_tables(suite: Suite, results: pd.DataFrame):
    """Stability table, family summary and metrics of ``results`` (per extractor); raises when it cannot run."""
    opts = suite.analyses.get("stability", {})
    try:
        mod = importlib.import_module("radrepro.stability")
    except ImportError:
        raise SettingsError("radrepro.stability is not available", "update radrepro") from None
    chosen = opts.get("perturbations")
    data = results if chosen is None else results[results["perturbation"].isin(["none", *chosen])]
    if data["perturbation"].nunique() < 2:
        raise SettingsError("stability needs at least two perturbations of each case", "declare [perturbations] chains in the suite")
    tables, summaries, metrics = [], [], {}
    several = data[["extractor", "convention"]].drop_duplicates().shape[0] > 1
    for (extractor, convention), part in data.groupby(["extractor", "convention"], sort=False, observed=True):
        table = mod.stability_table(part)
        table = table.reset_index() if "feature" not in table.columns else table
        summary = mod.family_summary(table)
        summary = summary.reset_index() if "family" not in summary.columns else summary
        prefix = ("stability", str(extractor).split("@")[0], convention) if several else ("stability",)
        for metric, value in _summary_metrics(table, summary).items():
            metrics[_metric_name(*prefix, metric)] = value
        table.insert(0, "convention", convention)
        table.insert(0, "extractor", extractor)
        summary.insert(0, "convention", convention)
        summary.insert(0, "extractor", extractor)
        tables.append(table)
        summaries.append(summary)
    return pd.concat(tables, ignore_index=True), pd.concat(summaries, ignore_index=True), metrics


def stability_metrics(suite: Suite, results: pd.DataFrame) -> dict[str, float]:
    """The stability metrics a run of ``suite`` with ``results`` logs (the gate recomputes a baseline's)."""
    return _stability_tables(suite, results)[2]


def _stability(suite: Suite, results: pd.DataFrame, out_dir: Path, out: AnalysisOutput, notes: list[str]) -> None:
    try:
        stab, summ, metrics = _stability_tables(suite, results)
    except RadreproError as exc:
        _skip_or_raise(suite, "stability", exc, notes)
        return
    out.metrics.update(metrics)
    out.tables["stability"], out.tables["stability_summary"] = stab, summ
    out.artifacts["stability"] = _write_csv(stab, out_dir / "stability.csv")
    out.artifacts["stability_summary"] = _write_csv(summ, out_dir / "stability_summary.csv")


def _summary_metrics(table: pd.DataFrame, summary: pd.DataFrame) -> dict[str, float]:
    """Stability metrics: fractions of excellent/good features (Koo & Li) and median ICC, overall and per family."""
    s = summary.set_index("family") if "family" in summary.columns else summary
    metrics: dict[str, float] = {}
    for family, row in s.iterrows():
        prefix = "" if family == "all" else f"{family}."
        metrics[f"{prefix}frac_excellent"] = float(row["excellent"])
        metrics[f"{prefix}frac_good"] = float(row["good"])
        metrics[f"{prefix}icc_median"] = float(row["median_icc"])
    for col in ("ccc", "wcv"):
        if col in table.columns:
            metrics[f"{col}_median"] = float(pd.to_numeric(table[col], errors="coerce").median())
    metrics["n_features"] = float(len(table))
    return metrics


def _case_metadata(cases) -> pd.DataFrame:
    rows = [{"case": c.id, **{k: v for k, v in dict(c.metadata).items() if not isinstance(v, (list, dict))}} for c in cases]
    return pd.DataFrame(rows)


def write_case_metadata(cases, path: Path) -> Path:
    """The cases' metadata (site, label, molecular variables, ...; one row per case) as a CSV artifact."""
    return _write_csv(_case_metadata(cases), path)


def _harmonisation(suite: Suite, results: pd.DataFrame, cases, out_dir: Path, out: AnalysisOutput, notes: list[str]) -> None:
    from radrepro.harmonisation import harmonise_results, load_recipe
    from radrepro.results import write_results

    opts = suite.analyses["harmonisation"]
    try:
        recipe = load_recipe(opts.get("recipe", "combat-site"))
    except RadreproError as exc:
        _skip_or_raise(suite, "harmonisation", exc, notes)
        return
    meta = _case_metadata(cases)
    needed = [recipe.batch, *recipe.covariates]
    if any(c not in meta.columns for c in needed):
        _skip_or_raise(suite, "harmonisation", SettingsError(f"no case has the metadata {', '.join(needed)}",
                                                             "harmonise a data set with site labels"), notes)
        return
    meta = meta.dropna(subset=needed)
    chosen = opts.get("perturbations", ["none"])
    data = results[results["case"].isin(meta["case"]) & results["perturbation"].isin(chosen)]
    if data.empty or meta[recipe.batch].nunique() < 2:
        _skip_or_raise(suite, "harmonisation", SettingsError("harmonisation needs cases from at least two batches",
                                                             "include a multi-site data set"), notes)
        return
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        harmonised, diag = harmonise_results(data, meta, recipe, diagnostics=bool(opts.get("diagnostics", True)))
    out.tables["harmonisation"] = diag
    out.artifacts["harmonised"] = write_results(harmonised, out_dir / "harmonised.parquet")
    out.artifacts["harmonisation"] = _write_csv(diag, out_dir / "harmonisation.csv")
    several = diag[["extractor", "convention", "perturbation"]].drop_duplicates().shape[0] > 1
    for _, row in diag.iterrows():
        prefix = ("harmonisation",) if not several else (
            "harmonisation", str(row["extractor"]).split("@")[0], row["convention"], row["perturbation"])
        for side in ("before", "after"):
            if pd.notna(row[side]):
                out.metrics[_metric_name(*prefix, row["metric"], side)] = float(row[side])


def _models(suite: Suite, results: pd.DataFrame, cases, out_dir: Path, out: AnalysisOutput, notes: list[str]) -> None:
    opts = suite.analyses["models"]
    try:
        mod = importlib.import_module("radrepro.models")
        run = getattr(mod, "suite_step")
    except (ImportError, AttributeError):
        _skip_or_raise(suite, "models", SettingsError("radrepro.models has no suite step yet", "remove [analyses.models]"), notes)
        return
    options = dict(opts.get("options", {}))
    meta = _case_metadata(cases)
    needed = [c for c in (options.get("label", "label"), options.get("site", "site")) if c in meta.columns]
    meta = meta.dropna(subset=needed)  # cases without an outcome (phantoms) are not modelled
    table, metrics = run(results[results["case"].isin(meta["case"])], meta, **options)
    out.tables["models"] = table
    out.artifacts["models"] = _write_csv(table, out_dir / "models.csv")
    out.metrics.update({_metric_name("models", k): float(v) for k, v in metrics.items()})


def _radiogenomics(suite: Suite, results: pd.DataFrame, cases, out_dir: Path, out: AnalysisOutput, notes: list[str]) -> None:
    from radrepro.radiogenomics import suite_step

    options = {k: v for k, v in suite.analyses["radiogenomics"].items() if k != "optional"}
    meta = _case_metadata(cases)
    variables = options.pop("variables", None) or [c for c in meta.columns if str(c).startswith("mol_")]
    if not variables:
        _skip_or_raise(suite, "radiogenomics", SettingsError("no case has molecular metadata (mol_* columns)",
                                                             "include a data set with a molecular table"), notes)
        return
    meta = meta.dropna(subset=variables, how="all")  # cases without molecular data (phantoms) are left out
    data = results[results["case"].isin(meta["case"])]
    if "extractor" not in options and data["extractor"].nunique() > 1:
        options["extractor"] = sorted(data["extractor"].unique())[0]
        notes.append(f"radiogenomics on the features of {options['extractor']} (set extractor = ... to choose)")
    stability = out.tables.get("stability")
    if stability is not None and "extractor" in stability.columns:
        stability = stability[stability["extractor"] == (options.get("extractor") or data["extractor"].iloc[0])]
    folder = out_dir / "radiogenomics"
    summary, metrics = suite_step(data, meta, variables=variables, stability=stability, out_dir=folder, **options)
    out.tables["radiogenomics_summary"] = summary
    for path in sorted(folder.iterdir()):
        out.artifacts[path.stem if path.suffix != ".svg" else f"{path.stem}_svg"] = path
    out.metrics.update({_metric_name(k): float(v) for k, v in metrics.items()})


def _write_csv(df: pd.DataFrame, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=False, float_format="%.17g")
    return path


def run_analyses(suite: Suite, results: pd.DataFrame, cases, out_dir: Path, notes: list[str],
                 previous: AnalysisOutput | None = None) -> AnalysisOutput:
    """Run the suite's analyses on ``results``; tables are written to ``out_dir``."""
    out = AnalysisOutput()
    if previous is not None:
        out.metrics.update(previous.metrics)
        out.tables.update(previous.tables)
        if "ibsi" in previous.tables:
            out.artifacts["ibsi"] = _write_csv(previous.tables["ibsi"], out_dir / "ibsi.csv")
    steps = {"stability": lambda: _stability(suite, results, out_dir, out, notes),
             "harmonisation": lambda: _harmonisation(suite, results, cases, out_dir, out, notes),
             "models": lambda: _models(suite, results, cases, out_dir, out, notes),
             "radiogenomics": lambda: _radiogenomics(suite, results, cases, out_dir, out, notes)}
    failed = 0
    for name, step in steps.items():
        if name not in suite.analyses:
            continue
        try:
            step()
        except RadreproError:
            raise
        except Exception as exc:  # noqa: BLE001 - the results are saved; the failure is recorded, not hidden
            failed += 1
            notes.append(f"analysis {name} failed: {type(exc).__name__}: {str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ''}")
    out.metrics["analyses_failed"] = float(failed)
    return out
