"""``radrepro compare``: two extractors, or two runs, feature by feature; speed per case."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

EPILOG = """\
A side (--a, --b) is a results file (results.parquet of a run, or a CSV of the same columns), an
MLflow run logged by `radrepro run` (run:RUN_ID, or the bare 32-character run id; store from
--tracking-uri), or an extractor to run now on --data: radrepro (IBSI convention),
radrepro:pyradiomics, pyradiomics, mirp, nyxus. Features line up by name, or through the IBSI <->
pyradiomics crosswalk.

examples:
  radrepro compare --a pyradiomics --b radrepro:pyradiomics --data ../shared/data/pyradiomics/data --params Params.yaml
  radrepro compare --a radrepro --b pyradiomics --data DIR --cases lung1,brain1 -o compare.csv
  radrepro compare --a runs/old/results.parquet --b runs/new/results.parquet --fail-above 1e-6
  radrepro compare --a run:0f3c... --b run:9ab1... --tracking-uri sqlite:///runs/mlflow.db
"""


def add_parser(sub) -> None:
    p = sub.add_parser(
        "compare",
        help="compare two extractors or two runs feature by feature",
        description="Compare two extractors (run now on the same cases) or two results tables: per feature the "
        "number of cases, largest absolute and relative difference, cases beyond the tolerance and a verdict; "
        "per case the seconds of each side and their ratio A/B.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--a", required=True, metavar="SIDE", help="results file or extractor (see below)")
    p.add_argument("--b", required=True, metavar="SIDE", help="results file or extractor (see below)")
    p.add_argument("--a-extractor", metavar="NAME", help="extractor to take from a results file A that holds several")
    p.add_argument("--b-extractor", metavar="NAME", help="extractor to take from a results file B that holds several")
    p.add_argument("--tracking-uri", metavar="URI", help="MLflow store of run:RUN_ID sides (default: $MLFLOW_TRACKING_URI, "
                   "else runs/mlflow.db)")
    p.add_argument("--data", help="folder of <case>_image/<case>_label pairs, or a dataset card (for extractors run now)")
    p.add_argument("--cases", help="comma-separated case ids to use from --data (default: all)")
    p.add_argument("--params", "--settings", dest="params",
                   help="settings: radrepro TOML/YAML or a pyradiomics parameter YAML (pyradiomics reads it as is)")
    p.add_argument("--rtol", type=float, default=1e-6, help="relative tolerance of the verdict (default 1e-6)")
    p.add_argument("--atol", type=float, default=0.0, help="absolute tolerance of the verdict (default 0)")
    p.add_argument("--fail-above", type=float, nargs="?", const=-1.0, default=None, metavar="REL",
                   help="exit 1 when a feature's largest relative difference exceeds REL (no value: --rtol)")
    p.add_argument("-o", "--output", type=Path, help="CSV of the per-feature table; the per-case speed goes to "
                   "<name>_speed.csv beside it")
    p.add_argument("--save-results", type=Path, metavar="DIR", help="also write the results of extractors run now "
                   "(a.parquet, b.parquet) to DIR")
    p.add_argument("--top", type=int, default=None, metavar="N", help="show only the N worst features on screen")
    p.add_argument("--no-warmup", action="store_true", help="time the first case too (JIT compilation and imports included)")
    p.set_defaults(func=run)


def _is_results_file(side: str) -> bool:
    return Path(side).suffix.lower() in (".parquet", ".csv") or Path(side).is_file()


def _run_id(side: str) -> str | None:
    """The MLflow run id of a ``run:RUN_ID`` side (or a bare 32-hex run id), else None."""
    import re

    if side.startswith("run:"):
        return side[4:]
    return side if re.fullmatch(r"[0-9a-f]{32}", side) else None


def _is_recorded(side: str) -> bool:
    return _is_results_file(side) or _run_id(side) is not None


def _side(args, side: str, extractor_name: str | None, cases, settings, where: str):
    from radrepro.compare import parse_extractor, read_side, run_extractor
    from radrepro.errors import InputError

    if _is_results_file(side):
        return read_side(side, extractor_name, where)
    if (run_id := _run_id(side)) is not None:
        from radrepro.compare import select_extractor
        from radrepro.tracking.runs import load_reference, resolve_tracking_uri

        reference = load_reference(run_id, resolve_tracking_uri(args.tracking_uri, Path("runs")), suite="")
        return select_extractor(reference.results, extractor_name, where)
    if cases is None:
        raise InputError(f"{where} is the extractor '{side}' but no --data was given", "pass --data DIR or a dataset card")
    extractor = parse_extractor(side, args.params)
    print(f"running {extractor.label} ({extractor.convention}) on {len(cases)} cases ...", file=sys.stderr)
    results, status = run_extractor(extractor, cases, settings, warmup=not args.no_warmup)
    for _, row in status[status["status"] == "failed"].iterrows():
        print(f"  {row['case']}: failed: {row['error']}", file=sys.stderr)
    if results.empty:
        raise InputError(f"{extractor.label} failed on every case", "see the reasons above")
    if args.save_results:
        from radrepro.results import write_results

        write_results(results, args.save_results / f"{where[-1].lower()}.parquet")
    return results


def run(args: argparse.Namespace) -> int:
    from radrepro.compare import compare, load_data
    from radrepro.settings import load_settings

    settings = load_settings(args.params)
    names = [c.strip() for c in args.cases.split(",") if c.strip()] if args.cases else None
    needs_data = not (_is_recorded(args.a) and _is_recorded(args.b))
    cases = load_data(args.data, names) if (needs_data and args.data) else None
    a = _side(args, args.a, args.a_extractor, cases, settings, "side A")
    b = _side(args, args.b, args.b_extractor, cases, settings, "side B")
    result = compare(a, b, rtol=args.rtol, atol=args.atol, force2d=settings.texture_dims == ("2D",))
    _print(result, args.top)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        result.features.to_csv(args.output, index=False, float_format="%.6g")
        speed_path = args.output.with_name(args.output.stem + "_speed.csv")
        result.speed.to_csv(speed_path, index=False, float_format="%.6g")
        print(f"per-feature table written to {args.output}, per-case speed to {speed_path}", file=sys.stderr)
    if args.fail_above is not None:
        limit = args.rtol if args.fail_above < 0 else args.fail_above
        worst = result.matched[result.matched["max_rel_diff"] > limit]
        if len(worst):
            print(f"radrepro compare: {len(worst)} features differ by more than {limit:g} relative "
                  f"(worst: {worst.iloc[0]['feature']}, {worst.iloc[0]['max_rel_diff']:.3g})", file=sys.stderr)
            return 1
    return 0


def _fmt(x: float) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{x:.3g}"


def _print(result, top: int | None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console() if sys.stdout.isatty() else Console(width=160)
    matched = result.matched
    shown = matched if top is None else matched.head(top)
    table = Table(title=f"A = {result.a}   B = {result.b}", title_justify="left")
    for col, justify in (("feature", "left"), ("IBSI", "left"), ("relation", "left"),
                         ("n", "right"), ("beyond", "right"), ("max abs", "right"), ("max rel", "right"),
                         ("median rel", "right"), ("verdict", "left")):
        table.add_column(col, justify=justify)
    for _, r in shown.iterrows():
        style = "green" if r["verdict"] == "agree" else "red"
        table.add_row(str(r["feature"]) if r["feature"] == r["a_feature"] else f"{r['feature']} ({r['a_feature']})",
                      str(r["ibsi_id"]),
                      str(r["relation"]), str(r["n_cases"]), str(r["n_beyond"]), _fmt(r["max_abs_diff"]),
                      _fmt(r["max_rel_diff"]), _fmt(r["median_rel_diff"]), f"[{style}]{r['verdict']}[/{style}]")
    console.print(table)
    speed = result.speed
    if speed["ratio"].notna().any():
        st = Table(title="seconds per case (ratio = A / B)", title_justify="left")
        for col in ("case", "A", "B", "ratio"):
            st.add_column(col, justify="left" if col == "case" else "right")
        for _, r in speed.iterrows():
            st.add_row(str(r["case"]), _fmt(r["seconds_a"]), _fmt(r["seconds_b"]), _fmt(r["ratio"]))
        console.print(st)
    only_a = int((result.features["verdict"] == "only in a").sum())
    only_b = int((result.features["verdict"] == "only in b").sum())
    console.print(result.summary() + (f"; {only_a} features only in A, {only_b} only in B" if only_a or only_b else ""))
