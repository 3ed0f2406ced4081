"""A compliance run's outcome: one row per reference value, a summary, and its rendering.

Shared by every IBSI phase. A result table has the columns of :data:`COLUMNS` (written to CSV) plus
``family`` (short family name, ``diag`` for diagnostic rows) and ``kind``: ``standardised`` (a
reference value with a tolerance: it counts), ``diagnostic`` (reported, not counted) or
``not standardised`` (no reference value).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from radrepro.ibsi.scoring import MATCH, MISSING, NO_MATCH, PARTIAL

COLUMNS = ["dataset", "tag", "value", "reference", "tolerance", "verdict"]
STANDARDISED = "standardised"
DIAGNOSTIC = "diagnostic"


@dataclass
class ComplianceResult:
    """Rows of a compliance run and how long each data set took.

    Attributes
    ----------
    table
        One row per reference value: :data:`COLUMNS` plus ``family`` and ``kind``.
    seconds
        Wall time per data set (processing and features).
    warnings
        Problems met on the way (a family that raised), one line each.
    """

    table: pd.DataFrame
    seconds: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def standardised(self) -> pd.DataFrame:
        return self.table[self.table["kind"] == STANDARDISED]

    @property
    def passed(self) -> bool:
        """True when every standardised reference value matches."""
        s = self.standardised
        return bool(len(s)) and bool((s["verdict"] == MATCH).all())

    def counts(self, by: list[str] | None = None, kind: str = STANDARDISED) -> pd.DataFrame:
        """Verdict counts (match, partial match, no match, missing, total) grouped by ``by``."""
        by = by or ["dataset"]
        rows = self.table[self.table["kind"] == kind]
        out = (
            rows.groupby(by + ["verdict"], sort=False).size().unstack("verdict", fill_value=0)
            .reindex(columns=[MATCH, PARTIAL, NO_MATCH, MISSING], fill_value=0)
        )
        out["total"] = out.sum(axis=1)
        return out

    def write_csv(self, path: str | Path) -> Path:
        """Write :data:`COLUMNS` to ``path`` (full float precision)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.table[COLUMNS].to_csv(path, index=False, float_format="%.17g")
        return path


def render_summary(result: ComplianceResult, title: str, family_names: dict[str, str], console=None) -> None:
    """Print a per-family, per-data-set table of matched/total standardised values (rich)."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    datasets = list(dict.fromkeys(result.table["dataset"]))
    counts = result.counts(["family", "dataset"])
    diag = result.counts(["dataset"], kind=DIAGNOSTIC)
    table = Table(title=title, caption="matched/total; p partial, x no match, m missing")
    table.add_column("family", no_wrap=True)
    for ds in datasets:
        table.add_column(ds, justify="right")

    def cell(row) -> str:
        if row is None:
            return ""
        text = f"{row[MATCH]}/{row['total']}"
        extra = " ".join(f"{row[k]}{s}" for k, s in ((PARTIAL, "p"), (NO_MATCH, "x"), (MISSING, "m")) if row[k])
        colour = "green" if row[MATCH] == row["total"] else ("red" if row[NO_MATCH] or row[PARTIAL] else "yellow")
        return f"[{colour}]{text}[/{colour}]" + (f" {extra}" if extra else "")

    families = list(dict.fromkeys(counts.index.get_level_values("family")))
    for fam in families:
        cells = [cell(counts.loc[(fam, ds)] if (fam, ds) in counts.index else None) for ds in datasets]
        table.add_row(family_names.get(fam, fam), *cells)
    totals = result.counts(["dataset"])
    table.add_section()
    table.add_row("[bold]all[/bold]", *[cell(totals.loc[ds] if ds in totals.index else None) for ds in datasets])
    if len(diag):
        table.add_row("diagnostics", *[cell(diag.loc[ds] if ds in diag.index else None) for ds in datasets])
    console.print(table)
    for line in result.warnings:
        console.print(f"[yellow]warning:[/yellow] {line}")
