"""``radrepro harmonise FEATURES.csv --batch COLUMN``: ComBat on a wide feature table."""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path


def add_parser(sub) -> None:
    p = sub.add_parser(
        "harmonise",
        help="harmonise features across batches (sites, scanners) with ComBat",
        description="ComBat harmonisation (Johnson et al. 2007, as R's sva/neuroCombat) of a wide CSV: one row per "
        "sample, one column per feature plus metadata columns. Numeric columns other than the batch, the covariates "
        "and --keep are harmonised; text columns are passed through. Output: the same table with the features "
        "harmonised (stdout unless -o).",
    )
    p.add_argument("features", type=Path, help="wide CSV: one row per sample")
    p.add_argument("--batch", required=True, metavar="COLUMN", help="column with the batch (site/scanner) of every sample")
    p.add_argument("--covariates", default="", metavar="A,B", help="comma-separated columns whose effects are kept (e.g. biology, age)")
    p.add_argument("--reference", metavar="BATCH", help="reference batch: left unchanged, the others are moved to it")
    p.add_argument("--mcombat", action="store_true", help="M-ComBat: move every batch, the reference included, to the reference's location and scale")
    prior = p.add_mutually_exclusive_group()
    prior.add_argument("--parametric", dest="parametric", action="store_true", default=True, help="parametric empirical Bayes priors (default)")
    prior.add_argument("--nonparametric", dest="parametric", action="store_false", help="non-parametric empirical Bayes priors (needs many features)")
    p.add_argument("--mean-only", action="store_true", help="adjust the location only, not the scale")
    p.add_argument("--no-eb", action="store_true", help="no empirical Bayes: location/scale per feature on its own")
    p.add_argument("--keep", default="", metavar="A,B", help="comma-separated numeric columns to pass through unchanged (ids, outcomes)")
    p.add_argument("--diagnostics", type=Path, metavar="CSV", help="also write before/after diagnostics (batch tests, site classifier) to this CSV")
    p.add_argument("-o", "--output", type=Path, help="CSV file to write (default: stdout)")
    p.set_defaults(func=run)


def _columns(text: str) -> list[str]:
    return [c.strip() for c in text.split(",") if c.strip()]


def run(args: argparse.Namespace) -> int:
    import pandas as pd

    from radrepro.errors import InputError
    from radrepro.harmonisation import ComBat, HarmonisationWarning

    if not args.features.is_file():
        raise InputError(f"features file {args.features} does not exist", "pass a wide CSV with one row per sample")
    try:
        table = pd.read_csv(args.features, dtype={args.batch: str})
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"features file {args.features} cannot be read as CSV ({exc})", "pass a comma-separated table with a header row") from exc
    covariates = _columns(args.covariates)
    keep = _columns(args.keep)
    named = [args.batch, *covariates, *keep]
    missing = [c for c in named if c not in table.columns]
    if missing:
        raise InputError(f"{args.features} has no column(s) {', '.join(missing)}", "columns are: " + ", ".join(map(str, table.columns)))
    features = [
        c for c in table.columns
        if c not in named and pd.api.types.is_numeric_dtype(table[c]) and not pd.api.types.is_bool_dtype(table[c])
    ]
    if not features:
        raise InputError(f"{args.features} has no numeric feature columns besides the batch and covariates", "check the --batch/--covariates/--keep columns")
    combat = ComBat(
        parametric=args.parametric,
        mean_only=args.mean_only,
        eb=not args.no_eb,
        ref_batch=args.reference,
        mcombat=args.mcombat,
    )
    before = table[features]
    cov = table[covariates] if covariates else None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", HarmonisationWarning)
        after = combat.fit_transform(before, table[args.batch], cov)
    for w in caught:
        print(f"radrepro harmonise: warning: {w.message}", file=sys.stderr)
    out = table.copy()
    out[features] = after
    if args.diagnostics:
        from radrepro.harmonisation import harmonisation_diagnostics

        diag = harmonisation_diagnostics(before, after, table[args.batch], cov)
        args.diagnostics.parent.mkdir(parents=True, exist_ok=True)
        diag.to_csv(args.diagnostics, float_format="%.17g")
        for metric, row in diag.iterrows():
            print(f"{metric}: {row['before']:.3g} -> {row['after']:.3g}", file=sys.stderr)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        out.to_csv(args.output, index=False, float_format="%.17g")
        print(
            f"{len(features)} features of {len(out)} samples in {len(combat.batches_)} batches harmonised "
            f"({int(combat.passthrough_.sum())} passed through unchanged), written to {args.output}",
            file=sys.stderr,
        )
    else:
        out.to_csv(sys.stdout, index=False, float_format="%.17g")
    return 0
