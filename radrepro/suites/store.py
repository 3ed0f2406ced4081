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

    def write(self, key: str, rows: pd.DataFrame, status: dict) -> Path:
        """Write one task's rows and status atomically (temporary file, then rename)."""
        table = pa.Table.from_pandas(rows[list(RESULT_COLUMNS)].astype(RESULT_COLUMNS), preserve_index=False)
        meta = dict(table.schema.metadata or {})
        meta[_STATUS_META] = json.dumps(status, default=str).encode()
        table = table.replace_schema_metadata(meta)
        final = self.path(key)
        tmp = self.root / f".{key}.{os.getpid()}.tmp"
        pq.write_table(table, tmp)
        os.replace(tmp, final)
        return final

    def read(self, key: str) -> tuple[pd.DataFrame, dict]:
        """Rows and status of a finished key."""
        table = pq.read_table(self.path(key))
        status = json.loads(table.schema.metadata.get(_STATUS_META, b"{}"))
        rows = table.to_pandas()
        return (rows.astype(RESULT_COLUMNS) if len(rows) else empty_results()), status

    def remove(self, keys) -> None:
        for key in keys:
            self.path(key).unlink(missing_ok=True)
