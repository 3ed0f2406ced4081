"""Cross-validated evaluation: repeated stratified K-fold, leave-one-site-out, and the leaky control.

Every evaluation returns one row (a dict) of the model table:

- ``auc``, ``auc_low``, ``auc_high``: AUC of the out-of-fold predictions, mean over repeats, with a
  stratified case-bootstrap 95% percentile interval (:func:`radrepro.models.metrics.auc_ci`);
- ``auc_repeat_sd``: standard deviation of the AUC across repeats (partition noise);
- ``balanced_accuracy`` (threshold 0.5), ``brier``, ``calibration_slope``,
  ``calibration_intercept``: on the pooled out-of-fold predictions, mean over repeats;
- ``n_cases``, ``n_positive``, ``n_features``, ``validation``, ``folds``, ``repeats``.

Runs use one BLAS thread and ``n_jobs=1``, so the numbers are the same on any machine.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.model_selection import LeaveOneGroupOut, RepeatedStratifiedKFold
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from radrepro.errors import InputError
from radrepro.models import metrics

CI_METHOD = "stratified case bootstrap of out-of-fold predictions (mean AUC over repeats), percentile"


def _oof(pipeline: Pipeline, X: pd.DataFrame, y: np.ndarray, splits: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Out-of-fold probabilities of the positive class for one partition of the cases."""
    p = np.full(len(y), np.nan)
    for train, test in splits:
        model = clone(pipeline)
        model.fit(X.iloc[train], y[train])
        p[test] = model.predict_proba(X.iloc[test])[:, 1]
    return p


def _summary(y: np.ndarray, probs: np.ndarray, *, n_boot: int, seed: int) -> dict[str, float]:
    auc, low, high = metrics.auc_ci(y, probs, n_boot=n_boot, seed=seed)
    per_repeat = metrics.auc_from_ranks(np.broadcast_to(y.astype(bool), probs.shape), probs)
    cal = np.array([metrics.calibration(y, p) for p in probs])
    return {
        "auc": auc,
        "auc_low": low,
        "auc_high": high,
        "auc_repeat_sd": float(np.std(per_repeat, ddof=1)) if probs.shape[0] > 1 else float("nan"),
        "balanced_accuracy": float(np.mean([metrics.balanced_accuracy(y, p) for p in probs])),
        "brier": float(np.mean([metrics.brier(y, p) for p in probs])),
        "calibration_slope": float(np.nanmean(cal[:, 0])) if np.isfinite(cal[:, 0]).any() else float("nan"),
        "calibration_intercept": float(np.nanmean(cal[:, 1])) if np.isfinite(cal[:, 1]).any() else float("nan"),
        "n_cases": int(len(y)),
        "n_positive": int(y.sum()),
    }


def _check(X: pd.DataFrame, y: Any) -> np.ndarray:
    if not isinstance(X, pd.DataFrame):
        raise InputError("the model's X must be a pandas DataFrame (features and the site column)", "build it with radrepro.models.model_frame")
    yb = metrics._binary(y).astype(int)
    if len(yb) != len(X):
        raise InputError(f"{len(yb)} outcomes for {len(X)} cases", "pass one outcome per row of X")
    return yb


def evaluate_cv(
    pipeline: Pipeline,
    X: pd.DataFrame,
    y: Any,
    *,
    n_splits: int = 5,
    n_repeats: int = 5,
    seed: int = 0,
    n_boot: int = 2000,
) -> dict[str, Any]:
    """Repeated stratified K-fold cross-validation of ``pipeline`` (fixed seeds)."""
    yb = _check(X, y)
    n_splits = min(n_splits, int(np.bincount(yb).min()))
    if n_splits < 2:
        raise InputError("the minority class has fewer than 2 cases", "cross-validation needs at least 2 cases of each class")
    splitter = RepeatedStratifiedKFold(n_splits=n_splits, n_repeats=n_repeats, random_state=seed)
    all_splits = list(splitter.split(np.zeros(len(yb)), yb))
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore", category=RuntimeWarning)
        probs = np.vstack([_oof(pipeline, X, yb, all_splits[r * n_splits : (r + 1) * n_splits]) for r in range(n_repeats)])
    row = _summary(yb, probs, n_boot=n_boot, seed=seed)
    row.update(validation="repeated CV", folds=n_splits, repeats=n_repeats)
    return row


def evaluate_loso(
    pipeline: Pipeline,
    X: pd.DataFrame,
    y: Any,
    sites: Any,
    *,
    seed: int = 0,
    n_boot: int = 2000,
) -> dict[str, Any]:
    """Leave-one-site-out validation: train on all sites but one, predict the held-out site.

    The AUC pools the out-of-fold predictions of every held-out site (so it also asks whether
    scores are comparable across sites); ``site_auc`` holds each site's own AUC (NaN for a site
    with one class).
    """
    yb = _check(X, y)
    groups = np.asarray(sites, dtype=object).ravel()
    if pd.Series(groups).nunique() < 2:
        raise InputError("leave-one-site-out needs at least two sites", "use evaluate_cv for a single-site cohort")
    splits = list(LeaveOneGroupOut().split(np.zeros(len(yb)), yb, groups))
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore", category=RuntimeWarning)
        p = _oof(pipeline, X, yb, splits)
    row = _summary(yb, p[None, :], n_boot=n_boot, seed=seed)
    site_auc = {}
    for site in sorted(pd.unique(groups), key=str):
        m = groups == site
        site_auc[str(site)] = float(metrics.auc_from_ranks(yb[m], p[m])) if 0 < yb[m].sum() < m.sum() else float("nan")
    row.update(validation="leave-one-site-out", folds=len(splits), repeats=1, site_auc=site_auc)
    return row
