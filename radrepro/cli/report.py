"""``radrepro report RUN_ID``: a paper-ready report built from one MLflow run alone."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub) -> None:
    p = sub.add_parser(
        "report",
        help="build the report of an MLflow run",
        description="Build a report from one MLflow run alone: tables (CSV, Markdown, LaTeX), figures (PNG, SVG), "
        "a self-contained HTML page, provenance and citations. Sections whose data the run lacks are omitted with a note.",
    )
    p.add_argument("run_id", metavar="RUN_ID", help="MLflow run id (as `radrepro run` prints it), or 'latest'")
    p.add_argument("-o", "--out", type=Path, default=None, help="output folder (default: reports/<run name>-<run id>)")
    p.add_argument("--tracking-uri", default=None, help="MLflow tracking URI (default: $MLFLOW_TRACKING_URI, else sqlite:///runs/mlflow.db)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from radrepro.reports import build_report

    out = build_report(args.run_id, args.out, args.tracking_uri)
    print(f"report: {out / 'report.html'}")
    return 0
