"""``radrepro radiogenomics RESULTS MOLECULAR -o OUT_DIR``: which radiomic–molecular associations survive."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_parser(sub) -> None:
    p = sub.add_parser(
        "radiogenomics",
        help="associate features with molecular variables; see which associations survive stability and site",
        description="Tests every feature of a results table against every variable of a per-case molecular table "
        "(Spearman, Mann-Whitney or Kruskal-Wallis by variable type; Benjamini-Hochberg FDR), then again on stable "
        "features only, after in-fold ComBat across sites and with site as a covariate. Writes the tables, a "
        "volcano figure and the surviving associations to OUT_DIR and prints one verdict per variable.",
    )
    p.add_argument("results", type=Path, help="results table of a run (results.parquet)")
    p.add_argument("molecular", type=Path, help="molecular table (CSV or Parquet), one row per case")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="DIR", help="folder for the tables and figures")
    p.add_argument("--id-column", default="case", help="column of the molecular table with the case ids (default: case)")
    p.add_argument("--site", metavar="COLUMN", help="column (of the molecular or --metadata table) with each case's site or scanner")
    p.add_argument("--metadata", type=Path, metavar="CSV", help="table with the --site column, keyed like the molecular table")
    p.add_argument("--variables", metavar="A,B", help="molecular variables to test (default: every column but the id and site)")
    p.add_argument("--stability", type=Path, metavar="CSV", help="stability table (radrepro stability) for the 'stable' stage "
                   "(default: computed from the results when they hold perturbations)")
    p.add_argument("--icc-threshold", type=float, default=0.75, help="stable = ICC lower 95%% bound above this (default 0.75)")
    p.add_argument("--extractor", help="extractor (name@version) when the results hold several")
    p.add_argument("--fdr", type=float, default=0.05, help="false discovery rate (default 0.05)")
    p.add_argument("--seed", type=int, default=0, help="seed of the folds (default 0)")
    p.add_argument("--no-predict", action="store_true", help="skip the cross-validated prediction of binary variables")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import pandas as pd

    from radrepro.errors import InputError
    from radrepro.radiogenomics import features_from_results, radiogenomics
    from radrepro.radiogenomics.molecular import read_molecular
    from radrepro.results import read_results

    results = read_results(args.results)
    features = features_from_results(results, extractor=args.extractor)
    molecular = read_molecular(args.molecular, id_column=args.id_column)
    site = None
    if args.site:
        source = read_molecular(args.metadata, id_column=args.id_column) if args.metadata else molecular
        if args.site not in source.columns:
            raise InputError(f"no column '{args.site}' in {args.metadata or args.molecular}",
                             "name the site column with --site (columns: " + ", ".join(map(str, source.columns[:12])) + ")")
        site = source[args.site]
        molecular = molecular.drop(columns=[args.site], errors="ignore")
    if args.variables:
        wanted = [v.strip() for v in args.variables.split(",") if v.strip()]
        missing = [v for v in wanted if v not in molecular.columns]
        if missing:
            raise InputError(f"no variable(s) {', '.join(missing)} in {args.molecular}",
                             "variables are: " + ", ".join(map(str, molecular.columns[:20])))
        molecular = molecular[wanted]
    stable = None
    if args.stability:
        from radrepro.models import stable_features

        if not args.stability.is_file():
            raise InputError(f"stability table {args.stability} does not exist", "write one with `radrepro stability RESULTS -o FILE.csv`")
        stable = stable_features(pd.read_csv(args.stability), threshold=args.icc_threshold)
    elif results["perturbation"].nunique() > 1:  # a run with perturbations: its own stability
        from radrepro.models import stable_features
        from radrepro.stability import stability_table

        stable = stable_features(stability_table(results, extractor=args.extractor), threshold=args.icc_threshold)
    result = radiogenomics(features, molecular, site=site, stable_features=stable, fdr=args.fdr, seed=args.seed,
                           predict=not args.no_predict)
    for line in result.problems:
        print(f"radrepro radiogenomics: warning: {line}", file=sys.stderr)
    paths = result.write(args.output)
    _print_summary(result)
    print(f"tables and figures written to {args.output} ({len(paths)} files)", file=sys.stderr)
    return 0


def _print_summary(result) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Radiogenomics: significant associations per stage (q < %g)" % result.fdr)
    stages = [c.removeprefix("significant_") for c in result.summary.columns if c.startswith("significant_")]
    for col in ("variable", "kind", *stages, "verdict"):
        table.add_column(col)
    for _, row in result.summary.iterrows():
        table.add_row(row["variable"], row["kind"],
                      *[f"{row[f'significant_{s}']}/{row[f'tested_{s}']}" for s in stages], row["verdict"])
    Console(width=120).print(table)
