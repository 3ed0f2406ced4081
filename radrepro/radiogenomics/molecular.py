"""Per-case molecular tables (mutation status, expression, pathway scores): reading and checking."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from radrepro.errors import InputError


def read_molecular(path: str | Path, *, id_column: str = "case") -> pd.DataFrame:
    """Read a molecular table (CSV or Parquet) keyed by case id.

    Parameters
    ----------
    path
        CSV or Parquet file with one row per case.
    id_column
        Column holding the case ids (the same ids as in the results table).

    Returns
    -------
    pandas.DataFrame
        Indexed by case id (as strings), one column per variable.

    Raises
    ------
    InputError
        Missing or unreadable file, no id column, or duplicate case ids.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"molecular table {path} does not exist", "pass a CSV or Parquet file with one row per case")
    try:
        table = pd.read_parquet(path) if path.suffix.lower() in (".parquet", ".pq") else pd.read_csv(path)
    except Exception as exc:  # pandas/pyarrow raise several types for a damaged file
        raise InputError(f"molecular table {path} cannot be read ({type(exc).__name__})",
                         "pass a comma-separated table with a header row, or a Parquet file") from exc
    if id_column not in table.columns:
        raise InputError(f"molecular table {path} has no '{id_column}' column",
                         f"add the case ids as a '{id_column}' column or name the id column (--id-column); columns are: "
                         + ", ".join(map(str, table.columns[:12])))
    table[id_column] = table[id_column].astype(str)
    duplicated = table[id_column][table[id_column].duplicated()].unique()
    if len(duplicated):
        raise InputError(f"molecular table {path} has several rows for case(s) {', '.join(duplicated[:5])}",
                         "give one row per case")
    return table.set_index(id_column)

