"""The content-addressed result store of a suite: one small Parquet part file per finished task.

``<run dir>/parts/<key>.parquet`` holds the long result rows of one task (the columns of
:data:`radrepro.results.RESULT_COLUMNS`) and its status row as JSON in the file's metadata. A
part is written to a temporary file and renamed, so a part either exists complete or not at all:
a run killed at any moment loses at most the tasks in flight, and a re-run computes exactly the
keys that have no part. Only finished (``ok``) tasks get a part; failed ones are tried again by
the next run.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from radrepro.results import RESULT_COLUMNS, empty_results

_STATUS_META = b"radrepro.status"


SCHEMA = pa.schema([(c, pa.float64() if t == "float64" else pa.string()) for c, t in RESULT_COLUMNS.items()])


def part_table(*, case: str, perturbation: str, perturbation_params: str, extractor: str, convention: str,
               settings: str, features: list[str], values, seconds: float) -> pa.Table:
    """The long rows of one task as an Arrow table (the columns of :data:`RESULT_COLUMNS`)."""
    n = len(features)
    const = {"case": case, "perturbation": perturbation, "perturbation_params": perturbation_params,
             "extractor": extractor, "convention": convention, "settings": settings}
    columns = {c: pa.array([v] * n, pa.string()) for c, v in const.items()}
    columns["feature"] = pa.array(list(features), pa.string())
    columns["value"] = pa.array(values, pa.float64())
    columns["seconds"] = pa.array([float(seconds)] * n, pa.float64())
    return pa.table([columns[c] for c in RESULT_COLUMNS], schema=SCHEMA)


class PartStore:
    """Part files of one suite's results under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        for stale in self.root.glob(".*.tmp"):  # a write interrupted by a kill
            stale.unlink(missing_ok=True)

    def path(self, key: str) -> Path:
        return self.root / f"{key}.parquet"

    def done(self) -> set[str]:
        """Keys that have a complete part."""
        return {p.stem for p in self.root.glob("*.parquet")}

    def write(self, key: str, rows: "pa.Table | pd.DataFrame", status: dict) -> Path:
        """Write one task's rows and status atomically (temporary file, then rename)."""
        if isinstance(rows, pd.DataFrame):
            rows = pa.Table.from_pandas(rows[list(RESULT_COLUMNS)].astype(RESULT_COLUMNS), schema=SCHEMA, preserve_index=False)
        table = rows.replace_schema_metadata({_STATUS_META: json.dumps(status, default=str).encode()})
        final = self.path(key)
        tmp = self.root / f".{key}.{os.getpid()}.tmp"
        pq.write_table(table, tmp, compression="snappy", write_statistics=False)
        os.replace(tmp, final)
        return final

    def read_table(self, key: str) -> tuple[pa.Table, dict]:
        """Rows (Arrow) and status of a finished key."""
        table = pq.read_table(self.path(key))
        status = json.loads((table.schema.metadata or {}).get(_STATUS_META, b"{}"))
        return table.replace_schema_metadata(None).cast(SCHEMA), status

    def read(self, key: str) -> tuple[pd.DataFrame, dict]:
        """Rows (pandas, canonical dtypes) and status of a finished key."""
        table, status = self.read_table(key)
        rows = table.to_pandas()
        return (rows.astype(RESULT_COLUMNS) if len(rows) else empty_results()), status

    def remove(self, keys) -> None:
        for key in keys:
            self.path(key).unlink(missing_ok=True)
