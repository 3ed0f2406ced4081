"""One TCIA series into the cache: query (tcia-utils), download, safe extraction, MD5 and count checks.

tcia-utils answers ``None`` instead of raising when the network or the server fails, reads whole
archives into memory and never checks the MD5 sums TCIA sends. So radrepro uses its query
functions only (:func:`series_metadata`, wrapped so that ``None`` is retried and then becomes a
:class:`~radrepro.errors.FetchError`) and downloads with its own step:

1. stream ``getImageWithMD5Hash?SeriesInstanceUID=...`` to ``.partial/<uid>.zip.part`` (resumable,
   retried, see :mod:`radrepro.datasets.download`);
2. extract it into a temporary folder, refusing members whose path leaves it (``../``, absolute);
3. check every file against the archive's ``md5hashes.csv`` and the number of DICOM files against
   the card's pinned image count;
4. write ``manifest.json`` (sha256 and size of every file, recorded at this first fetch) and rename
   the folder to ``dicom/<uid>``: a series in the cache is complete and verified, or it is absent.

The API's base URL is tcia-utils' (``https://nbia.cancerimagingarchive.net/nbia-api/services/v4/``),
or ``$RADREPRO_TCIA_URL`` / ``--base-url`` (the tests point it at a local server).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import Any

import requests

from radrepro.datasets.download import RetryPolicy, download
from radrepro.errors import FetchError

DEFAULT_BASE_URL = "https://nbia.cancerimagingarchive.net/nbia-api/services/v4/"
MANIFEST = "manifest.json"
_TCIA_UTILS_LOCK = threading.Lock()


def base_url(override: str | None = None) -> str:
    """The TCIA API base URL: ``override``, else ``$RADREPRO_TCIA_URL``, else TCIA's (ends with ``/``)."""
    url = override or os.environ.get("RADREPRO_TCIA_URL") or DEFAULT_BASE_URL
    return url if url.endswith("/") else url + "/"


@contextmanager
def _tcia_utils_at(url: str) -> Iterator[Any]:
    """tcia_utils.nbia with its API base URL pointed at ``url``.

    tcia-utils builds every URL with ``nbia.setApiUrl(endpoint, api_url)``, which only knows TCIA's
    two hosts; replacing that function (under a lock, restored afterwards) is the one way to point
    its query functions elsewhere.
    """
    from tcia_utils import nbia

    with _TCIA_UTILS_LOCK:
        original = nbia.setApiUrl
        nbia.setApiUrl = lambda endpoint, api_url="": url
        try:
            yield nbia
        finally:
            nbia.setApiUrl = original


def series_metadata(uid: str, *, url: str | None = None, policy: RetryPolicy = RetryPolicy()) -> dict:
    """TCIA's metadata of one series (``getSeries``), retried while tcia-utils returns nothing.

    Raises
    ------
    FetchError
        When every attempt returned None (network or server failure, or a series TCIA does not have).
    """
    url = base_url(url)
    for attempt in range(policy.attempts):
        with _tcia_utils_at(url) as nbia:
            data = nbia.getSeries(seriesUid=uid)
        if data:
            return data[0]
        if attempt + 1 < policy.attempts:
            policy.sleep(attempt)
    raise FetchError(
        f"series {uid}: the TCIA API at {url} returned no metadata after {policy.attempts} attempts",
        "check the network connection and TCIA's status (or --base-url); if it persists the series may "
        "have been withdrawn: rebuild the card's list with `radrepro datasets pin`",
    )


def _safe_member(name: str) -> PurePosixPath:
    p = PurePosixPath(name.replace("\\", "/"))
    if p.is_absolute() or ".." in p.parts or (p.parts and ":" in p.parts[0]):
        raise FetchError(f"archive member {name!r} would be written outside the series folder",
                         "the archive is unsafe; it was not extracted (report it to the data provider)")
    return p


def _read_md5s(zf: zipfile.ZipFile) -> dict[str, str]:
    text = zf.read("md5hashes.csv").decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    return {r[0].strip(): r[1].strip().lower() for r in rows[1:] if len(r) >= 2}


class CorruptDownload(Exception):
    """The archive or one of its files failed a check: download it again."""


def extract_series(archive: Path, dest: Path, uid: str, expected_images: int | None) -> dict:
    """Extract a TCIA series archive into ``dest`` (a new folder) and check it.

    Returns the manifest (also written to ``dest/manifest.json``). Raises :class:`FetchError` for an
    unsafe archive, :class:`CorruptDownload` for a broken one (bad zip, MD5 mismatch, wrong count).
    """
    try:
        zf = zipfile.ZipFile(archive)
    except zipfile.BadZipFile as exc:
        raise CorruptDownload(f"archive of series {uid} is not a valid zip") from exc
    with zf:
        names = [i.filename for i in zf.infolist() if not i.is_dir()]
        for n in names:
            _safe_member(n)
        if "md5hashes.csv" not in names:
            raise CorruptDownload(f"archive of series {uid} has no md5hashes.csv")
        md5s = _read_md5s(zf)
        files = {}
        dest.mkdir(parents=True)
        for info in zf.infolist():
            if info.is_dir() or info.filename == "md5hashes.csv":
                continue
            rel = _safe_member(info.filename)
            out = dest.joinpath(*rel.parts)
            out.parent.mkdir(parents=True, exist_ok=True)
            h_md5, h_sha = hashlib.md5(), hashlib.sha256()
            try:
                with zf.open(info) as src, open(out, "wb") as dst:
                    for chunk in iter(lambda: src.read(1 << 20), b""):
                        h_md5.update(chunk)
                        h_sha.update(chunk)
                        dst.write(chunk)
            except (zipfile.BadZipFile, OSError, EOFError) as exc:
                raise CorruptDownload(f"file {info.filename} of series {uid} cannot be extracted ({exc})") from exc
            expected = md5s.get(info.filename) or md5s.get(rel.name)
            if expected is None:
                raise CorruptDownload(f"file {info.filename} of series {uid} has no MD5 in md5hashes.csv")
            if h_md5.hexdigest() != expected:
                raise CorruptDownload(f"file {info.filename} of series {uid} fails its MD5 check")
            files[rel.as_posix()] = {"sha256": h_sha.hexdigest(), "md5": expected, "size": info.file_size}
    if expected_images is not None and len(files) != expected_images:
        raise CorruptDownload(f"series {uid} has {len(files)} files, the card pins {expected_images}")
    manifest = {"series": uid, "image_count": len(files), "fetched": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "files": files}
    (dest / MANIFEST).write_text(json.dumps(manifest, indent=1))
    return manifest


def fetch_series(
    uid: str,
    root: Path,
    *,
    expected_images: int | None,
    url: str | None = None,
    session: requests.Session | None = None,
    policy: RetryPolicy = RetryPolicy(),
    progress: Callable[[int], None] | None = None,
    check_metadata: bool = True,
) -> Path:
    """Fetch series ``uid`` into ``root/dicom/<uid>`` (complete and verified) and return that folder.

    ``root`` is the data set's cache folder; partial downloads live in ``root/.partial`` and resume.
    A corrupt archive (bad zip, MD5 mismatch, wrong file count) is deleted and downloaded again,
    up to ``policy.attempts`` times.
    """
    url = base_url(url)
    final = root / "dicom" / uid
    if check_metadata and expected_images is not None:
        meta = series_metadata(uid, url=url, policy=policy)
        count = meta.get("ImageCount")
        if count is not None and int(count) != int(expected_images):
            raise FetchError(
                f"series {uid}: TCIA now has {count} images, the card pins {expected_images}",
                "the collection changed since the card was made: rebuild its list (`radrepro datasets pin`) and review it",
            )
    partial = root / ".partial"
    partial.mkdir(parents=True, exist_ok=True)
    archive = partial / f"{uid}.zip"
    tmp = partial / f"{uid}.extract"
    last = ""
    for attempt in range(policy.attempts):
        if not archive.exists():
            download(f"{url}getImageWithMD5Hash?SeriesInstanceUID={uid}", archive, session=session,
                     policy=policy, progress=progress, what=f"series {uid}")
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            extract_series(archive, tmp, uid, expected_images)
        except CorruptDownload as exc:
            last = str(exc)
            shutil.rmtree(tmp, ignore_errors=True)
            archive.unlink(missing_ok=True)
            if attempt + 1 < policy.attempts:
                policy.sleep(attempt)
            continue
        except FetchError:
            shutil.rmtree(tmp, ignore_errors=True)
            archive.unlink(missing_ok=True)
            raise
        final.parent.mkdir(parents=True, exist_ok=True)
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
        archive.unlink(missing_ok=True)
        return final
    raise FetchError(
        f"{last} ({policy.attempts} downloads)",
        "the server keeps sending a broken copy; try again later, and report it to TCIA if it persists",
    )


def check_series(folder: Path, *, full: bool = False) -> list[str]:
    """Problems of a cached series folder (empty list: fine).

    The quick check (default) compares file presence and sizes with the manifest; ``full`` also
    recomputes every sha256.
    """
    from radrepro.datasets.download import sha256_file

    mpath = folder / MANIFEST
    if not folder.is_dir():
        return ["missing"]
    if not mpath.is_file():
        return ["no manifest (incomplete)"]
    try:
        manifest = json.loads(mpath.read_text())
    except ValueError:
        return ["manifest unreadable"]
    problems = []
    for rel, info in manifest["files"].items():
        path = folder / rel
        if not path.is_file():
            problems.append(f"{rel} missing")
        elif path.stat().st_size != info["size"]:
            problems.append(f"{rel} has {path.stat().st_size} bytes, expected {info['size']}")
        elif full and sha256_file(path) != info["sha256"]:
            problems.append(f"{rel} corrupt (sha256 differs)")
    return problems
