"""Did harmonisation work? Batch differences, a site classifier and the covariates' signal, before and after.

A good harmonisation leaves few features whose distribution still differs between batches, a
site classifier near chance, and the biological covariates' association with the features intact.
A harmonisation that also erases (or inflates) the covariates' signal is not a success: compare
the covariate rows before and after, and read the README's section on when not to use ComBat.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from radrepro.errors import InputError

ALPHA = 0.05


def _matrix(X: Any, name: str) -> tuple[np.ndarray, list[str]]:
    if isinstance(X, pd.DataFrame):
        cols = [str(c) for c in X.columns]
        x = X.to_numpy(dtype=np.float64)
    else:
        x = np.asarray(X, dtype=np.float64)
        if x.ndim != 2:
            raise InputError(f"{name} must be 2-D (samples x features), got shape {x.shape}", "pass the feature matrix")
        cols = [f"x{j}" for j in range(x.shape[1])]
    return x, cols


def group_test(x: np.ndarray, groups: Any) -> tuple[np.ndarray, str]:
    """p-value per feature (column) for a difference between groups.

    Mann-Whitney U (two-sided) for two groups, Kruskal-Wallis for three or more. Features that
    are constant (or constant within the test's reach) get NaN.

    Parameters
    ----------
    x
        ``(n_samples, n_features)`` values.
    groups
        Group label per sample.

    Returns
    -------
    p, test
        p-values ``(n_features,)`` and the test's name (``mannwhitneyu`` or ``kruskal``).
    """
    g = pd.Series(np.asarray(groups, dtype=object).ravel())
    levels = list(pd.unique(g))
    if len(levels) < 2:
        return np.full(x.shape[1], np.nan), "none"
    masks = [(g == lv).to_numpy() for lv in levels]
    test = "mannwhitneyu" if len(levels) == 2 else "kruskal"
    p = np.full(x.shape[1], np.nan)
    for j in range(x.shape[1]):
        col = x[:, j]
        if np.ptp(col) == 0:
            continue
        samples = [col[m] for m in masks]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                res = stats.mannwhitneyu(*samples, alternative="two-sided") if test == "mannwhitneyu" else stats.kruskal(*samples)
            except ValueError:
                continue
        p[j] = res.pvalue
    return p, test


def association_test(x: np.ndarray, covariate: pd.Series) -> tuple[np.ndarray, str]:
    """p-value per feature for an association with one covariate.

    Categorical covariates (text, boolean, or numbers with at most two distinct values) are tested
    as groups (:func:`group_test`); other numeric covariates with Spearman's correlation.
    """
    cov = pd.Series(covariate).reset_index(drop=True)
    numeric = pd.api.types.is_numeric_dtype(cov) and not pd.api.types.is_bool_dtype(cov)
    if not numeric or cov.nunique() <= 2:
        return group_test(x, cov)
    y = cov.to_numpy(dtype=np.float64)
    p = np.full(x.shape[1], np.nan)
    for j in range(x.shape[1]):
        if np.ptp(x[:, j]) == 0:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            p[j] = stats.spearmanr(x[:, j], y).pvalue
    return p, "spearman"


def site_classifier_score(x: np.ndarray, batch: Any, *, cv: int = 5, random_state: int = 0) -> float:
    """Cross-validated balanced accuracy of a classifier that predicts the batch from the features.

    Standardised features and a linear discriminant analysis with Ledoit-Wolf shrinkage (closed
    form, so fast and deterministic, and sound with more features than samples), stratified
    ``cv``-fold (fewer folds when a batch is smaller). Chance level is ``1 / n_batches``. NaN when
    a batch has a single sample.

    Harmonised data can score *below* chance: ComBat fitted on all samples makes every batch's
    mean equal, so a sample held out of a batch leaves the rest of its batch shifted the other
    way. Below chance is not a problem; above chance means batch information is left.
    """
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from threadpoolctl import threadpool_limits

    labels = pd.Series(np.asarray(batch, dtype=object).ravel()).astype(str).to_numpy()
    folds = min(cv, int(pd.Series(labels).value_counts().min()))
    if folds < 2:
        return float("nan")
    model = make_pipeline(StandardScaler(), LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto"))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=random_state)
    # one BLAS thread: these matrices are small, and threads competing for the cores are much slower
    with warnings.catch_warnings(), threadpool_limits(1):
        warnings.simplefilter("ignore")
        scores = cross_val_score(model, x, labels, cv=splitter, scoring="balanced_accuracy")
    return float(np.mean(scores))


def _pct(p: np.ndarray) -> float:
    valid = p[~np.isnan(p)]
    return float(100.0 * np.mean(valid < ALPHA)) if valid.size else float("nan")


def _inputs(X_before: Any, X_after: Any, batch: Any, covariates: Any) -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray, pd.DataFrame | None]:
    xb, cols = _matrix(X_before, "X_before")
    xa, _ = _matrix(X_after, "X_after")
    if xb.shape != xa.shape:
        raise InputError(f"X_before has shape {xb.shape} and X_after {xa.shape}", "pass the same samples and features, before and after")
    labels = np.asarray(batch, dtype=object).ravel()
    if labels.size != xb.shape[0]:
        raise InputError(f"batch has {labels.size} labels for {xb.shape[0]} samples", "pass one batch label per row")
    cov = None
    if covariates is not None:
        cov = covariates.to_frame() if isinstance(covariates, pd.Series) else pd.DataFrame(covariates)
        if len(cov) != xb.shape[0]:
            raise InputError(f"covariates have {len(cov)} rows for {xb.shape[0]} samples", "pass one covariate row per sample")
        cov = cov.reset_index(drop=True)
    return xb, xa, cols, labels, cov


def feature_tests(X_before: Any, X_after: Any, batch: Any, covariates: Any = None) -> pd.DataFrame:
    """Every per-feature p-value behind :func:`harmonisation_diagnostics`.

    Returns
    -------
    pandas.DataFrame
        One row per feature; columns ``batch_p_before``, ``batch_p_after`` and, per covariate,
        ``<covariate>_p_before``, ``<covariate>_p_after``.
    """
    xb, xa, cols, labels, cov = _inputs(X_before, X_after, batch, covariates)
    out = pd.DataFrame(index=pd.Index(cols, name="feature"))
    out["batch_p_before"] = group_test(xb, labels)[0]
    out["batch_p_after"] = group_test(xa, labels)[0]
    for name in [] if cov is None else cov.columns:
        out[f"{name}_p_before"] = association_test(xb, cov[name])[0]
        out[f"{name}_p_after"] = association_test(xa, cov[name])[0]
    return out


def harmonisation_diagnostics(
    X_before: Any,
    X_after: Any,
    batch: Any,
    covariates: Any = None,
    *,
    cv: int = 5,
    random_state: int = 0,
) -> pd.DataFrame:
    """Compare features before and after harmonisation.

    Parameters
    ----------
    X_before, X_after
        ``(n_samples, n_features)`` arrays or DataFrames, rows in the same order.
    batch
        Batch label per sample.
    covariates
        Optional Series/DataFrame (or dict of arrays) of biological covariates whose signal
        should survive.
    cv, random_state
        Folds and seed of the site classifier.

    Returns
    -------
    pandas.DataFrame
        Index ``metric``, columns ``before`` and ``after``:

        - ``batch_significant_pct``: % of features whose batch test (Mann-Whitney for 2 batches,
          Kruskal-Wallis for 3+) gives p < 0.05;
        - ``site_balanced_accuracy``: cross-validated balanced accuracy of a site classifier;
        - ``site_chance``: its chance level, 1 / n_batches;
        - ``<covariate>_significant_pct``: % of features associated with each covariate at
          p < 0.05 (group test, or Spearman for a numeric covariate with more than two values).

        ``attrs`` holds ``batch_test``, ``n_samples``, ``n_features`` and ``n_batches``;
        :func:`feature_tests` gives the p-values per feature.
    """
    xb, xa, _, labels, cov = _inputs(X_before, X_after, batch, covariates)
    n_batches = pd.Series(labels).nunique()
    rows: dict[str, tuple[float, float]] = {}
    pb, test = group_test(xb, labels)
    rows["batch_significant_pct"] = (_pct(pb), _pct(group_test(xa, labels)[0]))
    rows["site_balanced_accuracy"] = (
        site_classifier_score(xb, labels, cv=cv, random_state=random_state),
        site_classifier_score(xa, labels, cv=cv, random_state=random_state),
    )
    rows["site_chance"] = (1.0 / n_batches, 1.0 / n_batches)
    for name in [] if cov is None else cov.columns:
        rows[f"{name}_significant_pct"] = (_pct(association_test(xb, cov[name])[0]), _pct(association_test(xa, cov[name])[0]))
    out = pd.DataFrame.from_dict(rows, orient="index", columns=["before", "after"])
    out.index.name = "metric"
    out.attrs.update(batch_test=test, n_samples=int(xb.shape[0]), n_features=int(xb.shape[1]), n_batches=int(n_batches))
    return out
