"""Agreement statistics over (feature x case x condition) arrays, vectorised over features.

The input is a float array ``Y`` of shape ``(F, n, k)``: ``F`` features, ``n`` cases (the
targets / subjects), ``k`` conditions (perturbations: the repeated measurements, "raters").
Missing values (NaN) are handled per feature by listwise deletion: a case counts for a feature only
when it has a value under every condition (as ``pingouin.intraclass_corr(nan_policy="omit")``).

Intraclass correlation (Shrout & Fleiss 1979; McGraw & Wong 1996) from the two-way ANOVA mean
squares, MSR (between cases), MSC (between conditions), MSE (residual), MSW (within cases):

- ICC(1,1) = (MSR - MSW) / (MSR + (k-1) MSW)                       one-way random
- ICC(2,1) = ICC(A,1) = (MSR - MSE) / (MSR + (k-1) MSE + k (MSC - MSE) / n)   absolute agreement
- ICC(3,1) = ICC(C,1) = (MSR - MSE) / (MSR + (k-1) MSE)             consistency

with 95% confidence intervals from the F distribution (McGraw & Wong 1996, table 7; the ICC(A,1)
interval uses Satterthwaite's degrees of freedom), computed exactly as pingouin 0.7 does.

Lin's concordance correlation coefficient (Lin 1989) for two conditions and its overall version
for ``k > 2`` (Lin 1989, section 5; Barnhart, Haber & Song 2002, Biometrics 58:1020):
``OCCC = 2 sum_{j<l} s_jl / ((k-1) sum_j s_j^2 + sum_{j<l} (m_j - m_l)^2)`` with population
(1/n) moments; for ``k = 2`` it is Lin's CCC.

Repeatability (QIBA, Raunig et al. 2015): within-subject standard deviation ``wSD = sqrt(MSW)``
(the root mean of the per-case sample variances), repeatability coefficient
``RC = 1.96 sqrt(2) wSD = 2.77 wSD``, within-subject coefficient of variation
``wCV = sqrt(mean_i(s_i^2 / mean_i^2))`` (root mean square of the per-case CVs).

Statistics that are undefined for a feature are NaN, and :func:`agreement` says why in
``reason``: too few complete cases, a feature constant across all rows, a case whose mean is 0
(wCV). A feature whose value is identical under every condition for every case (and varies
between cases) has ICC = CCC = 1 with the interval [1, 1].
"""

from __future__ import annotations

import numpy as np
from scipy import stats

#: Koo & Li (2016) thresholds on the ICC's lower 95% bound
EXCELLENT = 0.9
GOOD = 0.75
MODERATE = 0.5
#: the repeatability coefficient's factor: 1.96 sqrt(2)
RC_FACTOR = 1.959963984540054 * np.sqrt(2.0)


def _complete(y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Values with incomplete cases zeroed, the complete-case weights (F, n) and counts (F,)."""
    w = np.isfinite(y).all(axis=2)
    y0 = np.where(w[..., None], y, 0.0)
    return y0, w.astype(np.float64), w.sum(axis=1).astype(np.float64)


def mean_squares(y: np.ndarray) -> dict[str, np.ndarray]:
    """Two-way ANOVA mean squares per feature of a ``(F, n, k)`` array (listwise deletion).

    Returns
    -------
    dict
        ``msr``, ``msc``, ``mse``, ``msw`` (arrays of shape ``(F,)``), ``sst`` (total sum of
        squares), ``n`` (complete cases per feature) and ``k``.
    """
    y = np.asarray(y, dtype=np.float64)
    if y.ndim != 3:
        raise ValueError(f"mean_squares: need a (features, cases, conditions) array, got shape {y.shape}")
    k = y.shape[2]
    y0, w, n = _complete(y)
    with np.errstate(invalid="ignore", divide="ignore"):
        row = y0.mean(axis=2)  # (F, n)
        grand = (w * row).sum(axis=1) / n  # (F,)
        col = (w[..., None] * y0).sum(axis=1) / n[:, None]  # (F, k)
        dev_row = row - grand[:, None]
        ssr = k * (w * dev_row**2).sum(axis=1)
        ssc = n * ((col - grand[:, None]) ** 2).sum(axis=1)
        resid = y0 - row[..., None] - col[:, None, :] + grand[:, None, None]
        sse = (w[..., None] * resid**2).sum(axis=(1, 2))
        ssw = (w[..., None] * (y0 - row[..., None]) ** 2).sum(axis=(1, 2))
        sst = (w[..., None] * (y0 - grand[:, None, None]) ** 2).sum(axis=(1, 2))
        msr = ssr / (n - 1)
        msc = ssc / (k - 1)
        mse = sse / ((n - 1) * (k - 1))
        msw = ssw / (n * (k - 1))
    return {"msr": msr, "msc": msc, "mse": mse, "msw": msw, "sst": sst, "n": n, "k": k}


def icc_from_mean_squares(ms: dict[str, np.ndarray], confidence: float = 0.95) -> dict[str, np.ndarray]:
    """ICC(1,1), ICC(A,1), ICC(C,1) and their confidence intervals from :func:`mean_squares`.

    The formulas are pingouin 0.7's ``intraclass_corr`` (McGraw & Wong 1996), vectorised.
    """
    msb, msj, mse, msw, n, k = ms["msr"], ms["msc"], ms["mse"], ms["msw"], ms["n"], ms["k"]
    alpha = 1.0 - confidence
    q = 1.0 - alpha / 2.0
    f = stats.f
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        icc1 = (msb - msw) / (msb + (k - 1) * msw)
        icc2 = (msb - mse) / (msb + (k - 1) * mse + k * (msj - mse) / n)
        icc3 = (msb - mse) / (msb + (k - 1) * mse)
        df1 = n - 1
        df1kd = n * (k - 1)
        df2kd = (n - 1) * (k - 1)
        f1k = msb / msw
        f3k = msb / mse
        # ICC(1,1) and ICC(C,1)
        f1l = f1k / f.ppf(q, df1, df1kd)
        f1u = f1k * f.ppf(q, df1kd, df1)
        l1 = (f1l - 1) / (f1l + (k - 1))
        u1 = (f1u - 1) / (f1u + (k - 1))
        f3l = f3k / f.ppf(q, df1, df2kd)
        f3u = f3k * f.ppf(q, df2kd, df1)
        l3 = (f3l - 1) / (f3l + (k - 1))
        u3 = (f3u - 1) / (f3u + (k - 1))
        # ICC(A,1): Satterthwaite's degrees of freedom
        fj = msj / mse
        vn = df2kd * (k * icc2 * fj + n * (1 + (k - 1) * icc2) - k * icc2) ** 2
        vd = df1 * k**2 * icc2**2 * fj**2 + (n * (1 + (k - 1) * icc2) - k * icc2) ** 2
        v = vn / vd
        f2u = f.ppf(q, n - 1, v)
        f2l = f.ppf(q, v, n - 1)
        l2 = n * (msb - f2u * mse) / (f2u * (k * msj + (k * n - k - n) * mse) + n * msb)
        u2 = n * (f2l * msb - mse) / (k * msj + (k * n - k - n) * mse + n * f2l * msb)
    out = {
        "icc_1_1": icc1, "icc_1_1_low": l1, "icc_1_1_high": u1,
        "icc_a_1": icc2, "icc_a_1_low": l2, "icc_a_1_high": u2,
        "icc_c_1": icc3, "icc_c_1_low": l3, "icc_c_1_high": u3,
    }
    return {key: np.asarray(val, dtype=np.float64) for key, val in out.items()}


def overall_ccc(y: np.ndarray) -> np.ndarray:
    """Lin's overall concordance correlation coefficient per feature of a ``(F, n, k)`` array.

    For ``k = 2`` this is Lin's (1989) CCC ``2 s_xy / (s_x^2 + s_y^2 + (m_x - m_y)^2)``.
    """
    y = np.asarray(y, dtype=np.float64)
    k = y.shape[2]
    y0, w, n = _complete(y)
    with np.errstate(invalid="ignore", divide="ignore"):
        m = (w[..., None] * y0).sum(axis=1) / n[:, None]  # (F, k) condition means
        var = (w[..., None] * (y0 - m[:, None, :]) ** 2).sum(axis=1) / n[:, None]  # (F, k), 1/n
        rows = y0.sum(axis=2)
        total = (w * (rows - (w * rows).sum(axis=1, keepdims=True) / n[:, None]) ** 2).sum(axis=1) / n  # sum of S
        trace = var.sum(axis=1)
        spread = k * (m**2).sum(axis=1) - m.sum(axis=1) ** 2  # sum_{j<l} (m_j - m_l)^2
        return (total - trace) / ((k - 1) * trace + spread)


def ccc(x: np.ndarray, y: np.ndarray) -> float:
    """Lin's concordance correlation coefficient of two paired samples (pairs with a NaN dropped)."""
    x = np.asarray(x, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    if x.shape != y.shape:
        raise ValueError(f"ccc: x and y differ in length ({x.size} vs {y.size})")
    return float(overall_ccc(np.stack([x, y], axis=-1)[None])[0])


def repeatability(y: np.ndarray) -> dict[str, np.ndarray]:
    """Within-subject SD, repeatability coefficient and within-subject CV per feature."""
    y = np.asarray(y, dtype=np.float64)
    k = y.shape[2]
    y0, w, n = _complete(y)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = y0.mean(axis=2)
        var = ((y0 - mean[..., None]) ** 2).sum(axis=2) / (k - 1)  # per-case sample variance
        wsd = np.sqrt((w * var).sum(axis=1) / n)
        ratio = np.where(w > 0, var / np.where(mean == 0, np.nan, mean) ** 2, 0.0)
        wcv = np.sqrt(ratio.sum(axis=1) / n)
    return {"wsd": wsd, "rc": RC_FACTOR * wsd, "wcv": wcv}


def agreement(y: np.ndarray, confidence: float = 0.95) -> dict[str, np.ndarray]:
    """Every statistic of this module per feature of a ``(F, n, k)`` array, with NaN reasons.

    Returns
    -------
    dict
        ``icc_1_1``, ``icc_1_1_low``, ``icc_1_1_high``, ``icc_a_1`` ..., ``icc_c_1`` ...,
        ``ccc``, ``wcv``, ``wsd``, ``rc`` (float arrays), ``n_cases`` (complete cases) and
        ``reason`` (object array: ``""`` where every statistic is defined).
    """
    y = np.asarray(y, dtype=np.float64)
    if y.ndim != 3:
        raise ValueError(f"agreement: need a (features, cases, conditions) array, got shape {y.shape}")
    if not 0 < confidence < 1:
        raise ValueError(f"agreement: confidence must be in (0, 1), got {confidence}")
    n_feat, _, k = y.shape
    ms = mean_squares(y)
    out = icc_from_mean_squares(ms, confidence)
    out["ccc"] = overall_ccc(y)
    out.update(repeatability(y))
    n = ms["n"]
    reason = np.full(n_feat, "", dtype=object)
    icc_keys = [key for key in out if key.startswith("icc_")]
    scale = np.maximum(np.abs(ms["sst"]), 1.0)
    constant = ms["sst"] <= 1e-24 * scale
    # no variation within cases (identical under every condition) but some between them: perfect agreement
    y0 = np.where(np.isfinite(y).all(axis=2, keepdims=True), y, 0.0)
    identical = ~constant & (y0 == y0[:, :, :1]).all(axis=(1, 2))
    for key in icc_keys + ["ccc"]:
        out[key] = np.where(identical, 1.0, out[key])
    for key in ("wsd", "rc", "wcv"):
        out[key] = np.where(identical, 0.0, out[key])
    if k < 2:
        reason[:] = "fewer than 2 conditions (perturbations)"
    else:
        few = n < 2
        reason[few] = [f"{int(v)} complete case{'s' if v != 1 else ''} (cases with a value under every perturbation); need 2" for v in n[few]]
        reason[~few & constant] = "constant across all rows"
    undefined = reason != ""
    for key in icc_keys + ["ccc", "wcv", "wsd", "rc"]:
        out[key] = np.where(undefined, np.nan, out[key])
    zero_mean = ~undefined & ~np.isfinite(out["wcv"]) & np.isfinite(out["wsd"])
    reason[zero_mean] = "wCV undefined: a case's mean is 0"
    out["n_cases"] = n.astype(np.int64)
    out["reason"] = reason
    return out


def rating(lower_bound: np.ndarray) -> np.ndarray:
    """Koo & Li (2016) reliability class of an ICC from its lower 95% bound."""
    lb = np.asarray(lower_bound, dtype=np.float64)
    out = np.full(lb.shape, "", dtype=object)
    out[lb > EXCELLENT] = "excellent"
    out[(lb > GOOD) & (lb <= EXCELLENT)] = "good"
    out[(lb >= MODERATE) & (lb <= GOOD)] = "moderate"
    out[lb < MODERATE] = "poor"
    return out
