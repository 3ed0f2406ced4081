"""Prediction of binary molecular variables from features, with the model pipeline of radrepro.models."""

from __future__ import annotations

import numpy as np
import pandas as pd

from radrepro.errors import RadreproError

PREDICTION_COLUMNS = ["variable", "features", "harmonisation", "n_features", "auc", "auc_low", "auc_high",
                      "balanced_accuracy", "brier", "n_cases", "n_positive", "ci_method", "note"]


def predict_molecular(
    features: pd.DataFrame,
    molecular: pd.DataFrame,
    kinds: dict[str, str],
    *,
    site: pd.Series | None = None,
    stable_features=None,
    seed: int = 0,
    n_repeats: int = 5,
    problems: list[str] | None = None,
) -> pd.DataFrame:
    """Cross-validated AUC (95% CI) of each binary molecular variable predicted from the features.

    Variants: all features, stable features (when given); without and, when sites are given, with
    in-fold ComBat. The pipeline is :func:`radrepro.models.build_pipeline` (scaling, 10 best
    features by ANOVA F, logistic regression), evaluated by :func:`radrepro.models.evaluate_cv`
    (5-fold stratified CV repeated ``n_repeats`` times, fixed seeds).
    """
    from radrepro.models import CI_METHOD, build_pipeline, evaluate_cv

    usable = features.loc[:, np.isfinite(features.to_numpy(float)).all(axis=0)].copy()
    X = usable.assign(site=site.reindex(usable.index).astype(str).to_numpy()) if site is not None else usable.assign(site="all")
    feature_sets = {"all": None}
    if stable_features is not None:
        feature_sets["stable"] = [f for f in usable.columns if f in set(stable_features)]
    harmonisations = [False, True] if site is not None else [False]
    rows = []
    for variable, kind in kinds.items():
        if kind != "binary":
            continue
        y = molecular[variable]
        known = y.notna()
        levels = sorted(y[known].unique())
        yb = (y[known] == levels[1]).astype(int)
        for name, keep in feature_sets.items():
            for combat in harmonisations:
                row = {"variable": variable, "features": name, "harmonisation": "ComBat in fold" if combat else "none",
                       "n_features": len(usable.columns) if keep is None else len(keep), "n_cases": int(known.sum()),
                       "n_positive": int(yb.sum()), "ci_method": CI_METHOD, "note": ""}
                if keep is not None and not keep:
                    row["note"] = "no stable feature"
                    rows.append(row)
                    continue
                pipeline = build_pipeline(combat=combat, stable_features=keep, random_state=seed)
                try:
                    out = evaluate_cv(pipeline, X.loc[known], yb.to_numpy(), n_repeats=n_repeats, seed=seed)
                except RadreproError as exc:
                    row["note"] = exc.oneline()
                    if problems is not None:
                        problems.append(f"prediction of '{variable}' ({name} features) skipped: {exc.oneline()}")
                else:
                    row.update({k: out[k] for k in ("auc", "auc_low", "auc_high", "balanced_accuracy", "brier")})
                rows.append(row)
    return pd.DataFrame(rows, columns=PREDICTION_COLUMNS)
