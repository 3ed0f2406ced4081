"""``radrepro stability RESULTS.parquet [-o OUT.csv]``: feature stability over perturbations."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_parser(sub) -> None:
    p = sub.add_parser(
        "stability",
        help="ICC / CCC / wCV of every feature over the perturbations of a results table",
        description="Feature stability from a long results table (radrepro run's results.parquet, or a CSV with the "
        "columns case, perturbation, feature, value): the rows of one case under different perturbations are the "
        "repeated measurements. Output: one row per feature with ICC(1,1), ICC(A,1), ICC(C,1) and their 95%% "
        "confidence intervals, Lin's overall CCC, within-subject CV and repeatability coefficient, then the chosen "
        "ICC, its Koo & Li rating, the family and why a value is missing (stdout unless -o). A per-family summary "
        "of stable features goes to stderr.",
    )
    p.add_argument("results", type=Path, help="long results table (Parquet or CSV)")
    p.add_argument("-o", "--output", type=Path, help="CSV file to write (default: stdout)")
    p.add_argument("--icc", default="A,1", choices=["A,1", "C,1", "1,1", "2,1", "3,1"],
                   help="ICC form behind the icc/icc_low/rating columns and the summary (default A,1)")
    p.add_argument("--extractor", metavar="NAME@VERSION", help="the extractor to analyse when the table holds several")
    p.add_argument("--perturbations", metavar="ID,ID", default="", help="comma-separated perturbation ids to use (default: all)")
    p.add_argument("--summary", type=Path, metavar="CSV", help="also write the per-family summary to this CSV")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from radrepro.results import read_results
    from radrepro.stability import family_summary, stability_table

    results = read_results(args.results)
    wanted = [p.strip() for p in args.perturbations.split(",") if p.strip()] or None
    table = stability_table(results, icc=args.icc, extractor=args.extractor, perturbations=wanted)
    summary = family_summary(table)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(args.output, index=False)
    else:
        table.to_csv(sys.stdout, index=False)
    if args.summary:
        args.summary.parent.mkdir(parents=True, exist_ok=True)
        summary.to_csv(args.summary)
    n_cases = int(table["n_cases"].max()) if len(table) else 0
    print(f"stability: {len(table)} features, {n_cases} cases x {int(table['n_perturbations'].iloc[0]) if len(table) else 0} "
          f"perturbations, ICC({args.icc}); fraction with lower 95% bound > 0.9 (excellent) / > 0.75 (good):",
          file=sys.stderr)
    for fam, row in summary.iterrows():
        print(f"  {fam:<6} {int(row['n_defined']):>4}/{int(row['n_features']):<4} excellent {row['excellent']:.2f}  "
              f"good {row['good']:.2f}", file=sys.stderr)
    return 0
