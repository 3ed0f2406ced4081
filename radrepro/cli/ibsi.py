"""``radrepro ibsi``: the IBSI compliance check (IBSI 1 by default)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path


def add_parser(sub) -> None:
    p = sub.add_parser(
        "ibsi",
        help="check radrepro's features against the IBSI reference values",
        description="Run the IBSI compliance check: IBSI 1 computes every feature on the digital phantom "
        "and on the CT phantom in configurations A-E and scores each value with the reference workbook's "
        "rule. IBSI 2 (--phase 2) compares the 33 filter response maps of the digital phantoms voxel by voxel "
        "(1 percent of the reference range) and scores the filtered CT phantom's statistics in configurations A and B. "
        "Prints a summary; exits 0 only when every standardised reference value matches.",
    )
    p.add_argument("--phase", type=int, choices=[1, 2], default=1, help="IBSI phase (default: 1)")
    p.add_argument("--dataset", default="all",
                   help="data set to check: phantom, A, B, C, D, E (phase 1); phase1, A, B (phase 2: "
                   "response maps, configurations A and B); or all (default: all)")
    p.add_argument("--data", type=Path, default=None,
                   help="folder with the IBSI data (ibsi1/...); default: 'ibsi' in radrepro's data cache "
                   "($RADREPRO_DATA or the user cache dir)")
    p.add_argument("-o", "--output", type=Path, default=None,
                   help="CSV file with one row per reference value: dataset,tag,value,reference,tolerance,verdict")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from radrepro.ibsi import phase_module

    module = phase_module(args.phase)
    t0 = time.perf_counter()
    result = module.run(args.data, args.dataset)
    seconds = time.perf_counter() - t0
    module.print_summary(result)
    counts = result.counts(["dataset"])
    for ds, row in counts.iterrows():
        print(f"{ds}: {row['match']}/{row['total']} standardised values match "
              f"({row['partial match']} partial, {row['no match']} no match, {row['missing']} missing), "
              f"{result.seconds.get(ds, float('nan')):.1f} s")
    if args.output:
        path = result.write_csv(args.output)
        print(f"{len(result.table)} rows written to {path}")
    verdict = "PASS" if result.passed else "FAIL"
    print(f"IBSI {args.phase} compliance: {verdict} ({seconds:.1f} s)")
    return 0 if result.passed else 1
