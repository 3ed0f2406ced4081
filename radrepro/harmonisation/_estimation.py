"""The numeric core of ComBat, written to follow R's sva / neuroCombat step by step.

Everything here is pure numpy on float64 arrays with **samples in rows and features in columns**
(the transpose of R's ``dat``). Names follow the R code so the two can be read side by side:

=====================  =====================================================================
R (sva ``ComBat``)     here
=====================  =====================================================================
``design``             :func:`design_matrix`
``B.hat``              :func:`fit_standardisation` (``beta``)
``grand.mean``         ``grand_mean``  (sample-weighted batch means, or the reference batch's)
``var.pooled``         ``var_pooled``  (mean squared residual over all samples, or the reference batch's)
``mod.mean``           ``covariates @ beta_covariates``
``s.data``             ``z`` (standardised data)
``gamma.hat``          :func:`naive_estimates`
``delta.hat``          :func:`naive_estimates`
``aprior``/``bprior``  :func:`priors`
``it.sol``             :func:`it_sol` (parametric empirical Bayes)
``int.eprior``         :func:`int_eprior` (non-parametric empirical Bayes, in log space)
=====================  =====================================================================

The convergence rule of :func:`it_sol` is R's, quirk included:
``max(abs(g.new - g.old) / g.old, abs(d.new - d.old) / d.old) > 1e-4``, with the division by the
signed old value (features whose location estimate is negative never hold the loop up). Keeping it
gives the same number of iterations as R, hence R's numbers to rounding.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CONV = 1e-4  # it.sol's conv argument in sva and neuroCombat
MAX_ITER = 10_000  # R has no limit; we stop (and the caller warns) instead of looping forever
_LOG_2PI = float(np.log(2.0 * np.pi))


def design_matrix(codes: np.ndarray, n_batch: int, covariates: np.ndarray | None, ref: int | None) -> np.ndarray:
    """R's ``design``: batch indicators (the reference's column set to 1) then the covariates.

    Parameters
    ----------
    codes
        Batch index of every sample, ``0..n_batch-1``.
    n_batch
        Number of batches.
    covariates
        ``(n_samples, n_covariate_columns)`` numeric covariate columns, or None. Columns equal to 1
        everywhere (an intercept) are dropped, as R does.
    ref
        Index of the reference batch, or None.
    """
    batchmod = np.zeros((codes.size, n_batch))
    batchmod[np.arange(codes.size), codes] = 1.0
    if ref is not None:
        batchmod[:, ref] = 1.0
    if covariates is None or covariates.shape[1] == 0:
        return batchmod
    keep = ~np.all(covariates == 1.0, axis=0)
    return np.hstack([batchmod, covariates[:, keep]])


@dataclass(frozen=True)
class Standardisation:
    """The location/scale model fitted before the batch effects are estimated."""

    beta: np.ndarray  # (n_design_columns, n_features): B.hat
    grand_mean: np.ndarray  # (n_features,)
    var_pooled: np.ndarray  # (n_features,)
    z: np.ndarray  # (n_samples, n_features): s.data


def fit_standardisation(x: np.ndarray, design: np.ndarray, codes: np.ndarray, n_batch: int, ref: int | None) -> Standardisation:
    """Regress every feature on the design and standardise (sva: ``B.hat``, ``var.pooled``, ``s.data``)."""
    n = x.shape[0]
    beta = np.linalg.solve(design.T @ design, design.T @ x)
    if ref is None:
        counts = np.bincount(codes, minlength=n_batch).astype(np.float64)
        grand_mean = (counts / n) @ beta[:n_batch]
    else:
        grand_mean = beta[ref].copy()
    resid = x - design @ beta
    rows = np.flatnonzero(codes == ref) if ref is not None else slice(None)
    var_pooled = np.mean(resid[rows] ** 2, axis=0)
    mod_mean = design[:, n_batch:] @ beta[n_batch:]
    z = (x - grand_mean - mod_mean) / np.sqrt(var_pooled)
    return Standardisation(beta=beta, grand_mean=grand_mean, var_pooled=var_pooled, z=z)


def naive_estimates(z: np.ndarray, design: np.ndarray, codes: np.ndarray, n_batch: int, mean_only: bool) -> tuple[np.ndarray, np.ndarray]:
    """Per-batch location (``gamma.hat``) and scale (``delta.hat``), each ``(n_batch, n_features)``.

    ``gamma.hat`` is the least-squares fit of the standardised data on the batch part of the design
    (with a reference batch its column is all ones, as in R); ``delta.hat`` is the unbiased variance
    of the standardised data within each batch (1 when ``mean_only``).
    """
    bd = design[:, :n_batch]
    gamma_hat = np.linalg.solve(bd.T @ bd, bd.T @ z)
    delta_hat = np.ones((n_batch, z.shape[1]))
    if not mean_only:
        for b in range(n_batch):
            delta_hat[b] = np.var(z[codes == b], axis=0, ddof=1)
    return gamma_hat, delta_hat


def priors(gamma_hat: np.ndarray, delta_hat: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Hyper-parameters per batch: ``gamma.bar``, ``t2`` (normal prior), ``a.prior``, ``b.prior`` (inverse gamma)."""
    gamma_bar = gamma_hat.mean(axis=1)
    t2 = gamma_hat.var(axis=1, ddof=1)
    m = delta_hat.mean(axis=1)
    s2 = delta_hat.var(axis=1, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):  # mean_only: delta.hat == 1, s2 == 0, priors unused
        a = (2 * s2 + m**2) / s2
        b = (m * s2 + m**3) / s2
    return gamma_bar, t2, a, b


def postmean(g_hat, g_bar, n, d_star, t2):
    """sva's ``postmean``: posterior mean of the location."""
    return (t2 * n * g_hat + d_star * g_bar) / (t2 * n + d_star)


def postvar(sum2, n, a, b):
    """sva's ``postvar``: posterior mean of the scale."""
    return (0.5 * sum2 + b) / (n / 2.0 + a - 1.0)


def it_sol(zb: np.ndarray, g_hat: np.ndarray, d_hat: np.ndarray, g_bar: float, t2: float, a: float, b: float,
           conv: float = CONV, max_iter: int = MAX_ITER) -> tuple[np.ndarray, np.ndarray, int]:
    """Parametric empirical Bayes for one batch, as R's ``it.sol`` (all features iterate together).

    Parameters
    ----------
    zb
        Standardised data of the batch, ``(n_samples_in_batch, n_features)``.
    g_hat, d_hat
        The batch's naive location and scale per feature.
    g_bar, t2, a, b
        The batch's prior hyper-parameters.

    Returns
    -------
    g_star, d_star, n_iter
        Posterior location and scale per feature, and the iterations used (``max_iter`` means it
        did not converge).
    """
    n = float(zb.shape[0])
    g_old, d_old = g_hat, d_hat
    for count in range(1, max_iter + 1):
        g_new = postmean(g_hat, g_bar, n, d_old, t2)
        sum2 = np.sum((zb - g_new) ** 2, axis=0)
        d_new = postvar(sum2, n, a, b)
        with np.errstate(divide="ignore", invalid="ignore"):
            change = max(np.max(np.abs(g_new - g_old) / g_old), np.max(np.abs(d_new - d_old) / d_old))
        g_old, d_old = g_new, d_new
        if not change > conv:  # R: while(change > conv); NaN (0/0) stops here where R would fail
            return g_new, d_new, count
    return g_new, d_new, max_iter


def int_eprior(zb: np.ndarray, g_hat: np.ndarray, d_hat: np.ndarray, block: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """Non-parametric empirical Bayes for one batch, as R's ``int.eprior`` but in log space.

    For feature ``i`` the posterior location and scale are averages of the *other* features'
    naive estimates ``g_k, d_k`` weighted by the likelihood of feature ``i``'s data under them,
    ``L_k = (2 pi d_k)^(-n/2) exp(-sum_j (x_ij - g_k)^2 / (2 d_k))``. R forms ``L_k`` directly,
    which underflows to 0/0 for batches of a few hundred samples; here the weights are
    ``exp(log L_k - max_k log L_k)``, identical in exact arithmetic and finite for any batch size.
    ``sum_j (x_ij - g_k)^2`` is computed as ``n (s_i + (mean_i - g_k)^2)`` with ``s_i`` the
    biased variance, so the whole batch is a few matrix operations over blocks of features.
    """
    n, p = zb.shape
    mean = zb.mean(axis=0)
    ss = np.sum((zb - mean) ** 2, axis=0)  # sum of squares about the mean, per feature
    log_norm = -0.5 * n * (_LOG_2PI + np.log(d_hat))  # (p,) over candidate features k
    g_star = np.empty(p)
    d_star = np.empty(p)
    for start in range(0, p, block):
        rows = slice(start, min(start + block, p))
        sum2 = ss[rows, None] + n * (mean[rows, None] - g_hat[None, :]) ** 2  # (block, p)
        loglh = log_norm[None, :] - sum2 / (2.0 * d_hat[None, :])
        idx = np.arange(rows.start, rows.stop)
        loglh[idx - start, idx] = -np.inf  # leave feature i out of its own prior
        loglh -= loglh.max(axis=1, keepdims=True)
        w = np.exp(loglh)
        total = w.sum(axis=1)
        g_star[rows] = (w @ g_hat) / total
        d_star[rows] = (w @ d_hat) / total
    return g_star, d_star
