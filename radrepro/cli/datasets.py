"""``radrepro datasets ...``: the dataset cards and the data cache.

``list`` / ``show NAME`` read the cards; ``fetch NAME`` downloads what a card pins into the cache,
``verify NAME`` re-checks the cache against the card, ``convert NAME`` turns fetched DICOM into
NIfTI image/mask pairs and a cases table, ``pin NAME`` rebuilds a TCIA card's series list offline
with idc-index. NAME may also be the path of a card file (``my-cohort.toml``).
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub) -> None:
    p = sub.add_parser("datasets", help="list, show, fetch, verify and convert data sets",
                       description="Data sets are declared by cards in datasets/. Fetched data lives in the data "
                       "cache: --dest DIR, else $RADREPRO_DATA, else the per-user cache dir (~/.cache/radrepro).")
    dsub = p.add_subparsers(dest="datasets_command", metavar="ACTION")

    def with_dest(q):
        q.add_argument("--dest", type=Path, default=None,
                       help="data cache root (default: $RADREPRO_DATA or the per-user cache dir)")
        return q

    lp = with_dest(dsub.add_parser("list", help="list the data sets and whether they are cached and verified",
                                   description="List every dataset card with its kind and what the cache holds."))
    lp.set_defaults(func=run_list)

    sp = dsub.add_parser("show", help="print a card: source, citation, licence, series, pairing",
                         description="Print a dataset card with its citation and licence.")
    sp.add_argument("name", help="data set name or card file")
    sp.set_defaults(func=run_show)

    fp = with_dest(dsub.add_parser("fetch", help="download a data set into the cache (resumable)",
                                   description="Download what the card pins: TCIA series through the TCIA API, "
                                   "IBSI files over HTTPS. Complete items are skipped; interrupted downloads resume."))
    fp.add_argument("name", help="data set name or card file")
    fp.add_argument("--limit", type=int, default=None, metavar="N", help="TCIA: only the first N subjects")
    fp.add_argument("--workers", type=int, default=4, help="series downloaded at the same time (default 4, at most 8)")
    fp.add_argument("--retries", type=int, default=5, help="attempts per download (default 5)")
    fp.add_argument("--base-url", default=None,
                    help="TCIA API base URL (default: TCIA's NBIA v4 API, or $RADREPRO_TCIA_URL)")
    fp.add_argument("--mirror", default=None,
                    help="IBSI files, molecular tables: fetch https://HOST/PATH from MIRROR/HOST/PATH "
                    "(a local copy; sha256 still checked)")
    fp.add_argument("--full-check", action="store_true",
                    help="re-hash cached files (sha256) and fetch corrupt ones again (default: check sizes)")
    fp.add_argument("--no-progress", action="store_true", help="no progress bar")
    fp.set_defaults(func=run_fetch)

    vp = with_dest(dsub.add_parser("verify", help="re-check the cache against the card (sha256 of every file)",
                                   description="Report missing, incomplete and corrupt series/files. Exit 0 only "
                                   "when everything is there and intact."))
    vp.add_argument("name", help="data set name or card file")
    vp.add_argument("--limit", type=int, default=None, metavar="N", help="TCIA: only the first N subjects")
    vp.add_argument("--quick", action="store_true", help="compare sizes only (no sha256)")
    vp.set_defaults(func=run_verify)

    cp = with_dest(dsub.add_parser("convert", help="DICOM series + RTSTRUCT/SEG to NIfTI image/mask pairs",
                                   description="Convert a fetched TCIA data set into NIfTI images and masks and "
                                   "write cases.csv (one row per case; failed cases keep their reason)."))
    cp.add_argument("name", help="data set name or card file")
    cp.add_argument("--limit", type=int, default=None, metavar="N", help="only the first N subjects")
    cp.set_defaults(func=run_convert)

    pp = dsub.add_parser("pin", help="rebuild a TCIA card's series list with idc-index (offline)",
                         description="Re-run the card's [series] query against idc-index and rewrite its CSV.")
    pp.add_argument("name", help="data set name or card file")
    pp.set_defaults(func=run_pin)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def _card(name: str):
    from radrepro.datasets.cards import get_card, read_card

    path = Path(name)
    if name.endswith(".toml") and path.is_file():
        return read_card(path)
    return get_card(name)


def run_list(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from radrepro.datasets.cache import data_root
    from radrepro.datasets.cards import all_cards
    from radrepro.datasets.fetch import availability

    table = Table(title=f"radrepro data sets (cache: {data_root(args.dest)})")
    cards = all_cards()
    table.add_column("name", no_wrap=True, min_width=max(len(n) for n in cards))  # names are never cut
    table.add_column("kind", no_wrap=True)
    for col in ("title", "items", "cache"):
        table.add_column(col)
    for card in cards.values():
        if card.kind == "tcia":
            items = f"{card.data['series'].get('count', '?')} series"
        elif card.kind == "ibsi":
            items = f"{len(card.data['files'])} files"
        else:
            items = "generated"
        table.add_row(card.name, card.kind, card.title, items, availability(card, args.dest))
    Console().print(table)
    return 0


def run_show(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.markup import escape

    card = _card(args.name)
    d = card.data
    c = Console(highlight=False)
    c.print(f"[bold]{card.name}[/bold]: {card.title}  ({card.kind})")
    c.print(escape(" ".join(d.get("description", "").split())))
    for key, label in (("collection", "TCIA collection"), ("modality", "modality"), ("doi", "DOI"),
                       ("source_url", "source"), ("licence", "licence")):
        if d.get(key):
            c.print(f"{label}: {d[key]}")
    c.print(f"citation: {card.citation}")
    for extra in d.get("also_cite", []):
        c.print(f"also cite: {extra['citation']}")
    seg = d.get("segmentation")
    if seg:
        c.print(f"segmentation: {seg['kind']}, ROI {seg['roi']!r}" + (" (one case per ROI)" if seg.get("per_roi") else ""))
    pairing = d.get("pairing")
    if pairing:
        c.print("pairing: " + pairing["kind"] + (f" (groups: {', '.join(pairing.get('group', []))}; members differ by "
                                                  f"{pairing['member']})" if pairing.get("member") else ""))
    for k, v in d.get("labels", {}).items():
        c.print(escape(f"  label {k}: {v}"))
    if card.kind == "tcia":
        s = card.series()
        by = s.groupby("Modality").agg(series=("SeriesInstanceUID", "size"), images=("image_count", "sum"),
                                        mb=("size_mb", "sum"))
        parts = [f"{m}: {int(r.series)} series, {int(r.images)} images, {r.mb / 1024:.1f} GB" for m, r in by.iterrows()]
        c.print(f"series: {len(s)} pinned ({s['PatientID'].nunique()} subjects) in {d['series']['file']}: " + "; ".join(parts))
        c.print(f"series list made with {d['series']['made_with']}; query:")
        c.print(d["series"]["query"].strip())
        mol = d.get("molecular")
        if mol:
            sha = mol.get("sha256", "trust-on-first-use")
            c.print(f"molecular table: {mol['file']} ({mol['licence']}) from {mol['url']}, sha256 "
                    + ("recorded at the first fetch (trust on first use)" if sha == "trust-on-first-use" else sha))
            c.print(f"  joined by {mol['id_column']} = {mol.get('joins', 'PatientID')}; variables: "
                    + ", ".join(f"{v['name']} ({v['column']})" for v in mol["variables"]))
    elif card.kind == "ibsi":
        total = sum(f["size"] for f in d["files"])
        c.print(f"files: {len(d['files'])} pinned by sha256 ({total / 1e6:.1f} MB), cases: "
                + ", ".join(x["id"] for x in d["cases"]))
    c.print(f"card sha256: {card.checksum}")
    return 0


def run_fetch(args: argparse.Namespace) -> int:
    import sys

    from radrepro.datasets.download import RetryPolicy
    from radrepro.datasets.fetch import card_dir, fetch

    card = _card(args.name)
    report = fetch(card, args.dest, limit=args.limit, base_url=args.base_url, workers=args.workers,
                   full_check=args.full_check, policy=RetryPolicy(attempts=max(1, args.retries)),
                   progress=not args.no_progress and sys.stderr.isatty(), mirror=args.mirror)
    print(f"{card.name}: {len(report.fetched)} fetched, {len(report.skipped)} already complete, "
          f"in {card_dir(card, args.dest)}")
    return 0


def run_verify(args: argparse.Namespace) -> int:
    from radrepro.datasets.fetch import card_dir, verify

    card = _card(args.name)
    table = verify(card, args.dest, limit=args.limit, full=not args.quick)
    bad = table[table["status"] != "ok"]
    for r in bad.itertuples():
        print(f"{r.status}: {r.item}" + (f" ({r.detail})" if r.detail and r.detail != r.status else ""))
    counts = table["status"].value_counts().to_dict()
    summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    print(f"{card.name}: {summary} in {card_dir(card, args.dest)}")
    if len(bad):
        print(f"run `radrepro datasets fetch {card.name}" + (" --full-check" if (bad['status'] == 'corrupt').any() else "")
              + "` to fetch what is missing or corrupt")
        return 1
    return 0


def run_convert(args: argparse.Namespace) -> int:
    from radrepro.datasets.convert import CASES, convert
    from radrepro.datasets.fetch import card_dir

    card = _card(args.name)
    table = convert(card, args.dest, limit=args.limit)
    ok = int((table["status"] == "ok").sum()) if len(table) else 0
    failed = table[table["status"] != "ok"] if len(table) else table
    for r in failed.itertuples():
        print(f"failed: {r.subject} ({r.segmentation_series}): {r.error}")
    print(f"{card.name}: {ok} cases converted, {len(failed)} failed; table {card_dir(card, args.dest) / CASES}")
    mol = table.attrs.get("molecular")
    if mol:
        from radrepro.datasets.molecular import PROBLEMS

        print(f"{card.name}: molecular table {mol['path']} ({mol['cases']} cases; "
              f"{mol['subjects_without_case']} subjects of the published table have no case)"
              + (f"; {mol['problems']} value(s) could not be coded or are absent, listed in "
                 f"{mol['path'].with_name(PROBLEMS)}" if mol["problems"] else ""))
    return 0 if ok else 1


def run_pin(args: argparse.Namespace) -> int:
    from radrepro.datasets.pinning import idc_versions, pin, series_list_path

    card = _card(args.name)
    df = pin(card)
    print(f"{card.name}: {len(df)} series written to {series_list_path(card)} with {idc_versions()}; "
          f"update [series] count and made_with in {card.path} if they changed")
    return 0
