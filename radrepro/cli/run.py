"""``radrepro run [SUITE]``: run a suite (default: ``quick``, embedded data, offline)."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub) -> None:
    p = sub.add_parser(
        "run",
        help="run a suite (default: quick)",
        description="Run a benchmark suite: extraction of every case, results to Parquet, one MLflow run, "
        "a summary at the end. With no argument it runs the 'quick' suite on embedded data, offline.",
    )
    p.add_argument("suite", nargs="?", default="quick", help="suite name (benchmarks/suites/NAME.toml) or path")
    p.add_argument("--out", type=Path, default=Path("runs"), help="folder for results and the local MLflow store (default: ./runs)")
    p.add_argument("--tracking-uri", default=None, help="MLflow tracking URI (default: $MLFLOW_TRACKING_URI, else SQLite in --out)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from radrepro.suites import load_suite, run_suite
    from radrepro.tracking.runs import ui_command

    suite = load_suite(args.suite)
    summary = run_suite(suite, runs_dir=args.out, tracking_uri=args.tracking_uri, progress=not args.no_progress)
    print(f"suite {summary.suite}: {summary.n_cases} cases, {summary.n_failed} failed, "
          f"{summary.n_features} features, {summary.seconds:.1f} s")
    print(f"results:    {summary.results_path}")
    print(f"status:     {summary.status_path}")
    print(f"MLflow run: {summary.run_id} in {summary.tracking_uri}")
    print(f"open it:    {ui_command(summary.tracking_uri)}")
    return 0
