"""Fetch and verify a data set's files in the cache, as its card pins them.

- TCIA cards: every pinned series (:func:`radrepro.datasets.tcia.fetch_series`), a few at a time,
  into ``<cache>/<name>/dicom/<SeriesInstanceUID>/``; series already complete are skipped.
- IBSI cards: every pinned file over HTTPS into ``<cache>/<cache_dir>/<path>``, checked by sha256,
  then the card's derived files (:mod:`radrepro.datasets.derive`), also checked by sha256.
- A TCIA card's ``[molecular]`` table (:mod:`radrepro.datasets.molecular`) over HTTPS into
  ``<cache>/<name>/molecular/``, checked by the card's sha256 or the one recorded at its first fetch.

A progress bar shows bytes and series/files. When some items fail the others still finish; the
error then names the failed ones and the fix (running the fetch again resumes).
"""

from __future__ import annotations

import json
import shutil
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import requests

from radrepro.datasets.cache import data_root
from radrepro.datasets.cards import Card
from radrepro.datasets.download import RetryPolicy, download, sha256_file
from radrepro.datasets.tcia import check_series, fetch_series
from radrepro.errors import FetchError, InputError



def verified_stamp(card: Card, dest: str | Path | None = None) -> Path:
    """File written by a clean :func:`verify` (per card: IBSI cards share one folder)."""
    return card_dir(card, dest) / f"verified-{card.name}.json"


def card_dir(card: Card, dest: str | Path | None = None) -> Path:
    """The data set's folder in the cache (``dest`` overrides the cache root)."""
    return data_root(dest) / card.cache_name


def selected_series(card: Card, limit: int | None = None) -> pd.DataFrame:
    """The card's pinned series; with ``limit``, those of its first ``limit`` subjects (PatientID)."""
    df = card.series()
    if limit is not None:
        if limit < 1:
            raise InputError(f"--limit {limit} selects nothing", "give a positive number of subjects")
        keep = list(dict.fromkeys(df["PatientID"]))[:limit]
        df = df[df["PatientID"].isin(keep)]
    return df.reset_index(drop=True)


@dataclass
class FetchReport:
    """What a fetch did: items fetched, skipped (already complete) and failed (with the reason)."""

    fetched: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)

    def raise_on_failure(self, card: Card) -> None:
        if self.failed:
            first, reason = next(iter(self.failed.items()))
            raise FetchError(
                f"{card.name}: {len(self.failed)} item(s) failed, first {first}: {reason}",
                f"run `radrepro datasets fetch {card.name}` again to resume ({len(self.fetched) + len(self.skipped)} are complete)",
            )


class _Progress:
    """A rich progress bar with bytes and items (silent when ``show`` is False)."""

    def __init__(self, show: bool, total_items: int, total_bytes: float | None, label: str):
        self.show = show
        if not show:
            return
        from rich.progress import (BarColumn, DownloadColumn, MofNCompleteColumn, Progress, TextColumn,
                                   TimeRemainingColumn, TransferSpeedColumn)

        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                            TimeRemainingColumn(), transient=False)
        self.items = Progress(TextColumn(label), BarColumn(), MofNCompleteColumn())
        self.bytes_task = self.bar.add_task("bytes", total=total_bytes)
        self.item_task = self.items.add_task(label, total=total_items)

    def __enter__(self):
        if self.show:
            from rich.console import Group
            from rich.live import Live

            self.live = Live(Group(self.bar, self.items), refresh_per_second=4)
            self.live.__enter__()
        return self

    def __exit__(self, *exc):
        if self.show:
            self.live.__exit__(*exc)

    def add_bytes(self, n: int) -> None:
        if self.show:
            self.bar.advance(self.bytes_task, n)

    def item_done(self) -> None:
        if self.show:
            self.items.advance(self.item_task, 1)


def fetch(
    card: Card,
    dest: str | Path | None = None,
    *,
    limit: int | None = None,
    base_url: str | None = None,
    workers: int = 4,
    full_check: bool = False,
    policy: RetryPolicy = RetryPolicy(),
    progress: bool = False,
    mirror: str | None = None,
) -> FetchReport:
    """Fetch the data set of ``card`` into the cache (``dest`` overrides the cache root).

    Parameters
    ----------
    card
        A ``tcia`` or ``ibsi`` card.
    limit
        TCIA: only the first ``limit`` subjects. IBSI: ignored.
    base_url
        TCIA API base URL (default: TCIA's, or ``$RADREPRO_TCIA_URL``).
    workers
        Series downloaded at the same time (bounded; TCIA asks for moderation).
    full_check
        Re-hash cached items (sha256) instead of the quick size check; corrupt ones are fetched again.
    progress
        Show a progress bar.
    mirror
        IBSI files and a TCIA card's molecular table: fetch ``https://host/path`` from
        ``<mirror>/host/path`` instead (a local or institutional copy); the sha256 checks are the same.

    Raises
    ------
    FetchError
        When some items could not be fetched (after the others finished).
    """
    if card.kind == "tcia":
        report = _fetch_tcia(card, dest, limit, base_url, workers, full_check, policy, progress, mirror)
    elif card.kind == "ibsi":
        report = _fetch_files(card, dest, full_check, policy, progress, mirror)
    else:
        raise InputError(f"data set '{card.name}' is {card.kind}: nothing to fetch", "embedded data sets are generated by radrepro")
    report.raise_on_failure(card)
    return report


def _fetch_tcia(card, dest, limit, base_url, workers, full_check, policy, progress, mirror=None) -> FetchReport:
    root = card_dir(card, dest)
    series = selected_series(card, limit)
    report = FetchReport()
    todo = []
    for row in series.itertuples():
        folder = root / "dicom" / row.SeriesInstanceUID
        if folder.exists() and not check_series(folder, full=full_check):
            report.skipped.append(row.SeriesInstanceUID)
        else:
            if folder.exists():
                shutil.rmtree(folder)  # incomplete or corrupt: fetch it again
            todo.append(row)
    total_mb = float(sum(r.size_mb for r in todo))
    session = requests.Session()
    with _Progress(progress, len(todo), total_mb * 1e6 or None, "series") as bar:
        with ThreadPoolExecutor(max_workers=max(1, min(workers, 8))) as pool:
            futures = {pool.submit(fetch_series, r.SeriesInstanceUID, root, expected_images=int(r.image_count),
                                   url=base_url, session=session, policy=policy, progress=bar.add_bytes): r
                       for r in todo}
            for fut in as_completed(futures):
                uid = futures[fut].SeriesInstanceUID
                try:
                    fut.result()
                    report.fetched.append(uid)
                except FetchError as exc:
                    report.failed[uid] = exc.oneline()
                bar.item_done()
    if "molecular" in card.data:
        _fetch_molecular(card, root, session, policy, mirror, report)
    return report


def _fetch_molecular(card, root, session, policy, mirror, report: FetchReport) -> None:
    from radrepro.datasets.molecular import fetch_molecular

    item = "molecular/" + card.data["molecular"]["file"]
    try:
        done = fetch_molecular(card, root, session=session, policy=policy, mirror=mirror)
        (report.skipped if done == "skipped" else report.fetched).append(item)
    except FetchError as exc:
        report.failed[item] = exc.oneline()


def mirrored(url: str, mirror: str | None) -> str:
    """``url`` on a mirror: ``https://host/path`` -> ``<mirror>/host/path``."""
    if not mirror:
        return url
    return mirror.rstrip("/") + "/" + url.split("://", 1)[-1]


def _fetch_files(card, dest, full_check, policy, progress, mirror=None) -> FetchReport:
    root = card_dir(card, dest)
    report = FetchReport()
    files = card.data["files"]
    todo = []
    for f in files:
        path = root / f["path"]
        if path.is_file() and not _file_problem(path, f, full=full_check):
            report.skipped.append(f["path"])
        else:
            todo.append(f)
    session = requests.Session()
    with _Progress(progress, len(todo), sum(f["size"] for f in todo) or None, "files") as bar:
        for f in todo:
            path = root / f["path"]
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                _fetch_file({**f, "url": mirrored(f["url"], mirror)}, path, session, policy, bar.add_bytes)
                report.fetched.append(f["path"])
            except FetchError as exc:
                report.failed[f["path"]] = exc.oneline()
            bar.item_done()
    for d in card.data.get("derived", []):
        path = root / d["path"]
        if path.is_file() and not _file_problem(path, d, full=full_check):
            report.skipped.append(d["path"])
            continue
        try:
            _derive(d, root)
            report.fetched.append(d["path"])
        except FetchError as exc:
            report.failed[d["path"]] = exc.oneline()
    return report


def _derive(d: dict, root: Path) -> None:
    """Write derived file ``d`` from its source (atomic), and check its sha256."""
    from radrepro.datasets.derive import DERIVERS

    source = root / d["source"]
    if not source.is_file():
        raise FetchError(f"{d['path']}: its source {d['source']} is not in the cache", "fetch the data set again")
    try:
        data = DERIVERS[d["function"]](source)
    except Exception as exc:  # a reader error of the source format
        raise FetchError(f"{d['path']} cannot be derived from {d['source']} ({type(exc).__name__}: {str(exc)[:100]})",
                         "the source file is damaged: fetch again with --full-check") from exc
    import hashlib

    if hashlib.sha256(data).hexdigest() != d["sha256"]:
        raise FetchError(f"{d['path']} derived from {d['source']} fails its sha256 check",
                         "the reader library changed its output; report it (radrepro pins the result)")
    tmp = root / (d["path"] + ".tmp")
    tmp.parent.mkdir(parents=True, exist_ok=True)
    tmp.write_bytes(data)
    tmp.replace(root / d["path"])


def _fetch_file(f: dict, path: Path, session, policy: RetryPolicy, progress) -> None:
    """One pinned file, downloaded again (up to ``policy.attempts`` times) while its sha256 is wrong."""
    tmp = path.with_name(path.name + ".download")
    for attempt in range(policy.attempts):
        download(f["url"], tmp, session=session, policy=policy, progress=progress, what=f["path"])
        if sha256_file(tmp) == f["sha256"]:
            tmp.replace(path)
            return
        tmp.unlink()
        if attempt + 1 < policy.attempts:
            policy.sleep(attempt)
    raise FetchError(f"{f['path']}: the file from {f['url']} fails its sha256 check ({policy.attempts} downloads)",
                     "the source changed or is corrupt; check the card's URL and sha256")


def _file_problem(path: Path, f: dict, *, full: bool) -> str | None:
    if not path.is_file():
        return "missing"
    if path.stat().st_size != f["size"]:
        return f"has {path.stat().st_size} bytes, expected {f['size']}"
    if full and sha256_file(path) != f["sha256"]:
        return "corrupt (sha256 differs)"
    return None


def verify(card: Card, dest: str | Path | None = None, *, limit: int | None = None, full: bool = True) -> pd.DataFrame:
    """Re-check the cache against the card: one row per series (TCIA) or file (IBSI), and one for
    a TCIA card's molecular table (always by sha256: it is small; ``incomplete`` when no sha256 was
    ever recorded for it).

    Columns ``item``, ``status`` (``ok``, ``missing``, ``incomplete``, ``corrupt``) and ``detail``.
    ``full`` recomputes every sha256 (else sizes only). When everything is ``ok``, writes
    ``verified-<name>.json`` in the data set's folder (``datasets list`` shows it).
    """
    root = card_dir(card, dest)
    rows = []
    if card.kind == "tcia":
        for row in selected_series(card, limit).itertuples():
            problems = check_series(root / "dicom" / row.SeriesInstanceUID, full=full)
            if not problems:
                rows.append((row.SeriesInstanceUID, "ok", ""))
            elif problems == ["missing"]:
                rows.append((row.SeriesInstanceUID, "missing", ""))
            elif "incomplete" in problems[0]:
                rows.append((row.SeriesInstanceUID, "incomplete", problems[0]))
            else:
                rows.append((row.SeriesInstanceUID, "corrupt", "; ".join(problems[:3])))
        if "molecular" in card.data:
            from radrepro.datasets.molecular import check_molecular

            rows.append(("molecular/" + card.data["molecular"]["file"], *check_molecular(card, root)))
    elif card.kind == "ibsi":
        for f in card.data["files"] + card.data.get("derived", []):
            problem = _file_problem(root / f["path"], f, full=full)
            status = "ok" if problem is None else ("missing" if problem == "missing" else "corrupt")
            rows.append((f["path"], status, problem or ""))
    else:
        return pd.DataFrame([(card.name, "ok", "embedded")], columns=["item", "status", "detail"])
    table = pd.DataFrame(rows, columns=["item", "status", "detail"])
    stamp = verified_stamp(card, dest)
    if len(table) and (table["status"] == "ok").all() and limit is None:
        root.mkdir(parents=True, exist_ok=True)
        stamp.write_text(json.dumps({"card_sha256": card.checksum, "items": len(table), "full": full,
                                     "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}))
    elif stamp.exists() and not (table["status"] == "ok").all():
        stamp.unlink()
    return table


def availability(card: Card, dest: str | Path | None = None) -> str:
    """One word or two for ``datasets list``: embedded, verified, converted, n/N cached, not fetched."""
    if card.kind == "embedded":
        return "embedded"
    root = card_dir(card, dest)
    stamp = verified_stamp(card, dest)
    verified = False
    if stamp.is_file():
        try:
            verified = json.loads(stamp.read_text()).get("card_sha256") == card.checksum
        except ValueError:
            verified = False
    if card.kind == "tcia":
        series = card.series()["SeriesInstanceUID"]
        have = sum((root / "dicom" / uid / "manifest.json").is_file() for uid in series)
        total = len(series)
    else:
        have = sum((root / f["path"]).is_file() for f in card.data["files"])
        total = len(card.data["files"])
    if have == 0:
        return "not fetched"
    state = "verified" if verified and have == total else f"{have}/{total} cached"
    if (root / "cases.csv").is_file():
        state += ", converted"
    return state
