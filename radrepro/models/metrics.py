"""Discrimination and calibration of out-of-fold predictions: AUC with a bootstrap CI, Brier, slope.

The AUC is the Mann-Whitney statistic (ties count one half), the same number as
:func:`sklearn.metrics.roc_auc_score`; computing it from ranks lets thousands of bootstrap
resamples run as one vectorised call.

Confidence intervals are *stratified case bootstrap* percentile intervals: positives and negatives
are resampled separately (so every resample has both classes and the same prevalence), the same
resampled cases are used for every repeat of a repeated cross-validation, and the statistic is the
mean AUC over repeats. The interval therefore reflects the sampling of cases, which is what a
reader's next cohort changes; the spread across repeats (partition noise) is reported separately.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from scipy import stats

from radrepro.errors import InputError

EPS = 1e-6


def _binary(y: Any) -> np.ndarray:
    y = np.asarray(y).ravel()
    levels = np.unique(y)
    if levels.size != 2:
        raise InputError(f"the outcome has {levels.size} distinct value(s) ({levels[:5].tolist()})", "AUC needs a binary outcome with both classes present")
    return (y == levels[1]).astype(np.int8)


def auc_from_ranks(y: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """AUC of ``scores`` (..., n) for binary ``y`` (..., n): vectorised over the leading axes."""
    y = np.asarray(y, dtype=bool)
    scores = np.asarray(scores, dtype=np.float64)
    ranks = stats.rankdata(scores, axis=-1)
    n1 = y.sum(axis=-1)
    n0 = y.shape[-1] - n1
    r1 = np.where(y, ranks, 0.0).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (r1 - n1 * (n1 + 1) / 2.0) / (n1 * n0)


def stratified_bootstrap_indices(y: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
    """``(n_boot, n)`` case indices: positives and negatives resampled with replacement separately."""
    y = np.asarray(y).astype(bool)
    rng = np.random.default_rng(seed)
    pos, neg = np.flatnonzero(y), np.flatnonzero(~y)
    return np.concatenate([rng.choice(pos, (n_boot, pos.size)), rng.choice(neg, (n_boot, neg.size))], axis=1)


def auc_ci(y: Any, scores: Any, *, n_boot: int = 2000, level: float = 0.95, seed: int = 0) -> tuple[float, float, float]:
    """AUC and its stratified-bootstrap percentile confidence interval.

    Parameters
    ----------
    y
        Binary outcome, one per case (the larger value is the positive class).
    scores
        One score per case, or ``(n_repeats, n_cases)`` out-of-fold scores of a repeated
        cross-validation: then the AUC is the mean over repeats, and every bootstrap resample uses
        the same cases for all repeats.
    n_boot, level, seed
        Resamples, confidence level and the seed of the resampling.

    Returns
    -------
    auc, low, high
    """
    yb = _binary(y)
    s = np.atleast_2d(np.asarray(scores, dtype=np.float64))
    if s.shape[-1] != yb.size:
        raise InputError(f"{s.shape[-1]} scores for {yb.size} outcomes", "pass one score per case")
    auc = float(np.mean(auc_from_ranks(np.broadcast_to(yb, s.shape), s)))
    idx = stratified_bootstrap_indices(yb, n_boot, seed)
    yy = yb[idx]  # (B, n)
    boot = np.zeros(n_boot)
    for r in range(s.shape[0]):
        boot += auc_from_ranks(yy, s[r][idx])
    boot /= s.shape[0]
    alpha = (1.0 - level) / 2.0
    low, high = np.quantile(boot, [alpha, 1.0 - alpha])
    return auc, float(low), float(high)


def brier(y: Any, p: Any) -> float:
    """Mean squared difference between the predicted probability and the outcome (0/1)."""
    return float(np.mean((np.asarray(p, dtype=np.float64) - _binary(y)) ** 2))


def calibration(y: Any, p: Any) -> tuple[float, float]:
    """Calibration slope and calibration-in-the-large intercept (Van Calster et al. 2019).

    The slope is the coefficient of ``logit(p)`` in a logistic regression of the outcome on it
    (1 is ideal; below 1, predictions are too extreme). The intercept is that of a logistic
    regression with ``logit(p)`` as offset (0 is ideal; above 0, risks are under-estimated).
    Probabilities are clipped to ``[1e-6, 1 - 1e-6]``. NaN when the fit does not converge
    (e.g. perfectly separated predictions).
    """
    import statsmodels.api as sm

    yb = _binary(y).astype(np.float64)
    pc = np.clip(np.asarray(p, dtype=np.float64), EPS, 1 - EPS)
    lp = np.log(pc / (1 - pc))
    slope = intercept = float("nan")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fit = sm.GLM(yb, sm.add_constant(lp, has_constant="add"), family=sm.families.Binomial()).fit()
            if np.all(np.isfinite(fit.params)) and fit.converged:
                slope = float(fit.params[1])
        except Exception:  # perfect separation and friends: no slope
            pass
        try:
            fit = sm.GLM(yb, np.ones((yb.size, 1)), family=sm.families.Binomial(), offset=lp).fit()
            if np.isfinite(fit.params[0]) and fit.converged:
                intercept = float(fit.params[0])
        except Exception:
            pass
    return slope, intercept


def balanced_accuracy(y: Any, p: Any, threshold: float = 0.5) -> float:
    """Balanced accuracy of ``p >= threshold``: the mean of sensitivity and specificity."""
    yb = _binary(y).astype(bool)
    pred = np.asarray(p, dtype=np.float64) >= threshold
    return float(0.5 * (np.mean(pred[yb]) + np.mean(~pred[~yb])))
