"""Stability tables from the long results table.

The rows of one case under different perturbations are the repeated measurements: for every
feature the long table becomes a (case x perturbation) matrix, and :mod:`radrepro.stability.agreement`
computes ICCs, CCC and repeatability over all features at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from radrepro.errors import InputError, SettingsError
from radrepro.registry import FAMILIES
from radrepro.stability.agreement import EXCELLENT, GOOD, agreement, overall_ccc, rating

#: the columns of ``radrepro stability``'s output, in order (more follow them)
STABILITY_COLUMNS = [
    "feature",
    "icc_1_1", "icc_1_1_low", "icc_1_1_high",
    "icc_a_1", "icc_a_1_low", "icc_a_1_high",
    "icc_c_1", "icc_c_1_low", "icc_c_1_high",
    "ccc", "wcv", "rc",
]
#: ICC form names accepted by ``icc=``, -> column prefix
ICC_FORMS = {"1,1": "icc_1_1", "A,1": "icc_a_1", "2,1": "icc_a_1", "C,1": "icc_c_1", "3,1": "icc_c_1"}


@dataclass(frozen=True)
class Cube:
    """Feature values as a ``(feature, case, perturbation)`` array (NaN where a row is missing)."""

    values: np.ndarray
    features: pd.Index
    cases: pd.Index
    perturbations: pd.Index


def feature_family(name: str) -> str:
    """Family of a feature name: the IBSI tag prefix (``cm`` of ``cm_joint_max_3D_avg``), or the
    pyradiomics class (``glcm`` of ``original_glcm_JointEnergy``)."""
    parts = str(name).split("_")
    if parts[0] in FAMILIES or len(parts) < 3:
        return parts[0]
    return parts[1]


def _select(results: pd.DataFrame, extractor: str | None, perturbations: Sequence[str] | None) -> pd.DataFrame:
    missing = {"case", "feature", "value"} - set(results.columns)
    if missing:
        raise InputError(f"results table lacks the columns {', '.join(sorted(missing))}",
                         "pass the long results table of `radrepro run` (case, perturbation, feature, value, ...)")
    df = results
    if "perturbation" not in df.columns:
        raise InputError("results table has no 'perturbation' column, so it holds no repeated measurements",
                         "run a suite with a [perturbations] section")
    if "extractor" in df.columns:
        names = pd.unique(df["extractor"].astype(str))
        if extractor is not None:
            if extractor not in names:
                raise InputError(f"results table has no extractor {extractor!r}", "it has: " + ", ".join(map(str, names)))
            df = df[df["extractor"].astype(str) == extractor]
        elif len(names) > 1:
            raise InputError(f"results table holds {len(names)} extractors ({', '.join(map(str, names))})",
                             "choose one with extractor=... / --extractor NAME")
    if perturbations is not None:
        wanted = [str(p) for p in perturbations]
        have = set(df["perturbation"].astype(str))
        absent = [p for p in wanted if p not in have]
        if absent:
            raise InputError(f"results table has no perturbation {', '.join(absent)}", "check the perturbation ids")
        df = df[df["perturbation"].astype(str).isin(wanted)]
    return df


def cube(results: pd.DataFrame, *, extractor: str | None = None, perturbations: Sequence[str] | None = None) -> Cube:
    """The ``(feature, case, perturbation)`` array of a long results table.

    Parameters
    ----------
    results
        Long results table (``case``, ``perturbation``, ``feature``, ``value``; ``extractor`` optional).
    extractor
        The extractor (``name@version``) to use when the table holds several.
    perturbations
        Perturbation ids to use (default: all), in this order.

    Raises
    ------
    InputError
        Missing columns, several extractors and none chosen, duplicate (case, perturbation,
        feature) rows, or non-numeric values.
    """
    df = _select(results, extractor, perturbations)
    f_codes, features = pd.factorize(df["feature"].astype(str), sort=False)
    c_codes, cases = pd.factorize(df["case"].astype(str), sort=False)
    if perturbations is not None:
        p_index = pd.Index([str(p) for p in perturbations])
        p_codes = p_index.get_indexer(df["perturbation"].astype(str))
    else:
        p_codes, p_index = pd.factorize(df["perturbation"].astype(str), sort=False)
    try:
        values = pd.to_numeric(df["value"]).to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise InputError("results table has non-numeric values in 'value'", "pass a results table of numbers") from exc
    shape = (len(features), len(cases), len(p_index))
    flat = (np.asarray(f_codes, dtype=np.int64) * shape[1] + c_codes) * shape[2] + p_codes
    counts = np.bincount(flat, minlength=int(np.prod(shape)))
    if (counts > 1).any():
        i = int(np.argmax(counts > 1))
        f, rest = divmod(i, shape[1] * shape[2])
        c, p = divmod(rest, shape[2])
        raise InputError(
            f"results table has {int(counts[i])} rows for case {cases[c]!r}, perturbation {p_index[p]!r}, feature {features[f]!r}",
            "each (case, perturbation, feature) must appear once: filter by extractor, convention and settings first",
        )
    out = np.full(shape, np.nan)
    out.reshape(-1)[flat] = values
    return Cube(out, pd.Index(features, name="feature"), pd.Index(cases, name="case"), pd.Index(p_index, name="perturbation"))


def _prefix(icc: str) -> str:
    key = str(icc).upper().replace("ICC", "").strip("() ")
    try:
        return ICC_FORMS[key]
    except KeyError:
        raise SettingsError(f"ICC form {icc!r} is not known", "use one of: " + ", ".join(ICC_FORMS)) from None


def stability_table(
    results: pd.DataFrame,
    icc: str = "A,1",
    *,
    extractor: str | None = None,
    perturbations: Sequence[str] | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """One row per feature: ICCs with confidence intervals, overall CCC, wCV, RC, and a rating.

    Parameters
    ----------
    results
        The long results table; rows of one case under different perturbations are the repeated
        measurements (the unperturbed ``none`` is one of the conditions when present).
    icc
        The ICC form that ``icc``, ``icc_low``, ``icc_high`` and ``rating`` report: ``A,1``
        (absolute agreement, = ``2,1``; default), ``C,1`` (consistency, = ``3,1``) or ``1,1``.
    extractor
        The extractor to analyse when the table holds several.
    perturbations
        The perturbation ids to use as conditions (default: all in the table).
    confidence
        Confidence level of the intervals.

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`STABILITY_COLUMNS`, then ``icc``, ``icc_low``, ``icc_high``,
        ``rating`` (Koo & Li from the lower bound), ``wsd``, ``family``, ``n_cases`` (complete
        cases used), ``n_perturbations`` and ``reason`` (why a statistic is NaN; empty otherwise).
    """
    prefix = _prefix(icc)
    if not 0 < confidence < 1:
        raise SettingsError(f"confidence {confidence!r} is not valid", "use a number in (0, 1), e.g. 0.95")
    cb = cube(results, extractor=extractor, perturbations=perturbations)
    stats = agreement(cb.values, confidence)
    table = pd.DataFrame({"feature": cb.features.astype(str)})
    for col in STABILITY_COLUMNS[1:]:
        table[col] = stats[col]
    table["icc"] = stats[prefix]
    table["icc_low"] = stats[f"{prefix}_low"]
    table["icc_high"] = stats[f"{prefix}_high"]
    table["rating"] = rating(table["icc_low"].to_numpy())
    table["wsd"] = stats["wsd"]
    table["family"] = [feature_family(f) for f in table["feature"]]
    table["n_cases"] = stats["n_cases"]
    table["n_perturbations"] = len(cb.perturbations)
    table["reason"] = stats["reason"]
    return table


def family_summary(table: pd.DataFrame, *, excellent: float = EXCELLENT, good: float = GOOD) -> pd.DataFrame:
    """Per family: how many features are stable (Koo & Li, from the ICC's lower 95% bound).

    Parameters
    ----------
    table
        A :func:`stability_table` (or any table with ``feature``, ``icc``, ``icc_low``).
    excellent, good
        Thresholds on the lower bound.

    Returns
    -------
    pandas.DataFrame
        Index ``family`` (and a last row ``all``); columns ``n_features``, ``n_defined`` (ICC not
        NaN), ``excellent`` and ``good`` (fractions of the defined features whose lower bound
        exceeds the thresholds; ``good`` includes the excellent ones) and ``median_icc``.
    """
    need = {"feature", "icc", "icc_low"}
    if need - set(table.columns):
        raise InputError(f"stability table lacks the columns {', '.join(sorted(need - set(table.columns)))}",
                         "pass the output of stability_table")
    t = table.copy()
    if "family" not in t.columns:
        t["family"] = [feature_family(f) for f in t["feature"]]

    def summarise(g: pd.DataFrame) -> dict:
        defined = g["icc_low"].notna()
        nd = int(defined.sum())
        low = g.loc[defined, "icc_low"]
        return {
            "n_features": len(g),
            "n_defined": nd,
            "excellent": float((low > excellent).mean()) if nd else float("nan"),
            "good": float((low > good).mean()) if nd else float("nan"),
            "median_icc": float(g["icc"].median()) if nd else float("nan"),
        }

    order = list(dict.fromkeys(t["family"]))
    rows = {fam: summarise(t[t["family"] == fam]) for fam in order}
    rows["all"] = summarise(t)
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "family"
    return out


def ccc_to_reference(results: pd.DataFrame, reference: str = "none", *, extractor: str | None = None) -> pd.DataFrame:
    """Lin's CCC of every perturbation against a reference condition, per feature.

    Returns
    -------
    pandas.DataFrame
        Index ``feature``, one column per perturbation other than ``reference``.
    """
    cb = cube(results, extractor=extractor)
    if reference not in cb.perturbations:
        raise InputError(f"results table has no perturbation {reference!r} to compare with",
                         "run the suite with unperturbed = true, or name another reference")
    r = cb.perturbations.get_loc(reference)
    others = [p for p in cb.perturbations if p != reference]
    out = {}
    for p in others:
        j = cb.perturbations.get_loc(p)
        out[p] = overall_ccc(cb.values[:, :, [r, j]])
    return pd.DataFrame(out, index=cb.features.astype(str))
