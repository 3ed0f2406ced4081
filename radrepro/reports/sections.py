"""The report's sections: each turns what the run holds into display tables and figure data.

A section whose data the run lacks is returned with ``omitted`` set to a one-line reason and no
tables; the report then prints that line instead of the section.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd

from radrepro.reports.run_data import RunData

# Koo & Li (2016) classes, applied to the ICC's lower 95% confidence bound
ICC_CLASSES = (("excellent", 0.9), ("good", 0.75), ("moderate", 0.5), ("poor", -np.inf))
ICC_NAMES = {"icc_a_1": "ICC(A,1)", "icc_2_1": "ICC(2,1)", "icc_c_1": "ICC(C,1)", "icc_3_1": "ICC(3,1)", "icc_1_1": "ICC(1,1)", "icc": "ICC"}


@dataclass
class Section:
    """One part of the report."""

    key: str
    title: str
    text: str = ""
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    captions: dict[str, str] = field(default_factory=dict)
    figures: dict[str, Callable[[], Any]] = field(default_factory=dict)  # name -> () -> matplotlib Figure
    figure_captions: dict[str, str] = field(default_factory=dict)
    omitted: str = ""


def _family(feature: str) -> str:
    from radrepro.registry import FAMILIES

    prefix = str(feature).split("_", 1)[0]
    if prefix in FAMILIES:
        return FAMILIES[prefix][1]
    if str(feature).startswith("original_"):  # pyradiomics names: original_<class>_<Feature>
        parts = str(feature).split("_")
        return parts[1] if len(parts) > 2 else "other"
    return "other"


# ---------------------------------------------------------------------------------------- IBSI
def ibsi_section(run: RunData) -> Section:
    sec = Section("ibsi", "IBSI compliance")
    table = run.tables.get("ibsi_compliance")
    if table is None or "verdict" not in table.columns or not ({"family", "tag"} & set(table.columns)):
        sec.omitted = "IBSI compliance: omitted, the run has no ibsi_compliance table (run the ibsi suite)."
        return sec
    if "family" not in table.columns:  # the CSV of `radrepro ibsi -o`: family = the tag's prefix
        table = table.assign(family=table["tag"].astype(str).str.split("_", n=1).str[0])
    if "kind" in table.columns:
        rows = table[table["kind"] == "standardised"]
    else:
        rows = table[(table["family"] != "diag") & table["verdict"].notna() & (table["verdict"].astype(str) != "not standardised")]
    config = "dataset" if "dataset" in rows.columns else None
    rows = rows.assign(match=(rows["verdict"].astype(str) == "match").astype(int))
    by = ["family"] + ([config] if config else [])
    agg = rows.groupby(by, sort=True)["match"].agg(["sum", "size"])
    agg["cell"] = agg["sum"].astype(int).astype(str) + "/" + agg["size"].astype(str)
    wide = agg["cell"].unstack(config) if config else agg[["cell"]].rename(columns={"cell": "matched"})
    wide = wide.fillna("")
    totals = rows.groupby(config)["match"].agg(["sum", "size"]) if config else None
    if totals is not None:
        wide.loc["all families"] = (totals["sum"].astype(int).astype(str) + "/" + totals["size"].astype(str)).reindex(wide.columns).fillna("")
    from radrepro.registry import FAMILIES

    wide.index = [FAMILIES[f][1] if f in FAMILIES else f for f in wide.index]
    wide.index.name = "family"
    wide.columns.name = None
    n_match, n_total = int(rows["match"].sum()), len(rows)
    sec.text = f"{n_match} of {n_total} standardised reference values match ({100 * n_match / max(n_total, 1):.1f}%), scored with the IBSI tolerance rule."
    sec.tables["ibsi_compliance"] = wide.reset_index()
    sec.captions["ibsi_compliance"] = "IBSI 1 compliance: matched / standardised reference values per feature family and configuration."
    return sec


# ----------------------------------------------------------------------------------- stability
def stability_frame(run: RunData) -> tuple[pd.DataFrame | None, str]:
    """Per-feature stability (``feature``, ``icc``, ``icc_low``, ``icc_high``, ``family``) and its source."""
    table = run.tables.get("stability")
    source = "the run's stability table"
    if table is None:
        results = run.tables.get("results")
        if results is None or results.groupby("case")["perturbation"].nunique().max() < 2:
            return None, ""
        try:
            from radrepro.stability import stability_table  # built by the stability analysis
        except ImportError:
            return None, ""
        table = stability_table(results)
        source = "the run's results (computed by the report)"
    table = table.reset_index() if "feature" not in table.columns else table
    if "extractor" in table.columns and table["extractor"].nunique() > 1:
        first = table["extractor"].iloc[0]
        table = table[table["extractor"] == first]
        source += f", extractor {first}"
    if "feature" not in table.columns:
        table = table.rename(columns={table.columns[0]: "feature"})
    for stem in ("icc_a_1", "icc_2_1", "icc_c_1", "icc_3_1", "icc_1_1", "icc"):
        if {stem, f"{stem}_low"} <= set(table.columns):
            out = pd.DataFrame({"feature": table["feature"].astype(str), "icc": table[stem].astype(float),
                                "icc_low": table[f"{stem}_low"].astype(float),
                                "icc_high": table[f"{stem}_high"].astype(float) if f"{stem}_high" in table else np.nan})
            out["family"] = out["feature"].map(_family)
            out.attrs["icc_kind"] = stem
            return out, source
    return None, ""


def icc_class(low: float) -> str:
    if not np.isfinite(low):
        return "undefined"
    for name, bound in ICC_CLASSES:
        if low > bound:
            return name
    return "poor"


def stability_section(run: RunData) -> Section:
    sec = Section("stability", "Feature stability")
    frame, source = stability_frame(run)
    if frame is None:
        sec.omitted = "Stability: omitted, the run has no stability table and no repeated measurements to compute one from."
        return sec
    frame["class"] = frame["icc_low"].map(icc_class)
    counts = frame.groupby(["family", "class"]).size().unstack("class", fill_value=0)
    counts = counts.reindex(columns=[c for c, _ in ICC_CLASSES] + ["undefined"], fill_value=0)
    summary = pd.DataFrame({"features": counts.sum(axis=1), "median ICC": frame.groupby("family")["icc"].median()})
    for c in counts.columns:
        if c != "undefined" or counts[c].any():
            summary[f"{c} (%)"] = 100.0 * counts[c] / summary["features"]
    summary = summary.reset_index()
    kind = frame.attrs.get("icc_kind", "icc")
    sec.text = (f"{ICC_NAMES.get(kind, kind)} per feature from {source}; classes by the lower 95% bound "
                "(Koo & Li 2016): excellent > 0.9, good > 0.75, moderate > 0.5, poor otherwise.")
    sec.tables["stability_by_family"] = summary
    sec.captions["stability_by_family"] = "Feature stability per family: number of features, median ICC and the share of features in each ICC class (by the lower 95% bound)."
    from radrepro.reports import figures

    sec.figures["icc_by_family"] = lambda: figures.icc_by_family(frame, ICC_NAMES.get(kind, "ICC"))
    sec.figure_captions["icc_by_family"] = "ICC per feature, by family; lines at the class bounds 0.5, 0.75 and 0.9."
    return sec


# ------------------------------------------------------------------------------- harmonisation
def _harmonised(run: RunData) -> tuple[pd.DataFrame | None, pd.DataFrame | None, str]:
    """Harmonised results and diagnostics from the run, or computed with the combat-site recipe."""
    diag = run.tables.get("harmonisation_diagnostics")
    harm = run.tables.get("harmonised")
    cases, results = run.tables.get("cases"), run.tables.get("results")
    if harm is not None or cases is None or results is None or "site" not in cases.columns:
        return harm, diag, "the run's harmonisation tables"
    from radrepro.harmonisation import HarmonisationWarning, harmonise_results

    meta = cases.set_index("case") if "case" in cases.columns else cases
    res = results[results["case"].astype(str).isin(meta.index.astype(str)) & (results["perturbation"] == "none")]
    if res.empty or meta["site"].nunique() < 2:
        return None, diag, ""
    recipe = {"name": "combat-site (report)", "batch": "site"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HarmonisationWarning)
        try:
            harm, computed = harmonise_results(res, meta.reset_index(), recipe, diagnostics=diag is None)
        except Exception:  # data ComBat cannot use: the section says so
            return None, diag, ""
    return harm, diag if diag is not None else computed, "ComBat on all cases (site as batch, no covariates), computed by the report"


def harmonisation_section(run: RunData) -> Section:
    sec = Section("harmonisation", "Harmonisation (ComBat)")
    harm, diag, source = _harmonised(run)
    if diag is None and harm is None:
        sec.omitted = "Harmonisation: omitted, the run has no harmonisation tables and no case sites to harmonise by."
        return sec
    sec.text = f"Source: {source}. Before/after: % of features differing between sites (Kruskal-Wallis p < 0.05), a site classifier's balanced accuracy (chance = 1/sites)."
    if diag is not None:
        table = diag.copy()
        group_cols = [c for c in ("recipe", "perturbation", "extractor") if c in table.columns and table[c].nunique() > 1]
        keep = group_cols + [c for c in ("metric", "before", "after") if c in table.columns]
        sec.tables["harmonisation_diagnostics"] = table[keep]
        sec.captions["harmonisation_diagnostics"] = "Harmonisation diagnostics before and after ComBat."
    cases, results = run.tables.get("cases"), run.tables.get("results")
    if harm is not None and cases is not None and results is not None and "site" in cases.columns:
        from radrepro.reports import figures

        meta = cases.set_index("case") if "case" in cases.columns else cases
        sec.figures["combat_by_site"] = lambda: figures.combat_by_site(results, harm, meta["site"])
        several = "extractor" in harm.columns and harm["extractor"].nunique() > 1
        which = f" ({harm['extractor'].iloc[0]})" if several else ""
        sec.figure_captions["combat_by_site"] = f"Feature values{which} by site before and after ComBat, for the three features with the strongest site effect (Kruskal-Wallis)."
    return sec


# -------------------------------------------------------------------------------------- models
def _models(run: RunData) -> tuple[pd.DataFrame | None, str]:
    table = run.tables.get("models")
    if table is not None:
        return table, "the run's model table"
    cases, results = run.tables.get("cases"), run.tables.get("results")
    if cases is None or results is None or "label" not in cases.columns or "site" not in cases.columns:
        return None, ""
    from radrepro.models import compare_models

    raw = run.tables.get("stability")
    if raw is not None and {"extractor", "feature", "icc_a_1_low"} <= set(raw.columns):  # one table per extractor
        stable = {e: g.set_index("feature")["icc_a_1_low"] for e, g in raw.groupby("extractor")}
    else:
        stab, _ = stability_frame(run)
        stable = None if stab is None else stab.set_index("feature")["icc_low"]
    meta = cases.set_index("case") if "case" in cases.columns else cases
    res = results[results["case"].astype(str).isin(meta.index.astype(str))]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            table = compare_models(res, meta, stability=stable, n_repeats=5, n_boot=2000)
    except Exception as exc:  # too few cases with a label, one class only, ...: the section says so
        return None, f"models could not be fitted ({type(exc).__name__}: {exc})"
    return table, "computed by the report from the run's results and case labels"


def model_section(run: RunData) -> Section:
    sec = Section("models", "Model performance")
    table, source = _models(run)
    if table is None or table.empty:
        sec.omitted = f"Model performance: omitted, {source or 'the run has no model table and no case labels and sites to fit models on'}."
        return sec
    t = table.copy()
    show = pd.DataFrame({c: t[c] for c in ("extractor", "perturbation", "features", "harmonisation", "validation", "classifier") if c in t.columns and (t[c].nunique() > 1 or c in ("harmonisation", "validation"))})
    show["AUC [95% CI]"] = [f"{a:.3f} [{lo:.3f}, {hi:.3f}]" for a, lo, hi in zip(t["auc"], t["auc_low"], t["auc_high"])]
    for col, name, fmt in (("optimism", "optimism", "{:+.3f}"), ("balanced_accuracy", "balanced accuracy", "{:.3f}"), ("brier", "Brier", "{:.3f}"),
                           ("calibration_slope", "cal. slope", "{:.2f}"), ("calibration_intercept", "cal. intercept", "{:+.2f}")):
        if col in t.columns:
            show[name] = [fmt.format(v) if pd.notna(v) else "" for v in t[col]]
    ci = t["ci_method"].iloc[0] if "ci_method" in t.columns else "bootstrap"
    folds = ""
    if {"validation", "folds", "repeats"} <= set(t.columns):
        cv = t[t["validation"] == "repeated CV"]
        if len(cv):
            folds = f" Repeated CV: {int(cv['folds'].iloc[0])}-fold x {int(cv['repeats'].iloc[0])} repeats, fixed seeds."
    sec.text = (f"Source: {source}. AUC: mean over repeats of the out-of-fold AUC; 95% CI: {ci}.{folds} "
                "Optimism: AUC of ComBat fitted on all data (with the outcome as covariate) minus in-fold ComBat: what the leak adds.")
    sec.tables["model_performance"] = show
    sec.captions["model_performance"] = "Model performance: AUC with 95% CI, optimism of the leaky harmonisation, balanced accuracy, Brier score and calibration."
    from radrepro.reports import figures

    sec.figures["auc_comparison"] = lambda: figures.auc_comparison(t)
    first = f" Classifier: {t['classifier'].iloc[0]} (the table has them all)." if "classifier" in t.columns and t["classifier"].nunique() > 1 else ""
    sec.figure_captions["auc_comparison"] = ("AUC with 95% confidence intervals per model variant, without ComBat (grey), with ComBat fitted in each "
                                             f"training fold (blue) and with ComBat fitted on all data (red, leaky); dashed line: chance.{first}")
    return sec


# ------------------------------------------------------------------------------- radiogenomics
def radiogenomics_section(run: RunData) -> Section:
    sec = Section("radiogenomics", "Radiogenomics")
    summary = run.tables.get("radiogenomics_summary")
    if summary is None or summary.empty:
        sec.omitted = "Radiogenomics: omitted, the run has no radiogenomics analysis (no molecular variables in its cases)."
        return sec
    stages = [c.removeprefix("significant_") for c in summary.columns if c.startswith("significant_")]
    show = summary[["variable", "kind"]].copy()
    for stage in stages:
        show[stage.replace("_", " ")] = [f"{s}/{t}" for s, t in zip(summary[f"significant_{stage}"], summary[f"tested_{stage}"])]
    show["verdict"] = summary["verdict"]
    sec.tables["radiogenomics_summary"] = show
    sec.captions["radiogenomics_summary"] = ("Significant feature associations (Benjamini-Hochberg q < 0.05) out of those tested, per molecular "
                                             "variable and stage: all features, stable features, after in-fold ComBat, with site as covariate.")
    sec.text = ("Each molecular variable is tested against every feature (Spearman, Mann-Whitney or Kruskal-Wallis by variable type), "
                "then again on stable features only, after ComBat harmonisation fitted without the tested case (cross-fitting) and with "
                "site as a covariate. Linked: associations survive site; site-confounded: they vanish once site is accounted for.")
    survival = run.tables.get("radiogenomics_survival")
    if survival is not None and "verdict" in survival.columns:
        robust = survival[survival["verdict"] == "robust"]
        if len(robust):
            qcols = [c for c in robust.columns if c.startswith("q_")]
            top = robust.sort_values(qcols[0]).groupby("variable", sort=False).head(10)
            sec.tables["radiogenomics_surviving"] = top[["variable", "feature", *qcols]].round(6)
            sec.captions["radiogenomics_surviving"] = "Associations that survive every stage (up to 10 per variable, by q value)."
    prediction = run.tables.get("radiogenomics_prediction")
    if prediction is not None and len(prediction) and "auc" in prediction.columns:
        p = prediction.dropna(subset=["auc"])
        if len(p):
            table = p[["variable", "features", "harmonisation"]].copy()
            table["AUC [95% CI]"] = [f"{a:.3f} [{lo:.3f}, {hi:.3f}]" for a, lo, hi in zip(p["auc"], p["auc_low"], p["auc_high"])]
            sec.tables["radiogenomics_prediction"] = table
            sec.captions["radiogenomics_prediction"] = "Cross-validated prediction of binary molecular variables (repeated stratified 5-fold CV)."
    associations = run.tables.get("radiogenomics_associations")
    if associations is not None and len(associations):
        from radrepro.radiogenomics.figures import volcano_figure

        sec.figures["radiogenomics_volcano"] = lambda: volcano_figure(associations)
        sec.figure_captions["radiogenomics_volcano"] = ("Effect (correlation scale) against -log10 p per stage; filled points: q < 0.05; "
                                                        "colour: molecular variable.")
    return sec


# --------------------------------------------------------------------------------------- speed
def speed_frame(run: RunData) -> pd.DataFrame | None:
    """One row per ok extraction task: extractor, case, seconds, roi (size) and its unit."""
    status = run.tables.get("status")
    if status is None or "seconds" not in status.columns:
        return None
    ok = status[status["status"].astype(str) == "ok"] if "status" in status.columns else status
    ok = ok[np.isfinite(ok["seconds"].astype(float))].copy()
    ok["seconds"] = ok["seconds"].astype(float)
    ok["roi"], ok.attrs["roi_unit"] = np.nan, "ROI voxels"
    if "roi_voxels" in ok.columns and ok["roi_voxels"].notna().any():
        ok["roi"] = pd.to_numeric(ok["roi_voxels"], errors="coerce").astype(float)
    else:
        results = run.tables.get("results")
        if results is not None:
            for feat, unit in (("morph_vol_approx", "ROI volume (mm$^3$)"), ("morph_volume", "ROI volume (mm$^3$)")):
                vol = results[(results["feature"] == feat) & (results["perturbation"] == "none")]
                if len(vol):
                    sizes = vol.groupby("case")["value"].first()
                    ok["roi"] = ok["case"].map(sizes).astype(float)
                    ok.attrs["roi_unit"] = unit
                    break
    return ok


def speed_section(run: RunData) -> Section:
    sec = Section("speed", "Speed")
    ok = speed_frame(run)
    status = run.tables.get("status")
    if ok is None or ok.empty:
        sec.omitted = "Speed: omitted, the run has no status table with timings."
        return sec
    by = "extractor" if "extractor" in ok.columns else None
    g = ok.groupby(by) if by else ok.groupby(lambda _: "all")
    table = pd.DataFrame({
        "tasks": g.size(),
        "median s/case": g["seconds"].median(),
        "p95 s/case": g["seconds"].quantile(0.95),
        "total s": g["seconds"].sum(),
    })
    if status is not None and "status" in status.columns:
        failed = status[status["status"].astype(str) == "failed"]
        table["failed"] = (failed.groupby("extractor").size() if by else pd.Series({"all": len(failed)})).reindex(table.index).fillna(0).astype(int)
    table.index.name = "extractor"
    sec.tables["speed"] = table.reset_index()
    sec.captions["speed"] = "Extraction time per task (one case under one perturbation; wall clock, seconds) per extractor."
    sec.text = "Wall time of each extraction task (one case, one extractor), from the run's status table."
    if ok["roi"].notna().any():
        from radrepro.reports import figures

        sec.figures["speed_vs_roi"] = lambda: figures.speed_vs_roi(ok)
        sec.figure_captions["speed_vs_roi"] = f"Seconds per extraction task against ROI size ({ok.attrs['roi_unit'].replace('$^3$', '³')})."
    return sec


SECTIONS = (ibsi_section, stability_section, harmonisation_section, model_section, radiogenomics_section, speed_section)
