"""Files a card derives from its fetched files (``[[derived]]``), each checked by sha256.

The IBSI 1 reference values are published as a workbook (``IBSI-1-submission-table.xlsx``);
``radrepro ibsi`` reads them as one long CSV table. :func:`ibsi1_reference_csv` writes that table:
the six sheets one after the other, without the workbook's own columns for a submitter's results
(``your result``, ``difference``, ``check``), the numbers unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd


def ibsi1_reference_csv(source: Path) -> bytes:
    """The IBSI 1 reference values in long format (columns dataset, family, feature, consensus,
    reference_value, tolerance, tag) from the IBSI 1 submission workbook."""
    sheets = pd.read_excel(source, sheet_name=None, dtype=object)
    table = pd.concat(list(sheets.values()), ignore_index=True)
    table = table.drop(columns=["your result", "difference", "check"]).rename(columns={"reference value": "reference_value"})
    table = table.dropna(how="all")
    return table.to_csv(index=False, lineterminator="\n").encode("utf-8")


DERIVERS: dict[str, Callable[[Path], bytes]] = {"ibsi1_reference_csv": ibsi1_reference_csv}
