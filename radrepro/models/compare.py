"""One comparison table: raw vs stable-only features, no vs in-fold ComBat, extractor A vs B, and the leak.

:func:`compare_models` evaluates every combination on the long results table and returns one row
per (extractor, features, harmonisation, validation, classifier). Harmonisation is one of:

- ``none``: the site column is dropped;
- ``ComBat in fold``: :class:`~radrepro.models.pipeline.FoldComBat` fitted on each training fold;
- ``ComBat on all data (leaky)``: ComBat fitted once on *all* cases, keeping the outcome's effect
  as a covariate (what a whole-cohort ``neuroCombat(..., mod=outcome)`` does), before the
  cross-validation. The test cases' features and outcomes then shape the harmonisation, and the
  model looks better than it is: the ``optimism`` column of the in-fold row is the difference.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from radrepro.errors import InputError
from radrepro.harmonisation import ComBat, HarmonisationWarning
from radrepro.models.evaluation import CI_METHOD, evaluate_cv, evaluate_loso
from radrepro.models.pipeline import build_pipeline
from radrepro.results import check_results

NONE, IN_FOLD, LEAKY = "none", "ComBat in fold", "ComBat on all data (leaky)"
HARMONISATIONS = (NONE, IN_FOLD, LEAKY)
TABLE_COLUMNS = [
    "extractor", "perturbation", "features", "harmonisation", "validation", "classifier", "n_features", "auc", "auc_low", "auc_high",
    "auc_repeat_sd", "optimism", "balanced_accuracy", "brier", "calibration_slope", "calibration_intercept",
    "n_cases", "n_positive", "folds", "repeats", "seed", "site_auc", "ci_method",
]


def model_frame(
    results: pd.DataFrame,
    metadata: pd.DataFrame,
    *,
    label: str = "label",
    site: str | None = "site",
    extractor: str | None = None,
    perturbation: str = "none",
) -> tuple[pd.DataFrame, pd.Series]:
    """Features (one row per case, one column per feature, plus the site column) and the outcome.

    Features that are missing, infinite or constant for any case are dropped (a choice that does
    not look at the outcome, so it cannot leak).

    Parameters
    ----------
    results
        Long results table.
    metadata
        One row per case (index or ``case`` column) with the ``label`` and ``site`` columns.
    label, site
        Outcome and site columns of ``metadata`` (``site=None``: no site column).
    extractor
        Rows of this extractor only (required when the table holds several).
    perturbation
        Rows of this perturbation only (the unperturbed cases by default).
    """
    res = check_results(results)
    res = res[res["perturbation"] == perturbation]
    extractors = list(pd.unique(res["extractor"]))
    if extractor is None:
        if len(extractors) > 1:
            raise InputError(f"the results hold {len(extractors)} extractors", "pass extractor= one of: " + ", ".join(map(str, extractors)))
    else:
        res = res[res["extractor"] == extractor]
    if res.empty:
        raise InputError(f"no results for extractor {extractor!r} and perturbation {perturbation!r}", "check the run's results table")
    wide = res.pivot_table(index="case", columns="feature", values="value", aggfunc="first", dropna=False, observed=True)
    wide.index = wide.index.astype(str)
    wide.columns = wide.columns.astype(str)
    x = wide.to_numpy(dtype=np.float64)
    good = np.isfinite(x).all(axis=0) & (np.nanmax(x, axis=0) > np.nanmin(x, axis=0))
    wide = wide.loc[:, good]
    meta = metadata.set_index("case") if "case" in metadata.columns else metadata
    meta = meta.copy()
    meta.index = meta.index.astype(str)
    wanted = [label] + ([site] if site else [])
    missing = [c for c in wanted if c not in meta.columns]
    if missing:
        raise InputError(f"case metadata lacks the column(s) {', '.join(missing)}", "metadata columns are: " + ", ".join(map(str, meta.columns)))
    cases = [c for c in wide.index if c in meta.index and pd.notna(meta.at[c, label])]
    if len(cases) < 4:
        raise InputError(f"only {len(cases)} case(s) have both features and a {label!r}", "models need cases with an outcome in the metadata")
    X = wide.loc[cases]
    if site:
        if site in X.columns:
            raise InputError(f"a feature is called {site!r}, like the site column", "rename the site column")
        X = X.assign(**{site: meta.loc[cases, site].astype(str).to_numpy()})
    y = meta.loc[cases, label]
    return X, y


def stable_features(stability: Any, *, threshold: float = 0.75, column: str | None = None) -> set[str]:
    """Names of the features whose ICC lower 95% bound exceeds ``threshold``.

    Parameters
    ----------
    stability
        A stability table (``radrepro.stability.stability_table``: one row per feature, index or
        ``feature`` column, with ``icc_*_low`` columns), a Series of lower bounds indexed by
        feature, or a collection of feature names (returned as a set).
    threshold
        0.75 ("good") or 0.9 ("excellent") per Koo & Li (2016).
    column
        The lower-bound column; default ``icc_a_1_low`` (absolute agreement), else the first
        ``*_low`` column.
    """
    if isinstance(stability, pd.Series):
        return set(stability.index[stability.to_numpy(dtype=np.float64) > threshold].astype(str))
    if isinstance(stability, pd.DataFrame):
        table = stability.set_index("feature") if "feature" in stability.columns else stability
        if column is None:
            lows = [c for c in table.columns if str(c).endswith("_low")]
            if not lows:
                raise InputError("the stability table has no *_low column", "pass radrepro.stability.stability_table's output or a Series of lower bounds")
            column = "icc_a_1_low" if "icc_a_1_low" in lows else lows[0]
        return stable_features(table[column], threshold=threshold)
    return {str(f) for f in stability}


def leaky_harmonise(X: pd.DataFrame, y: Any, site: str = "site") -> pd.DataFrame:
    """ComBat fitted on all cases with the outcome as covariate: the leak the table shows.

    Returns X with the features harmonised and the site column kept, ready for the pipeline
    without ComBat.
    """
    feats = [c for c in X.columns if c != site]
    cov = pd.Series(np.asarray(y), index=X.index, name="outcome").astype(str)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HarmonisationWarning)
        xh = ComBat().fit_transform(X[feats], X[site], cov)
    return xh.assign(**{site: X[site].to_numpy()})


def evaluate_variant(
    X: pd.DataFrame,
    y: Any,
    *,
    harmonisation: str = NONE,
    validation: str = "cv",
    classifier: str = "logistic",
    stable: Iterable[str] | None = None,
    site: str = "site",
    selection: str = "kbest",
    k: int = 10,
    n_splits: int = 5,
    n_repeats: int = 5,
    seed: int = 0,
    n_boot: int = 2000,
) -> dict[str, Any]:
    """One row of the comparison table (see :func:`compare_models`)."""
    if harmonisation not in HARMONISATIONS:
        raise InputError(f"unknown harmonisation {harmonisation!r}", "use one of: " + ", ".join(HARMONISATIONS))
    if harmonisation == LEAKY:
        with threadpool_limits(1):
            X = leaky_harmonise(X, y, site)
    pipe = build_pipeline(classifier=classifier, combat=harmonisation == IN_FOLD, site_col=site, stable_features=stable,
                          selection=selection, k=k, random_state=seed)
    if validation == "cv":
        row = evaluate_cv(pipe, X, y, n_splits=n_splits, n_repeats=n_repeats, seed=seed, n_boot=n_boot)
    elif validation == "loso":
        row = evaluate_loso(pipe, X, y, X[site], seed=seed, n_boot=n_boot)
    else:
        raise InputError(f"unknown validation {validation!r}", "use 'cv' or 'loso'")
    n_feat = X.shape[1] - 1 if stable is None else len(set(stable) & set(X.columns))
    row.update(harmonisation=harmonisation, classifier=classifier, n_features=n_feat, seed=seed, ci_method=CI_METHOD)
    return row


def compare_models(
    results: pd.DataFrame,
    metadata: pd.DataFrame,
    *,
    label: str = "label",
    site: str = "site",
    stability: Any = None,
    threshold: float = 0.75,
    classifiers: Iterable[str] = ("logistic",),
    harmonisations: Iterable[str] = HARMONISATIONS,
    validations: Iterable[str] = ("cv", "loso"),
    selection: str = "kbest",
    k: int = 10,
    n_splits: int = 5,
    n_repeats: int = 5,
    seed: int = 0,
    n_boot: int = 2000,
    perturbations: Iterable[str] = ("none",),
) -> pd.DataFrame:
    """The comparison table: every extractor x feature set x harmonisation x validation x classifier.

    Parameters
    ----------
    results, metadata
        Long results table and one row of metadata per case (``label`` and ``site`` columns).
    stability
        Stability table, Series of ICC lower bounds or set of names (see :func:`stable_features`),
        or a mapping extractor -> one of those; ``None`` gives only the raw (all-features) rows.
    threshold
        ICC lower-bound threshold for the stable-only rows.
    classifiers, harmonisations, validations
        Which variants to run. Leave-one-site-out (``loso``) runs only with two or more sites.
    selection, k
        Feature selection after the stable filter (see :func:`build_pipeline`).
    n_splits, n_repeats, seed, n_boot
        Repeated stratified K-fold and the bootstrap.
    perturbations
        Perturbations whose rows are modelled, each on its own (e.g. ``none`` and an acquisition
        without site effects, as ground truth); absent ones are skipped.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`TABLE_COLUMNS`; ``optimism`` is filled on the leaky rows: leaky AUC minus
        the in-fold AUC of the same variant.
    """
    res = check_results(results)
    rows = []
    for extractor, perturbation in [(e, p) for e in pd.unique(res["extractor"]) for p in perturbations]:
        if not ((res["extractor"] == extractor) & (res["perturbation"] == perturbation)).any():
            continue
        chosen = stability.get(extractor) if isinstance(stability, Mapping) else stability
        stable = None if chosen is None else stable_features(chosen, threshold=threshold)
        feature_sets = [("all", None)] + ([("stable (ICC low > %.2f)" % threshold, stable)] if stable is not None else [])
        X, y = model_frame(res, metadata, label=label, site=site, extractor=extractor, perturbation=perturbation)
        n_sites = X[site].nunique()
        for fname, fset in feature_sets:
            if fset is not None and not set(fset) & set(X.columns):
                warnings.warn(f"no feature of {extractor} has an ICC lower bound above {threshold}: no stable-only rows", UserWarning, stacklevel=2)
                continue
            for validation in validations:
                if validation == "loso" and n_sites < 2:
                    continue
                for classifier in classifiers:
                    for harm in harmonisations:
                        if harm != NONE and n_sites < 2:
                            continue
                        row = evaluate_variant(X, y, harmonisation=harm, validation=validation, classifier=classifier, stable=fset,
                                               site=site, selection=selection, k=k, n_splits=n_splits, n_repeats=n_repeats,
                                               seed=seed, n_boot=n_boot)
                        row.update(extractor=str(extractor), perturbation=str(perturbation), features=fname)
                        rows.append(row)
    table = pd.DataFrame(rows)
    if table.empty:
        return pd.DataFrame(columns=TABLE_COLUMNS)
    table["optimism"] = np.nan
    key = ["extractor", "perturbation", "features", "validation", "classifier"]
    infold = table[table["harmonisation"] == IN_FOLD].set_index(key)["auc"]
    leaky = table["harmonisation"] == LEAKY
    if leaky.any() and len(infold):
        ref = table.loc[leaky, key].apply(tuple, axis=1).map(infold.to_dict())
        table.loc[leaky, "optimism"] = table.loc[leaky, "auc"] - ref
    if "site_auc" not in table:
        table["site_auc"] = None
    table["site_auc"] = table["site_auc"].map(lambda d: "" if not isinstance(d, dict) else "; ".join(f"{k}={v:.3f}" for k, v in d.items()))
    return table[TABLE_COLUMNS]


def _short(text: str) -> str:
    return {NONE: "none", IN_FOLD: "infold", LEAKY: "leaky", "repeated CV": "cv", "leave-one-site-out": "loso"}.get(text, text)


def suite_step(results: pd.DataFrame, metadata: pd.DataFrame, **options: Any) -> tuple[pd.DataFrame, dict[str, float]]:
    """The models step of a suite: :func:`compare_models` and the metrics a run logs.

    ``options`` go to :func:`compare_models` (``label``, ``site``, ``classifiers``, ``n_repeats``,
    ``threshold``, ...). ``stability`` defaults to ``auto``: per extractor, the ICC(A,1) lower bounds of
    :func:`radrepro.stability.stability_table` over the run's perturbations (no stable-only rows
    when the run has no perturbations). Metrics are named
    ``auc.<extractor>.<features>.<harmonisation>.<validation>.<classifier>`` (and ``auc_low``,
    ``auc_high``, ``optimism`` likewise), with ``features`` ``all`` or ``stable``.
    """
    if options.get("stability", "auto") == "auto":
        options["stability"] = _stability_from_results(results)
    table = compare_models(results, metadata, **options)
    several = table["extractor"].nunique() > 1 or table["perturbation"].nunique() > 1
    metrics: dict[str, float] = {}
    for _, row in table.iterrows():
        parts = ([str(row["extractor"]).split("@")[0], str(row["perturbation"])] if several else [])
        parts += ["stable" if str(row["features"]).startswith("stable") else "all", _short(row["harmonisation"]),
                  _short(row["validation"]), str(row["classifier"])]
        for col in ("auc", "auc_low", "auc_high", "optimism"):
            if pd.notna(row[col]):
                metrics[".".join([col, *parts])] = float(row[col])
    return table, metrics


def _stability_from_results(results: pd.DataFrame) -> dict[str, pd.Series] | None:
    """ICC(A,1) lower bound per feature for each extractor, when the results hold repeated measurements."""
    res = check_results(results)
    if res.empty or res.groupby("case", observed=True)["perturbation"].nunique().max() < 2:
        return None
    try:
        from radrepro.stability import stability_table
    except ImportError:
        return None
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for extractor in pd.unique(res["extractor"]):
            table = stability_table(res, extractor=extractor)
            table = table.set_index("feature") if "feature" in table.columns else table
            out[extractor] = table["icc_a_1_low"]
    return out
