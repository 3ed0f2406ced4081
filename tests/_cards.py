"""Temporary TCIA dataset cards for the fetch and convert tests."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from radrepro.datasets.cards import read_card
from radrepro.datasets.pinning import SERIES_COLUMNS


def tcia_card(folder: Path, name: str, rows: list[dict], *, seg_kind: str = "RTSTRUCT", roi: str = "^GTV",
              per_roi: bool = False, roi_metadata: str = "", pairing: str = "none", pattern: str = "",
              member: str = "", subject_ids: str = "as-is"):
    """Write ``<folder>/<name>.toml`` and its series CSV; return the parsed card."""
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows, columns=SERIES_COLUMNS).to_csv(folder / f"{name}.series.csv", index=False)
    extra = f'roi_metadata = "{roi_metadata}"\n' if roi_metadata else ""
    pair = f'pattern = "{pattern}"\n' if pattern else ""
    pair += f'member = "{member}"\n' if member else ""
    (folder / f"{name}.toml").write_text(f'''
name = "{name}"
title = "test card"
kind = "tcia"
description = "synthetic"
collection = "Synthetic"
doi = "10.0000/test"
citation = "radrepro tests"
licence = "CC0"
modality = "CT"
source_url = "http://127.0.0.1/"

[segmentation]
kind = "{seg_kind}"
roi = "{roi}"
per_roi = {str(per_roi).lower()}
{extra}
[pairing]
kind = "{pairing}"
group = ["subject"]
{pair}
[labels]
subject = "PatientID"

[privacy]
subject_ids = "{subject_ids}"

[series]
file = "{name}.series.csv"
count = {len(rows)}
made_with = "by hand (tests)"
query = "none"
''')
    return read_card(folder / f"{name}.toml")
