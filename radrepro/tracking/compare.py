"""Differences between two results tables: per value, per feature, and speed.

Rows are lined up on ``case``, ``perturbation``, extractor *name* (the version after ``@`` is
left out, so two versions of one extractor line up), ``convention`` and ``feature``. The gate
(:mod:`radrepro.suites.gate`) and ``radrepro run --compare-to`` use these; ``radrepro compare``
(:mod:`radrepro.compare`, when present) is the full command.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd

JOIN = ["case", "perturbation", "extractor_name", "convention", "feature"]


def _keyed(df: pd.DataFrame) -> pd.DataFrame:
    out = df[["case", "perturbation", "extractor", "convention", "feature", "value", "settings"]].copy()
    for c in ("case", "perturbation", "extractor", "convention", "feature", "settings"):
        out[c] = out[c].astype(str)
    out["extractor_name"] = out["extractor"].str.split("@").str[0]
    return out.drop_duplicates(JOIN, keep="first")


def value_differences(current: pd.DataFrame, baseline: pd.DataFrame,
                      tolerance: Callable[[str], "object"] | None = None) -> pd.DataFrame:
    """One row per value present in either table.

    Columns: the join columns, ``value``, ``baseline``, ``abs_diff``, ``rel_diff`` (relative to
    ``|baseline|``), ``status``: ``equal`` (bit-identical or both NaN), ``within`` (within the
    tolerance ``tolerance(feature)``, an object with ``allows(value, baseline)``), ``beyond``,
    ``lost`` (in the baseline, missing or NaN now) or ``new`` (only in the current table).
    """
    a, b = _keyed(current), _keyed(baseline)
    merged = a.merge(b, on=JOIN, how="outer", suffixes=("", "_baseline"), indicator=True)
    merged = merged.rename(columns={"value_baseline": "baseline"})
    v = merged["value"].to_numpy(float)
    w = merged["baseline"].to_numpy(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        abs_diff = np.abs(v - w)
        rel_diff = abs_diff / np.abs(w)
    merged["abs_diff"], merged["rel_diff"] = abs_diff, rel_diff
    status = np.full(len(merged), "beyond", dtype=object)
    both_nan = np.isnan(v) & np.isnan(w)
    equal = (v == w) | both_nan
    status[equal] = "equal"
    if tolerance is not None:
        cache: dict[str, object] = {}
        for i in np.flatnonzero(~equal):
            feat = merged["feature"].iat[i]
            tol = cache.setdefault(feat, tolerance(feat))
            if not (np.isnan(v[i]) or np.isnan(w[i])) and tol.allows(float(v[i]), float(w[i])):
                status[i] = "within"
    lost = (merged["_merge"] == "right_only").to_numpy() | (np.isnan(v) & ~np.isnan(w))
    status[lost] = "lost"
    status[(merged["_merge"] == "left_only").to_numpy()] = "new"
    merged["status"] = status
    cols = [*JOIN, "extractor", "extractor_baseline", "value", "baseline", "abs_diff", "rel_diff", "status",
            "settings", "settings_baseline"]
    return merged[cols].reset_index(drop=True)


def feature_summary(diffs: pd.DataFrame) -> pd.DataFrame:
    """Per (extractor name, feature): values compared, max/median relative difference, counts by status."""
    d = diffs[diffs["status"] != "new"]
    g = d.groupby(["extractor_name", "feature"], sort=False)
    out = pd.DataFrame({
        "n": g.size(),
        "max_abs_diff": g["abs_diff"].max(),
        "max_rel_diff": g["rel_diff"].max(),
        "median_rel_diff": g["rel_diff"].median(),
        "n_beyond": g["status"].apply(lambda s: int((s == "beyond").sum())),
        "n_lost": g["status"].apply(lambda s: int((s == "lost").sum())),
    })
    return out.reset_index()


def task_seconds(results: pd.DataFrame) -> pd.DataFrame:
    """One row per extraction task: extractor name, convention, case, perturbation, seconds."""
    df = results[["extractor", "convention", "case", "perturbation", "seconds"]].copy()
    df["extractor_name"] = df["extractor"].astype(str).str.split("@").str[0]
    df["convention"] = df["convention"].astype(str)
    return df.drop_duplicates(["extractor", "convention", "case", "perturbation"])


def speed_table(current: pd.DataFrame, baseline: pd.DataFrame) -> pd.DataFrame:
    """Per extractor name and convention: median seconds per task now and in the baseline, and their ratio."""
    keys = ["extractor_name", "convention"]
    a = task_seconds(current).groupby(keys)["seconds"].median().rename("seconds_median")
    b = task_seconds(baseline).groupby(keys)["seconds"].median().rename("baseline_seconds_median")
    out = pd.concat([a, b], axis=1)
    out["ratio"] = out["seconds_median"] / out["baseline_seconds_median"]
    return out.reset_index()
