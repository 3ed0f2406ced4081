"""The radiogenomics analysis: which feature–molecular associations survive stability and site?

Stages, each tested separately and FDR-corrected (Benjamini–Hochberg) over all its pairs:

``all``
    every feature, marginal tests;
``stable``
    only features whose ICC lower 95% bound exceeds a threshold (needs a stability table or a
    list of stable features);
``harmonised``
    features ComBat-harmonised across sites *in folds* (cross-fitting: each case is harmonised
    by a ComBat fitted on the other folds, so no case's own values shape its correction), then
    marginal tests;
``site_adjusted``
    tests that include site as a covariate (partial Spearman, logistic regression).

A variable is **linked** when at least one association is significant in ``all`` and in every
site-aware stage; **site-confounded** when associations are significant in ``all`` but none
survive once site is accounted for; **not associated** when nothing is significant in ``all``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from statsmodels.stats.multitest import multipletests

from radrepro.errors import InputError
from radrepro.radiogenomics.associations import associate, variable_kind

STAGES = ("all", "stable", "harmonised", "site_adjusted")
SITE_STAGES = ("harmonised", "site_adjusted")


@dataclass
class RadiogenomicsResult:
    """Tables of one radiogenomics analysis.

    Attributes
    ----------
    associations
        Long table: one row per (stage, feature, variable) with test, effect, CI, p, q, significant.
    survival
        One row per (feature, variable): q value in each stage and the association's verdict.
    summary
        One row per molecular variable: kind, significant associations per stage, verdict.
    prediction
        Cross-validated prediction of each binary molecular variable (empty when not run).
    problems
        One line per input problem found and worked around (unmatched case ids, constant variables ...).
    """

    associations: pd.DataFrame
    survival: pd.DataFrame
    summary: pd.DataFrame
    prediction: pd.DataFrame = field(default_factory=pd.DataFrame)
    problems: list[str] = field(default_factory=list)
    fdr: float = 0.05

    def write(self, out_dir: str | Path) -> dict[str, Path]:
        """Write tables (CSV), the surviving associations (Markdown) and the volcano figure (PNG, SVG)."""
        from radrepro.radiogenomics.figures import volcano

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths = {}
        for name in ("associations", "survival", "summary", "prediction"):
            table = getattr(self, name)
            if len(table):
                paths[name] = out / f"radiogenomics_{name}.csv"
                table.to_csv(paths[name], index=False)
        surviving = self.survival[self.survival["verdict"] == "robust"]
        paths["surviving"] = out / "radiogenomics_surviving.md"
        paths["surviving"].write_text(
            surviving.to_markdown(index=False, floatfmt=".3g") if len(surviving) else "No association survives.\n")
        if self.problems:
            paths["problems"] = out / "radiogenomics_problems.txt"
            paths["problems"].write_text("\n".join(self.problems) + "\n")
        paths.update(volcano(self.associations, out / "radiogenomics_volcano", fdr=self.fdr))
        return paths


def _match_cases(features: pd.DataFrame, molecular: pd.DataFrame, problems: list[str]) -> pd.Index:
    common = features.index.intersection(molecular.index)
    if len(common) == 0:
        raise InputError(
            f"no case id is both in the results ({', '.join(map(str, features.index[:3]))} ...) and in the molecular table "
            f"({', '.join(map(str, molecular.index[:3]))} ...)",
            "key the molecular table by the case ids of the results (a 'case' column)",
        )
    for label, idx in (("results", features.index), ("molecular table", molecular.index)):
        lacking = idx.difference(common)
        if len(lacking):
            problems.append(f"{len(lacking)} case(s) only in the {label} were left out: "
                            f"{', '.join(map(str, lacking[:5]))}{' ...' if len(lacking) > 5 else ''}")
    return common


def _with_fdr(table: pd.DataFrame, fdr: float) -> pd.DataFrame:
    table = table.copy()
    table["q"] = np.nan
    tested = table["p"].notna()
    if tested.any():
        table.loc[tested, "q"] = multipletests(table.loc[tested, "p"].to_numpy(), method="fdr_bh")[1]
    table["significant"] = table["q"] < fdr
    return table


def cross_fitted_combat(features: pd.DataFrame, site: pd.Series, *, folds: int = 5, seed: int = 0) -> pd.DataFrame:
    """Harmonise every case with a ComBat fitted on the other folds (stratified by site)."""
    from sklearn.model_selection import StratifiedKFold

    from radrepro.harmonisation import ComBat

    site = site.reindex(features.index)
    n_splits = int(min(folds, site.value_counts().min()))
    if n_splits < 2:
        raise InputError("a site has a single case, so in-fold ComBat cannot keep every site in training",
                         "drop that site or merge it with a similar one")
    out = pd.DataFrame(np.nan, index=features.index, columns=features.columns)
    splitter = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # constant-within-batch features pass through; reported by ComBat's own tests
        for train, test in splitter.split(features, site):
            model = ComBat().fit(features.iloc[train], site.iloc[train])
            out.iloc[test] = np.asarray(model.transform(features.iloc[test], site.iloc[test]))
    return out


def _verdicts(assoc: pd.DataFrame, stages: list[str]) -> pd.DataFrame:
    q = assoc.pivot_table(index=["feature", "variable"], columns="stage", values="q", aggfunc="first", dropna=False)
    sig = assoc.pivot_table(index=["feature", "variable"], columns="stage", values="significant", aggfunc="first",
                            dropna=False).reindex(columns=stages).astype("boolean").fillna(False).astype(bool)
    site_stages = [s for s in SITE_STAGES if s in stages]
    survives_site = sig[site_stages].all(axis=1) if site_stages else sig["all"]
    verdict = np.select(
        [sig["all"] & survives_site, sig["all"] & ~survives_site, ~sig["all"] & survives_site & bool(site_stages)],
        ["robust", "site-confounded", "revealed by site adjustment"],
        "not significant",
    )
    table = q.reindex(columns=stages).add_prefix("q_")
    table["verdict"] = verdict
    if "stable" in stages:
        stable_tested = assoc[assoc["stage"] == "stable"].set_index(["feature", "variable"]).index
        table["stable_feature"] = table.index.isin(stable_tested)
        table.loc[table["verdict"].eq("robust") & ~table["stable_feature"], "verdict"] = "unstable feature"
    return table.reset_index()


def _summary(assoc: pd.DataFrame, survival: pd.DataFrame, kinds: dict[str, str], stages: list[str]) -> pd.DataFrame:
    rows = []
    for variable, kind in kinds.items():
        row: dict = {"variable": variable, "kind": kind}
        for stage in stages:
            part = assoc[(assoc["stage"] == stage) & (assoc["variable"] == variable)]
            row[f"tested_{stage}"] = int(part["p"].notna().sum())
            row[f"significant_{stage}"] = int(part["significant"].sum())
        v = survival[survival["variable"] == variable]["verdict"]
        if kind == "constant":
            row["verdict"] = "not tested (constant)"
        elif (v == "robust").any():
            row["verdict"] = "linked"
        elif (v == "site-confounded").any():
            row["verdict"] = "site-confounded"
        elif (v == "revealed by site adjustment").any():
            row["verdict"] = "linked after site adjustment"
        else:
            row["verdict"] = "not associated"
        rows.append(row)
    return pd.DataFrame(rows)


def radiogenomics(
    features: pd.DataFrame,
    molecular: pd.DataFrame,
    *,
    site: pd.Series | None = None,
    stable_features: "list[str] | pd.Index | None" = None,
    fdr: float = 0.05,
    folds: int = 5,
    seed: int = 0,
    predict: bool = True,
) -> RadiogenomicsResult:
    """Run the radiogenomics analysis.

    Parameters
    ----------
    features
        Cases x features (index: case id), e.g. :func:`features_from_results` of a results table.
    molecular
        Cases x molecular variables (index: case id). Binary variables are tested with
        Mann–Whitney, continuous ones with Spearman, categorical ones with Kruskal–Wallis.
    site
        Site or scanner per case (index: case id); enables the ``harmonised`` and ``site_adjusted`` stages.
    stable_features
        Features that passed the stability filter; enables the ``stable`` stage.
    fdr
        False discovery rate for significance (Benjamini–Hochberg within each stage).
    folds, seed
        Cross-fitting folds for in-fold ComBat and the prediction's cross-validation, and their seed.
    predict
        Also predict each binary molecular variable from the features (radrepro.models).

    Returns
    -------
    RadiogenomicsResult
    """
    if not 0 < fdr < 1:
        raise InputError(f"fdr must be between 0 and 1, got {fdr}", "use e.g. 0.05")
    problems: list[str] = []
    cases = _match_cases(features, molecular, problems)
    if site is not None:
        site = site.reindex(cases)
        no_site = site.index[site.isna()]
        if len(no_site) == len(cases):
            raise InputError("no case has a site", "give each case its site (or scanner), or leave the site out")
        if len(no_site):
            problems.append(f"{len(no_site)} case(s) without a site were left out: {', '.join(map(str, no_site[:5]))}"
                            f"{' ...' if len(no_site) > 5 else ''}")
            cases = cases.difference(no_site, sort=False)
        site = site.loc[cases].astype(str)
    F = features.loc[cases]
    M = molecular.loc[cases]
    constant = [c for c in F.columns if F[c].nunique(dropna=True) < 2]
    if constant:
        problems.append(f"{len(constant)} feature(s) constant over the cases were left out: {', '.join(constant[:5])}"
                        f"{' ...' if len(constant) > 5 else ''}")
        F = F.drop(columns=constant)
    kinds = {v: variable_kind(M[v]) for v in M.columns}
    for v, k in kinds.items():
        if k == "constant":
            problems.append(f"molecular variable '{v}' has fewer than two distinct values and was not tested")
        n_missing = int(M[v].isna().sum())
        if n_missing:
            problems.append(f"molecular variable '{v}' is missing for {n_missing} case(s); those cases are left out of its tests")
    parts = {"all": associate(F, M)}
    if stable_features is not None:
        keep = [f for f in F.columns if f in set(stable_features)]
        if not keep:
            problems.append("no feature passed the stability filter; the 'stable' stage is empty")
        parts["stable"] = associate(F[keep], M)
    if site is not None:
        complete = F.dropna(axis=1)
        if complete.shape[1] < F.shape[1]:
            problems.append(f"{F.shape[1] - complete.shape[1]} feature(s) with missing values were left out of the harmonised stage")
        parts["harmonised"] = associate(cross_fitted_combat(complete, site, folds=folds, seed=seed), M)
        parts["site_adjusted"] = associate(F, M, adjust_for=site)
    stages = list(parts)
    assoc = pd.concat([_with_fdr(t, fdr).assign(stage=s) for s, t in parts.items()], ignore_index=True)
    assoc = assoc[["stage", *[c for c in assoc.columns if c != "stage"]]]
    survival = _verdicts(assoc, stages)
    summary = _summary(assoc, survival, kinds, stages)
    prediction = pd.DataFrame()
    if predict:
        from radrepro.radiogenomics.prediction import predict_molecular

        prediction = predict_molecular(F, M, kinds, site=site, stable_features=stable_features, seed=seed,
                                       problems=problems)
    return RadiogenomicsResult(assoc, survival, summary, prediction, problems, fdr)


def features_from_results(results: pd.DataFrame, *, extractor: str | None = None) -> pd.DataFrame:
    """Cases x features of the unperturbed extraction in a long results table.

    Raises
    ------
    InputError
        If the table holds several extractors and ``extractor`` does not pick one.
    """
    from radrepro.results import check_results, wide

    df = check_results(results)
    df = df[df["perturbation"] == "none"]
    if df.empty:
        raise InputError("the results table has no unperturbed rows (perturbation 'none')",
                         "pass the results of a run that includes the unperturbed cases")
    extractors = sorted(df["extractor"].unique())
    if extractor is not None:
        if extractor not in extractors:
            raise InputError(f"no extractor '{extractor}' in the results", "extractors present: " + ", ".join(extractors))
        df = df[df["extractor"] == extractor]
    elif len(extractors) > 1:
        raise InputError(f"the results hold {len(extractors)} extractors", "pick one with extractor=/--extractor: " + ", ".join(extractors))
    return wide(df, index=("case",)).rename_axis(columns=None)


def suite_step(
    results: pd.DataFrame,
    metadata: pd.DataFrame,
    *,
    variables: list[str] | None = None,
    site: str | None = "site",
    stability: pd.DataFrame | None = None,
    icc_threshold: float = 0.75,
    extractor: str | None = None,
    out_dir: str | Path | None = None,
    **options,
) -> tuple[pd.DataFrame, dict[str, float]]:
    """The radiogenomics step of a suite: the analysis on the run's results and case metadata.

    Parameters
    ----------
    results
        Long results table of the run.
    metadata
        One row per case (``case`` column or index) with the molecular variables and the site.
    variables
        Molecular columns to test (default: columns starting with ``mol_``).
    site
        Metadata column with the site (``None``: no site-aware stages).
    stability
        The run's stability table (``radrepro.stability.stability_table``) for the ``stable`` stage.
    out_dir
        Where to write the tables and the volcano figure (nothing is written when ``None``).
    options
        Passed to :func:`radiogenomics` (``fdr``, ``folds``, ``seed``, ``predict``).

    Returns
    -------
    (summary, metrics)
        The per-variable summary and metrics ``radiogenomics.<variable>.significant_<stage>`` and,
        for predicted variables, ``radiogenomics.<variable>.auc.<features>.<harmonisation>``.
    """
    meta = metadata.set_index("case") if "case" in metadata.columns else metadata
    meta = meta.set_axis(meta.index.astype(str))  # a new frame: the caller's metadata keeps its index
    variables = list(variables) if variables else [c for c in meta.columns if str(c).startswith("mol_")]
    if not variables:
        raise InputError("no molecular variables in the case metadata (no column starts with 'mol_')",
                         "name them with variables = [...] in the suite's [analyses.radiogenomics]")
    missing = [v for v in [*variables, *([site] if site else [])] if v not in meta.columns]
    if missing:
        raise InputError(f"case metadata lacks the column(s) {', '.join(missing)}",
                         "metadata columns are: " + ", ".join(map(str, meta.columns)))
    stable = None
    if stability is not None:
        from radrepro.models import stable_features

        stable = stable_features(stability, threshold=icc_threshold)
    result = radiogenomics(features_from_results(results, extractor=extractor), meta[variables],
                           site=meta[site] if site else None, stable_features=stable, **options)
    if out_dir is not None:
        result.write(out_dir)
    metrics: dict[str, float] = {}
    for _, row in result.summary.iterrows():
        for col in row.index:
            if str(col).startswith("significant_"):
                metrics[f"radiogenomics.{row['variable']}.{col}"] = float(row[col])
    for _, row in result.prediction.iterrows():
        if pd.notna(row["auc"]):
            harm = "infold" if row["harmonisation"] != "none" else "none"
            metrics[f"radiogenomics.{row['variable']}.auc.{row['features']}.{harm}"] = float(row["auc"])
    return result.summary, metrics
