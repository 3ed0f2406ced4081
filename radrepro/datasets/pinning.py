"""Pinned series lists of TCIA cards, built offline from the Imaging Data Commons index.

A TCIA card declares its series list in ``[series]``: the sidecar CSV file (in ``datasets/``), the
SQL query that selected the series from idc-index's ``index`` table, and the idc-index version used.
:func:`pin` re-runs that query (``radrepro datasets pin NAME``) and rewrites the CSV, so that anyone
can see, and repeat, how a list was made. idc-index-data ships the index as a parquet file: no network.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pandas as pd

from radrepro.errors import DataUnavailableError, InputError

# columns of a series list, in order (the query must return these names)
SERIES_COLUMNS = [
    "PatientID",
    "StudyInstanceUID",
    "SeriesInstanceUID",
    "Modality",
    "SeriesNumber",
    "SeriesDescription",
    "StudyDate",
    "Manufacturer",
    "ManufacturerModelName",
    "image_count",
    "size_mb",
]


def idc_versions() -> str:
    """``idc-index X (idc-index-data Y)``: the versions a list was made with."""
    try:
        return f"idc-index {version('idc-index')} (idc-index-data {version('idc-index-data')})"
    except PackageNotFoundError as exc:
        raise DataUnavailableError("idc-index is not installed", "install tcia-utils (it brings idc-index)") from exc


def series_list_path(card) -> Path:
    """The sidecar CSV of a card's pinned series."""
    return card.path.parent / card.data["series"]["file"]


def query_series(query: str) -> pd.DataFrame:
    """Run ``query`` against idc-index's offline ``index`` table and return the series list.

    The table is the parquet file that idc-index-data installs (what ``IDCClient().sql_query``
    queries), opened with duckdb directly: no client start-up, no network.
    """
    import duckdb
    import idc_index_data

    con = duckdb.connect()
    con.execute(f"CREATE VIEW \"index\" AS SELECT * FROM read_parquet('{idc_index_data.IDC_INDEX_PARQUET_FILEPATH}')")
    df = con.execute(query).df()
    missing = [c for c in SERIES_COLUMNS if c not in df.columns]
    if missing:
        raise InputError(f"series query returns no column(s) {missing}", f"select {', '.join(SERIES_COLUMNS)}")
    df = df[SERIES_COLUMNS].copy()
    df["image_count"] = df["image_count"].astype(int)
    df["size_mb"] = df["size_mb"].astype(float).round(6)
    return df.sort_values(["PatientID", "StudyDate", "Modality", "SeriesInstanceUID"]).reset_index(drop=True)


def pin(card) -> pd.DataFrame:
    """Re-run the card's query and write its sidecar CSV; returns the list.

    The card's ``[series] made_with`` should then be updated to :func:`idc_versions` by hand
    (cards are declarative files, radrepro does not rewrite them).
    """
    if card.kind != "tcia":
        raise InputError(f"data set '{card.name}' is not a TCIA card", "only TCIA cards have a series list")
    df = query_series(card.data["series"]["query"])
    df.to_csv(series_list_path(card), index=False)
    return df
