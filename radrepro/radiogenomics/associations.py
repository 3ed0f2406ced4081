"""Feature–molecular associations: one test per (feature, molecular variable), with effect sizes and CIs.

The test follows the molecular variable's type:

=============  ==============================  ======================================================
variable       marginal test                   site-adjusted test (``adjust_for`` given)
=============  ==============================  ======================================================
binary         Mann–Whitney U; effect AUC      logistic regression on the standardised feature and
               (Hanley–McNeil CI)              site indicators; effect odds ratio per SD (Wald CI)
continuous     Spearman rho (Fisher z CI,      partial Spearman: ranks residualised on site
               Bonett–Wright SE)               indicators; t test with n - 2 - k degrees of freedom
categorical    Kruskal–Wallis; effect          not tested (reported with a note)
               epsilon squared (no CI)
=============  ==============================  ======================================================

Every row also carries ``effect_r``, the effect on one correlation scale for volcano plots: rho,
the rank-biserial correlation 2·AUC − 1, the partial rho, or the log odds ratio converted with
Chinn (2000): d = ln(OR)·√3/π, r = d / √(d² + 4).

A pair that cannot be tested (too few cases, a constant feature, separation in the logistic fit)
gets NaN statistics and a ``note`` saying why; the other pairs go on.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

ASSOCIATION_COLUMNS = ["feature", "variable", "kind", "test", "n", "statistic", "effect", "effect_name",
                       "ci_low", "ci_high", "effect_r", "p", "note"]


def variable_kind(values: pd.Series) -> str:
    """``binary``, ``continuous``, ``categorical`` or ``constant`` (fewer than two distinct values)."""
    v = values.dropna()
    n_unique = v.nunique()
    if n_unique < 2:
        return "constant"
    if n_unique == 2:
        return "binary"
    if pd.api.types.is_numeric_dtype(v) and not pd.api.types.is_bool_dtype(v):
        return "continuous"
    return "categorical"


def binary_codes(values: pd.Series) -> pd.Series:
    """A binary variable as 0/1 (the larger value, in sort order, is 1), NaN kept."""
    levels = sorted(values.dropna().unique())
    return values.map({levels[0]: 0.0, levels[1]: 1.0}).astype("float64")


def _fisher_ci(r: float, se: float, z_crit: float) -> tuple[float, float]:
    z = np.arctanh(np.clip(r, -0.999999999, 0.999999999))
    return float(np.tanh(z - z_crit * se)), float(np.tanh(z + z_crit * se))


def _auc_ci(auc: float, n1: int, n0: int, z_crit: float) -> tuple[float, float]:
    """Hanley & McNeil (1982) standard error of the AUC, normal CI clipped to [0, 1]."""
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    var = (auc * (1 - auc) + (n1 - 1) * (q1 - auc**2) + (n0 - 1) * (q2 - auc**2)) / (n1 * n0)
    se = np.sqrt(max(var, 0.0))
    return max(0.0, auc - z_crit * se), min(1.0, auc + z_crit * se)


def _chinn_r(log_or: float) -> float:
    d = log_or * np.sqrt(3) / np.pi
    return float(d / np.sqrt(d * d + 4))


def _row(feature, variable, kind, test, n, note="", **values) -> dict:
    row = dict.fromkeys(ASSOCIATION_COLUMNS, np.nan)
    row.update(feature=feature, variable=variable, kind=kind, test=test, n=n, note=note, effect_name="")
    row.update(values)
    return row


def _marginal(x: np.ndarray, y: np.ndarray, kind: str, z_crit: float) -> dict:
    n = len(x)
    if kind == "continuous":
        if n < 4:
            return {"note": f"only {n} cases with both values; Spearman needs at least 4"}
        res = stats.spearmanr(x, y)
        rho = float(res.statistic)
        lo, hi = _fisher_ci(rho, np.sqrt((1 + rho * rho / 2) / (n - 3)), z_crit)
        return dict(statistic=rho, effect=rho, effect_name="spearman_rho", ci_low=lo, ci_high=hi,
                    effect_r=rho, p=float(res.pvalue))
    if kind == "binary":
        g1, g0 = x[y == 1], x[y == 0]
        if len(g1) < 2 or len(g0) < 2:
            return {"note": f"groups of {len(g0)} and {len(g1)} cases; Mann-Whitney needs at least 2 in each"}
        res = stats.mannwhitneyu(g1, g0, alternative="two-sided")
        auc = float(res.statistic) / (len(g1) * len(g0))
        lo, hi = _auc_ci(auc, len(g1), len(g0), z_crit)
        return dict(statistic=float(res.statistic), effect=auc, effect_name="auc", ci_low=lo, ci_high=hi,
                    effect_r=2 * auc - 1, p=float(res.pvalue))
    # categorical
    groups = [x[y == level] for level in pd.unique(y)]
    if min(len(g) for g in groups) < 2:
        return {"note": "a category has fewer than 2 cases; Kruskal-Wallis needs at least 2 in each"}
    res = stats.kruskal(*groups)
    return dict(statistic=float(res.statistic), effect=float(res.statistic) / (n - 1), effect_name="epsilon_squared",
                p=float(res.pvalue))


def _indicators(groups: np.ndarray) -> np.ndarray:
    """Site indicator columns without the first level (the intercept carries it)."""
    levels = pd.unique(groups)
    return np.column_stack([(groups == lev).astype(float) for lev in levels[1:]]) if len(levels) > 1 else np.empty((len(groups), 0))


def _residualise(v: np.ndarray, design: np.ndarray) -> np.ndarray:
    beta, *_ = np.linalg.lstsq(design, v, rcond=None)
    return v - design @ beta


def _adjusted(x: np.ndarray, y: np.ndarray, kind: str, groups: np.ndarray, z_crit: float) -> dict:
    dummies = _indicators(groups)
    k = dummies.shape[1]
    n = len(x)
    if kind == "continuous":
        df = n - 2 - k
        if df < 2:
            return {"note": f"{n} cases are too few to adjust for {k + 1} sites"}
        design = np.column_stack([np.ones(n), dummies])
        rx = _residualise(stats.rankdata(x), design)
        ry = _residualise(stats.rankdata(y), design)
        denom = np.sqrt((rx @ rx) * (ry @ ry))
        if denom == 0:
            return {"note": "no variation left within sites"}
        r = float(rx @ ry / denom)
        t = r * np.sqrt(df / max(1 - r * r, 1e-300))
        lo, hi = _fisher_ci(r, 1 / np.sqrt(n - 3 - k), z_crit) if n - 3 - k > 0 else (np.nan, np.nan)
        return dict(statistic=t, effect=r, effect_name="partial_spearman_rho", ci_low=lo, ci_high=hi, effect_r=r,
                    p=float(2 * stats.t.sf(abs(t), df)))
    if kind == "binary":
        import statsmodels.api as sm

        sd = x.std(ddof=1)
        if sd == 0:
            return {"note": "feature is constant over these cases"}
        design = np.column_stack([np.ones(n), (x - x.mean()) / sd, dummies])
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            try:
                fit = sm.Logit(y, design).fit(disp=0, maxiter=100)
            except Exception as exc:  # perfect separation, singular design or no convergence
                return {"note": f"logistic fit failed ({type(exc).__name__}: {str(exc).splitlines()[0][:80]})"}
        beta, se = float(fit.params[1]), float(fit.bse[1])
        return dict(statistic=beta / se, effect=float(np.exp(beta)), effect_name="odds_ratio_per_sd",
                    ci_low=float(np.exp(beta - z_crit * se)), ci_high=float(np.exp(beta + z_crit * se)),
                    effect_r=_chinn_r(beta), p=float(fit.pvalues[1]))
    return {"note": "no site-adjusted test for categorical variables"}


def associate(
    features: pd.DataFrame,
    molecular: pd.DataFrame,
    *,
    adjust_for: pd.Series | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Test every feature against every molecular variable.

    Parameters
    ----------
    features
        Cases x features (index: case id).
    molecular
        Cases x molecular variables, same index as ``features`` (extra or missing cases are
        dropped per pair, with NaN handled the same way).
    adjust_for
        Site (or scanner) per case: when given, site-adjusted tests replace the marginal ones.
    confidence
        Level of the confidence intervals.

    Returns
    -------
    pandas.DataFrame
        One row per pair with :data:`ASSOCIATION_COLUMNS`. Untestable pairs have NaN and a note.
    """
    z_crit = float(stats.norm.ppf(0.5 + confidence / 2))
    index = features.index.intersection(molecular.index)
    F = features.loc[index]
    groups = None if adjust_for is None else adjust_for.reindex(index)
    rows = []
    for variable in molecular.columns:
        yv = molecular.loc[index, variable]
        kind = variable_kind(yv)
        if kind == "constant":
            rows.extend(_row(f, variable, kind, "", int(yv.notna().sum()),
                             f"molecular variable '{variable}' has fewer than two distinct values; not tested")
                        for f in F.columns)
            continue
        if kind == "binary":
            yv = binary_codes(yv)
        test = {"continuous": "spearman", "binary": "mann_whitney", "categorical": "kruskal_wallis"}[kind]
        if groups is not None:
            test = {"continuous": "partial_spearman", "binary": "logistic", "categorical": "none"}[kind]
        for feature in F.columns:
            xv = F[feature]
            ok = xv.notna() & yv.notna()
            if groups is not None:
                ok &= groups.notna()
            x, y = xv[ok].to_numpy(float), yv[ok].to_numpy()
            n = int(ok.sum())
            if n and np.ptp(x) == 0:
                rows.append(_row(feature, variable, kind, test, n, "feature is constant over these cases"))
                continue
            if groups is None:
                values = _marginal(x, y, kind, z_crit) if n else {"note": "no case has both values"}
            else:
                values = _adjusted(x, y.astype(float) if kind != "categorical" else y, kind,
                                   groups[ok].to_numpy(), z_crit) if n else {"note": "no case has both values"}
            rows.append(_row(feature, variable, kind, test, n, **values))
    return pd.DataFrame(rows, columns=ASSOCIATION_COLUMNS)
