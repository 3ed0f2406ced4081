"""Summarise a pytest-benchmark JSON of the speed suite: ratio tables, printed and logged to MLflow.

Usage (from the repository root)::

    .venv/bin/python benchmarks/summary.py                      # newest JSON under .benchmarks/
    .venv/bin/python benchmarks/summary.py runs/bench.json --markdown
    .venv/bin/python benchmarks/summary.py runs/bench.json --tracking-uri sqlite:///$PWD/runs/mlflow.db
    .venv/bin/python benchmarks/summary.py runs/bench.json --no-mlflow

Reads the JSON written by ``--benchmark-json PATH`` or ``--benchmark-autosave`` (``.benchmarks/<machine>/NNNN_*.json``)
and prints, from the benchmarks' ``extra_info`` (see ``benchmarks/speed/``):

- per case: median seconds of every extractor, the ratio radrepro / pyradiomics (time) and the
  speed-up pyradiomics / radrepro for both conventions (target: pyradiomics convention >= 20x), and
  the IBSI convention against every peer that ran;
- per pyradiomics feature class and case: the same ratio for one class at a time;
- per IBSI family: median time at each ROI size (32 grey levels), the log-log slope of time against
  ROI voxels (1 = linear; fitted over 1e4-1e6, 1e5-1e6 and all sizes) and the cost of 256 vs 16 grey levels;
- start-up: import times, JIT compilation (empty cache) and cache loading; Dask 1 vs 2 workers.

Then logs one MLflow run to experiment ``radrepro-benchmarks`` (default store
``sqlite:///<repo>/runs/mlflow.db``): the machine and command as params, every ratio and median as
a metric, the tables (Markdown) and the JSON as artifacts.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import statistics
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CASES = ("lung2", "lung1", "brain1", "ibsi_ct")
PEERS = ("mirp", "nyxus", "flash-radiomics", "fastrad")
TARGET_SPEEDUP = 20.0
# Issue 10's measurements of the peers on the project's 2-core machine, single thread, median seconds
# per case (lung2, lung1, brain1, ibsi_ct). Peers are compared through their speed-up over pyradiomics
# 3.0.1 measured in the same run as theirs, against radrepro's speed-up over pyradiomics in this run.
ISSUE_SECONDS = {
    "pyradiomics": (1.69, 0.81, 0.24, 2.87),
    "flash-radiomics": (1.17, 0.77, 0.17, 0.67),
    "nyxus": (0.79, 0.58, 0.060, 0.37),
    "fastrad": (10.3, 3.4, 1.4, 95.0),
    "mirp": (35.0, 9.0, 11.8, 15.0),
}


def newest_json(root: Path = ROOT / ".benchmarks") -> Path:
    files = sorted(root.glob("**/*.json"), key=lambda p: p.stat().st_mtime)
    if not files:
        sys.exit(f"no benchmark JSON under {root}; run the suite with --benchmark-autosave or pass a file")
    return files[-1]


def _median(b: dict) -> float:
    return float(b["stats"]["median"])


def _fmt_s(x: float | None) -> str:
    if x is None or not math.isfinite(x):
        return "-"
    if x >= 1:
        return f"{x:.2f} s"
    if x >= 1e-3:
        return f"{x * 1e3:.1f} ms"
    return f"{x * 1e6:.0f} us"


def _fmt_x(x: float | None) -> str:
    return "-" if x is None or not math.isfinite(x) else f"{x:.1f}x"


def _slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of log(time) against log(voxels)."""
    if len(points) < 2:
        return math.nan
    xs = [math.log(v) for v, _ in points]
    ys = [math.log(t) for _, t in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den if den else math.nan


def table(header: list[str], rows: list[list[str]], markdown: bool) -> str:
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(lines)
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join([fmt.format(*header), fmt.format(*("-" * w for w in widths))] + [fmt.format(*r) for r in rows])


def _issue_peers_table(case_t: dict[tuple[str, str], float], metrics: dict[str, float], markdown: bool) -> str:
    """Both conventions' speed-ups over pyradiomics against those of issue 10's peers (:data:`ISSUE_SECONDS`)."""
    rows = []
    for k, c in enumerate(CASES):
        py = case_t.get((c, "pyradiomics"))
        if not py:
            continue
        ref = ISSUE_SECONDS["pyradiomics"][k]
        peer_sp = {p: ref / t[k] for p, t in ISSUE_SECONDS.items() if p != "pyradiomics"}
        best = max(peer_sp, key=peer_sp.get)
        row = [c, f"{best} {_fmt_x(peer_sp[best])}"]
        for conv, target in (("radrepro-ibsi", peer_sp[best]), ("radrepro-pyradiomics", TARGET_SPEEDUP)):
            t = case_t.get((c, conv))
            sp = py / t if t else math.nan
            row.append(f"{_fmt_x(sp)} ({'met' if sp > target else 'not met'})" if math.isfinite(sp) else "-")
            if math.isfinite(sp):
                metrics[f"case.{c}.{conv}.over_issue_best_peer"] = sp / peer_sp[best]
        rows.append(row)
    return ("Against issue 10's peers (their speed-ups over pyradiomics 3.0.1 measured there; radrepro's over "
            "pyradiomics measured here): targets IBSI convention faster than the fastest peer, pyradiomics "
            "convention >= 20x\n\n"
            + table(["case", "fastest peer in issue 10 (speed-up)", "radrepro:ibsi speed-up",
                     "radrepro:pyradiomics speed-up"], rows, markdown))


def summarise(data: dict, markdown: bool = False) -> tuple[str, dict[str, float]]:
    """The report text and the metrics to log."""
    benches = data["benchmarks"]
    kind = defaultdict(list)
    for b in benches:
        kind[b.get("extra_info", {}).get("kind", "other")].append(b)
    metrics: dict[str, float] = {}
    parts: list[str] = []

    # -- whole cases ------------------------------------------------------------------------------
    case_t: dict[tuple[str, str], float] = {}
    voxels: dict[str, int] = {}
    for b in kind["case"]:
        e = b["extra_info"]
        own = [x for x in e.get("peer_seconds") or [] if x is not None]
        case_t[e["case"], e["extractor"]] = statistics.median(own) if own else _median(b)
        voxels[e["case"]] = e.get("roi_voxels")
    if case_t:
        peers = [p for p in PEERS if any((c, p) in case_t for c in CASES)]
        header = ["case", "ROI voxels", "pyradiomics", "radrepro:pyradiomics", "radrepro:ibsi", *peers,
                  "radrepro:pyradiomics / pyradiomics", "speed-up pyradiomics convention", "speed-up IBSI convention"]
        if peers:
            header.append("IBSI convention vs fastest peer")
        rows = []
        for c in [c for c in CASES if any(k[0] == c for k in case_t)]:
            py, rp, ri = (case_t.get((c, x)) for x in ("pyradiomics", "radrepro-pyradiomics", "radrepro-ibsi"))
            row = [c, str(voxels.get(c, "")), _fmt_s(py), _fmt_s(rp), _fmt_s(ri),
                   *(_fmt_s(case_t.get((c, p))) for p in peers)]
            ratio = rp / py if py and rp else math.nan
            sp, si = (py / rp if py and rp else math.nan), (py / ri if py and ri else math.nan)
            row += [f"{ratio:.3f}" if math.isfinite(ratio) else "-",
                    _fmt_x(sp) + (f" (target 20x: {'met' if sp >= TARGET_SPEEDUP else 'not met'})"
                                  if math.isfinite(sp) else ""),
                    _fmt_x(si)]
            peer_times = [case_t[(c, p)] for p in peers if (c, p) in case_t]
            if peers:
                row.append(_fmt_x(min(peer_times) / ri) if peer_times and ri else "-")
            rows.append(row)
            for x in ("pyradiomics", "radrepro-pyradiomics", "radrepro-ibsi", *peers):
                if (c, x) in case_t:
                    metrics[f"case.{c}.{x}.median_s"] = case_t[(c, x)]
            if math.isfinite(sp):
                metrics[f"case.{c}.speedup_pyradiomics_convention"] = sp
                metrics[f"case.{c}.ratio_radrepro_pyradiomics"] = ratio
            if math.isfinite(si):
                metrics[f"case.{c}.speedup_ibsi_convention"] = si
        parts.append("Whole-case extraction, median per case (speed-up = pyradiomics / radrepro; peers: their "
                     "own call; last column: fastest peer / radrepro IBSI convention)\n\n"
                     + table(header, rows, markdown))
        parts.append(_issue_peers_table(case_t, metrics, markdown))

    # -- one pyradiomics class at a time ----------------------------------------------------------
    cls_t: dict[tuple[str, str, str], float] = {}
    for b in kind["class"]:
        e = b["extra_info"]
        cls_t[e["family"], e["case"], e["extractor"]] = _median(b)
    if cls_t:
        classes = list(dict.fromkeys(k[0] for k in cls_t))
        cases = [c for c in CASES if any(k[1] == c for k in cls_t)]
        rows = []
        for cl in classes:
            row = [cl]
            for c in cases:
                py, rp = cls_t.get((cl, c, "pyradiomics")), cls_t.get((cl, c, "radrepro-pyradiomics"))
                sp = py / rp if py and rp else math.nan
                row.append(f"{_fmt_s(rp)} / {_fmt_s(py)} = {rp / py:.3f} ({_fmt_x(sp)})" if math.isfinite(sp) else "-")
                if math.isfinite(sp):
                    metrics[f"class.{cl}.{c}.speedup"] = sp
                    metrics[f"class.{cl}.{c}.ratio_radrepro_pyradiomics"] = rp / py
            rows.append(row)
        parts.append("Per pyradiomics feature class (whole pipeline for one class): radrepro:pyradiomics / "
                     "pyradiomics = time ratio (speed-up)\n\n" + table(["class", *cases], rows, markdown))

    # -- family kernel scaling --------------------------------------------------------------------
    fam: dict[str, dict[tuple[int, int], tuple[float, int]]] = defaultdict(dict)
    for b in kind["family_scaling"]:
        e = b["extra_info"]
        fam[e["family"]][e["target_voxels"], e["levels"]] = (_median(b), e["roi_voxels"])
    if fam:
        sizes = sorted({s for f in fam.values() for s, _ in f})
        rows = []
        for f, pts in fam.items():
            lv = 32 if any(l == 32 for _, l in pts) else sorted({l for _, l in pts})[0]
            series = [(pts[(s, lv)][1], pts[(s, lv)][0]) for s in sizes if (s, lv) in pts]
            slope_all = _slope(series)
            slope_big = _slope([p for p in series if p[0] >= 5_000])
            slope_top = _slope([p for p in series if p[0] >= 50_000])
            big = max((s for s, _ in pts), default=None)
            mid = 100_000 if any(s == 100_000 for s, _ in pts) else big
            lo, hi = pts.get((mid, 16)), pts.get((mid, 256))
            level_cost = hi[0] / lo[0] if lo and hi else math.nan
            rows.append([f, *(_fmt_s(pts[(s, lv)][0]) if (s, lv) in pts else "-" for s in sizes),
                         f"{slope_big:.2f}", f"{slope_top:.2f}", f"{slope_all:.2f}",
                         f"{level_cost:.2f}" if math.isfinite(level_cost) else "-"])
            for name, v in (("slope_1e4_1e6", slope_big), ("slope_1e5_1e6", slope_top), ("slope_all", slope_all),
                            ("levels_256_vs_16", level_cost)):
                if math.isfinite(v):
                    metrics[f"family.{f}.{name}"] = v
            for s in sizes:
                if (s, lv) in pts:
                    metrics[f"family.{f}.{s:.0e}.median_s".replace("+0", "")] = pts[(s, lv)][0]
        header = ["family", *(f"{s:.0e} voxels".replace("+0", "") for s in sizes),
                  "slope 1e4-1e6", "slope 1e5-1e6", "slope all",
                  "256 / 16 levels at 1e5"]
        parts.append("IBSI family kernels on synthetic ROIs (median at 32 grey levels; slope of log time vs "
                     "log ROI voxels, 1 = linear)\n\n" + table(header, rows, markdown))

    # -- start-up and Dask ------------------------------------------------------------------------
    rows = []
    for b in kind["import"]:
        e = b["extra_info"]
        v = e.get("inner_median", _median(b))
        rows.append([f"import {e['module']}", _fmt_s(v), "fresh process; target < 1 s for radrepro"])
        metrics[f"startup.import.{e['module']}_s"] = v
    for b in kind["jit"]:
        e = b["extra_info"]
        med, comp = e.get("median", {}), e.get("compile_seconds", {})
        for conv in ("ibsi", "pyradiomics"):
            if f"{conv}_first" in med:
                rows.append([f"JIT {e['cache']}: first {conv} extraction", _fmt_s(med[f"{conv}_first"]),
                             f"second call {_fmt_s(med[f'{conv}_second'])}; compile/load {_fmt_s(comp.get(conv))}"])
                metrics[f"startup.jit_{e['cache']}.{conv}_first_s"] = med[f"{conv}_first"]
        rows.append([f"JIT {e['cache']}: whole fresh process", _fmt_s(_median(b)), "import + both conventions twice"])
        metrics[f"startup.jit_{e['cache']}.process_s"] = _median(b)
    dask = {b["extra_info"]["workers"]: b for b in kind["dask"]}
    for w, b in sorted(dask.items()):
        ext = b["extra_info"].get("extraction_seconds") or [math.nan]
        inner = b["extra_info"].get("task_seconds_median")
        rows.append([f"Dask suite, {w} worker(s)", _fmt_s(_median(b)),
                     f"of which tasks {_fmt_s(statistics.median(ext))}"
                     + (f"; median task inside its worker {_fmt_s(inner)}" if inner is not None else "")])
        if inner is not None:
            metrics[f"dask.workers{w}.task_median_s"] = inner
        metrics[f"dask.workers{w}.run_s"] = _median(b)
        metrics[f"dask.workers{w}.extraction_s"] = statistics.median(ext)
    if 1 in dask and 2 in dask:
        sp = _median(dask[1]) / _median(dask[2])
        e1, e2 = (statistics.median(dask[w]["extra_info"].get("extraction_seconds") or [math.nan]) for w in (1, 2))
        rows.append(["Dask speed-up 1 -> 2 workers", _fmt_x(sp), f"tasks alone {_fmt_x(e1 / e2)}"])
        metrics["dask.speedup_run"] = sp
        if math.isfinite(e1 / e2):
            metrics["dask.speedup_extraction"] = e1 / e2
    if rows:
        parts.append("Start-up and scaling\n\n" + table(["measurement", "median", "note"], rows, markdown))

    # -- any other benchmark that names its extractor (e.g. test_image_types_speed.py) --------------
    groups: dict[str, dict[str, float]] = defaultdict(dict)
    for b in kind["other"]:
        e = b.get("extra_info", {})
        if "extractor" in e:
            key = b.get("group") or b["name"].split("[")[0]
            if e.get("case") is not None:
                key = f"{key} {e['case']}"
            groups[key][e["extractor"]] = _median(b)
    rows = []
    for g, times in groups.items():
        py = times.get("pyradiomics")
        for x, t in times.items():
            if x == "pyradiomics":
                continue
            rows.append([g, x, _fmt_s(t), _fmt_s(py), f"{t / py:.3f} ({_fmt_x(py / t)})" if py else "-"])
            if py:
                metrics[f"other.{g}.{x}.ratio_pyradiomics"] = t / py
    if rows:
        parts.append("Other extractor benchmarks\n\n" + table(["group", "extractor", "median", "pyradiomics",
                                                                  "ratio (speed-up)"], rows, markdown))

    mi = data.get("machine_info", {})
    head = (f"machine: {mi.get('cpu_model') or mi.get('cpu', {}).get('brand_raw', '?')}, {mi.get('cores', '?')} cores, "
            f"load average {mi.get('load_average_at_start', ['?'])[0]} at start / "
            f"{mi.get('load_average_at_end', ['?'])[0]} at end; {data.get('datetime', '')}\n"
            f"command: {data.get('command', '?')}")
    return head + "\n\n" + "\n\n".join(parts) + "\n", metrics


def log_mlflow(path: Path, data: dict, report: str, metrics: dict[str, float], uri: str, experiment: str) -> str:
    import tempfile

    import mlflow

    for name in ("mlflow", "alembic"):
        import logging

        logging.getLogger(name).setLevel(logging.WARNING)
    mlflow.set_tracking_uri(uri)
    if mlflow.get_experiment_by_name(experiment) is None:
        location = None  # a local SQLite store keeps its artifacts beside the database file
        if uri.startswith("sqlite:///"):
            location = (Path(uri[len("sqlite:///"):]).parent / "artifacts").resolve().as_uri()
        mlflow.create_experiment(experiment, artifact_location=location)
    mlflow.set_experiment(experiment)
    mi = data.get("machine_info", {})
    ci = data.get("commit_info", {})
    with mlflow.start_run(run_name=path.stem) as run:
        mlflow.log_params({
            "benchmark_json": str(path), "command": str(data.get("command", ""))[:500],
            "cpu_model": str(mi.get("cpu_model", "")), "cores": str(mi.get("cores", "")),
            "load_average_at_start": str(mi.get("load_average_at_start", "")),
            "python": str(mi.get("python_version", "")), "datetime": str(data.get("datetime", "")),
        })
        mlflow.set_tags({"git_commit": str(ci.get("id", "")), "git_dirty": str(ci.get("dirty", ""))})
        safe = {re.sub(r"[^A-Za-z0-9_\-. :/]", "_", k): float(v) for k, v in metrics.items() if math.isfinite(v)}
        if safe:
            mlflow.log_metrics(safe)
        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / "summary.md").write_text(report)
            mlflow.log_artifact(str(Path(tmp) / "summary.md"))
        mlflow.log_artifact(str(path))
        return run.info.run_id


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("json", nargs="?", type=Path, help="pytest-benchmark JSON (default: newest under .benchmarks/)")
    ap.add_argument("--markdown", action="store_true", help="print Markdown tables (for benchmarks/README.md)")
    ap.add_argument("--tracking-uri", default=f"sqlite:///{(ROOT / 'runs' / 'mlflow.db').resolve()}",
                    help="MLflow tracking URI (default: sqlite:///<repo>/runs/mlflow.db)")
    ap.add_argument("--experiment", default="radrepro-benchmarks")
    ap.add_argument("--no-mlflow", action="store_true", help="print only")
    args = ap.parse_args(argv)
    path = args.json or newest_json()
    data = json.loads(path.read_text())
    report, metrics = summarise(data, markdown=args.markdown)
    print(f"benchmark file: {path}\n")
    print(report)
    if not args.no_mlflow:
        if args.tracking_uri.startswith("sqlite:///"):
            Path(args.tracking_uri[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
        run_id = log_mlflow(path, data, report, metrics, args.tracking_uri, args.experiment)
        print(f"logged to MLflow: {args.tracking_uri}, experiment {args.experiment}, run {run_id} "
              f"({len(metrics)} metrics)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
