"""The results table: one row per (case, perturbation, extractor, feature), stored as Parquet.

Every analysis (IBSI compliance, stability, harmonisation, models, comparisons) reads this long
table and never re-runs extraction. A companion *status* table has one row per extraction task.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from radrepro.errors import InputError

RESULT_COLUMNS = {
    "case": "string",
    "perturbation": "string",  # stable id; "none" for the unperturbed case
    "perturbation_params": "string",  # canonical JSON of the perturbation chain
    "extractor": "string",  # name@version
    "convention": "string",
    "settings": "string",  # Settings.digest()
    "feature": "string",
    "value": "float64",
    "seconds": "float64",  # wall time of the whole extraction task this row came from
}

STATUS_COLUMNS = {
    "case": "string",
    "perturbation": "string",
    "extractor": "string",
    "status": "string",  # ok | failed
    "error": "string",
    "roi_voxels": "Int64",
    "seconds": "float64",
}


def empty_results() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in RESULT_COLUMNS.items()})


def long_rows(
    values: pd.Series | dict[str, float],
    *,
    case: str,
    extractor: str,
    convention: str,
    settings: str,
    seconds: float,
    perturbation: str = "none",
    perturbation_params: str = "[]",
) -> pd.DataFrame:
    """Long-format rows for one extraction result (feature name -> value)."""
    s = pd.Series(values, dtype="float64")
    df = pd.DataFrame(
        {
            "case": case,
            "perturbation": perturbation,
            "perturbation_params": perturbation_params,
            "extractor": extractor,
            "convention": convention,
            "settings": settings,
            "feature": s.index.astype(str),
            "value": s.to_numpy(),
            "seconds": float(seconds),
        }
    )
    return df.astype(RESULT_COLUMNS)


def check_results(df: pd.DataFrame, where: str = "results table") -> pd.DataFrame:
    """Raise an :class:`InputError` naming the missing columns; return ``df`` with canonical dtypes."""
    missing = [c for c in RESULT_COLUMNS if c not in df.columns]
    required = {"case", "feature", "value"}
    if required - set(df.columns):
        raise InputError(
            f"{where} lacks the columns {', '.join(sorted(required - set(df.columns)))}",
            "pass a long results table written by `radrepro run` (columns: " + ", ".join(RESULT_COLUMNS) + ")",
        )
    df = df.copy()
    defaults: dict[str, Any] = {"perturbation": "none", "perturbation_params": "[]", "extractor": "unknown",
                                "convention": "unknown", "settings": "", "seconds": float("nan")}
    for c in missing:
        df[c] = defaults[c]
    return df[list(RESULT_COLUMNS)].astype(RESULT_COLUMNS)


def write_results(df: pd.DataFrame, path: str | Path) -> Path:
    """Write a results table to Parquet atomically (temporary file, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    check_results(df).to_parquet(tmp, index=False)
    tmp.replace(path)
    return path


def read_results(path: str | Path) -> pd.DataFrame:
    """Read a results table (Parquet or CSV) and check its columns."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"results file {path} does not exist", "pass the results.parquet of a run")
    try:
        df = pd.read_csv(path) if path.suffix.lower() == ".csv" else pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise InputError(f"results file {path} cannot be read ({type(exc).__name__})", "re-run the suite to rewrite it") from exc
    return check_results(df, where=str(path))


def wide(df: pd.DataFrame, index: tuple[str, ...] = ("case", "perturbation")) -> pd.DataFrame:
    """Pivot the long table to one row per ``index`` and one column per feature."""
    return df.pivot_table(index=list(index), columns="feature", values="value", aggfunc="first", dropna=False)
