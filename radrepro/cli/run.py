"""``radrepro run [SUITE]``: run a suite (default: ``quick``, embedded data, offline) on Dask."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub) -> None:
    p = sub.add_parser(
        "run",
        help="run a suite (default: quick)",
        description="Run a benchmark suite on Dask: every (case x perturbation x extractor) task, results to "
        "Parquet (a re-run skips finished tasks), the suite's analyses, one MLflow run, a summary at the end. "
        "With no argument it runs the 'quick' suite on embedded data, offline.",
    )
    p.add_argument("suite", nargs="?", default="quick", help="suite name (benchmarks/suites/NAME.toml) or path")
    p.add_argument("--out", type=Path, default=Path("runs"), help="folder for results and the local MLflow store (default: ./runs)")
    p.add_argument("--tracking-uri", default=None,
                   help="MLflow tracking URI, e.g. http://127.0.0.1:5000 (default: $MLFLOW_TRACKING_URI, else sqlite:///OUT/mlflow.db)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="address of a running Dask scheduler, e.g. tcp://10.0.0.5:8786 (default: start a local cluster)")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="local cluster: N worker processes (default: one per core); with --scheduler: wait for N workers")
    p.add_argument("--threads", action="store_true", help="local cluster: workers as threads of this process instead of processes")
    p.add_argument("--fresh", action="store_true", help="recompute every task instead of reusing finished results")
    p.add_argument("--gate", "--baseline", dest="baseline", default=None, metavar="BASELINE",
                   help="regression gate against BASELINE: an MLflow run id, 'latest', or a results file; exit 1 on a regression")
    p.add_argument("--compare-to", default=None, metavar="RUN",
                   help="compare with an earlier run (run id, 'latest' or results file): per-feature differences, speed ratio")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--report-dir", type=Path, default=None, metavar="DIR",
                   help="where the run's report goes (default: reports/<suite>-<run id>/)")
    p.add_argument("--no-report", action="store_true", help="do not build the report at the end of the run")
    p.set_defaults(func=run)


def _print_comparison(comparison) -> None:
    f = comparison.features
    print(f"compared with {comparison.other}: {len(f)} features")
    if "n_beyond" in f.columns:
        differing = f[f["n_beyond"] > 0]
        print(f"  features beyond tolerance: {len(differing)}")
        for r in differing.sort_values("max_rel_diff", ascending=False).head(10).itertuples():
            print(f"    {r.extractor_name} {r.feature}: max rel diff {r.max_rel_diff:.3g} ({r.n_beyond} values beyond)")
    for r in comparison.speed.itertuples():
        print(f"  speed {r.extractor_name} ({r.convention}): {r.seconds_median:.4f} s vs {r.baseline_seconds_median:.4f} s per task (x{r.ratio:.2f})")
    for r in comparison.stability.itertuples():
        print(f"  {r.metric}: {r.value:.4f} vs {r.other:.4f}")


def run(args: argparse.Namespace) -> int:
    from radrepro.errors import RegressionError
    from radrepro.suites import load_suite, run_suite
    from radrepro.tracking.runs import ui_command

    suite = load_suite(args.suite)
    summary = run_suite(
        suite, runs_dir=args.out, tracking_uri=args.tracking_uri, scheduler=args.scheduler, workers=args.workers,
        processes=not args.threads, progress=not args.no_progress, fresh=args.fresh, baseline=args.baseline,
        compare_to=args.compare_to,
    )
    print(f"suite {summary.suite}: {summary.n_cases} cases, {summary.n_failed} failed, "
          f"{summary.n_features} features, {summary.seconds:.1f} s")
    print(f"tasks:      {summary.n_tasks} ({summary.n_computed} computed, {summary.n_cached} already done), "
          f"extraction {summary.extraction_seconds:.1f} s")
    for note in summary.notes:
        print(f"note:       {note}")
    for name in ("ibsi.match", "ibsi.total", "stability.frac_excellent", "harmonisation.site_balanced_accuracy.after"):
        if name in summary.metrics:
            print(f"{name}: {summary.metrics[name]:.4g}")
    print(f"results:    {summary.results_path}")
    print(f"status:     {summary.status_path}")
    print(f"MLflow run: {summary.run_id} in {summary.tracking_uri}")
    print(f"open it:    {ui_command(summary.tracking_uri)}")
    if not args.no_report:
        from radrepro.reports import build_report

        report = build_report(summary.run_id, args.report_dir, summary.tracking_uri)
        print(f"report:     {report / 'report.html'}")
    if summary.comparison is not None:
        _print_comparison(summary.comparison)
    if summary.gate is not None:
        print(summary.gate.text(), end="")
        if not summary.gate.passed:
            raise RegressionError(f"suite {summary.suite}: {len(summary.gate.reasons)} regression(s) against {summary.gate.baseline}",
                                  "see the reasons above and gate.txt in the run's artifacts")
    return 0
