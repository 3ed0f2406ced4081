"""HTTP downloads that survive the network: streaming, resume, retries with backoff, atomic writes.

:func:`download` streams a URL into ``<dest>.part`` and renames it to ``dest`` only when the body
is complete, so a file in the cache is never half-written. An interrupted download resumes from the
``.part`` file with an HTTP ``Range`` request when the server honours it (206), else starts again.
Timeouts, dropped connections and 408/429/5xx answers are retried with exponential backoff; other
HTTP errors fail at once. Every failure is a :class:`~radrepro.errors.FetchError` naming what was
being fetched and what to do.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import requests
import urllib3

from radrepro.errors import FetchError

RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
CHUNK = 1 << 16


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: ``attempts`` tries per download, sleeping ``backoff * 2**k`` (at most
    ``max_backoff``) seconds between them; ``timeout`` seconds for connecting and between bytes."""

    attempts: int = 5
    backoff: float = 1.0
    max_backoff: float = 30.0
    timeout: float = 60.0

    def sleep(self, attempt: int) -> None:
        time.sleep(min(self.max_backoff, self.backoff * 2**attempt))


class TransientError(Exception):
    """A failure worth retrying (timeout, dropped connection, 5xx)."""


def sha256_file(path: Path) -> str:
    """sha256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _stream(url: str, part: Path, session: requests.Session, timeout: float,
            progress: Callable[[int], None] | None, what: str) -> None:
    have = part.stat().st_size if part.exists() else 0
    headers = {"Accept-Encoding": "identity"}  # byte ranges must count the bytes stored
    if have:
        headers["Range"] = f"bytes={have}-"
    try:
        with session.get(url, headers=headers, stream=True, timeout=timeout) as r:
            if r.status_code == 416 and have:  # the partial file does not fit the resource: start again
                part.unlink()
                raise TransientError("the server refused to resume (HTTP 416)")
            if r.status_code in RETRY_STATUS:
                raise TransientError(f"HTTP {r.status_code}")
            if r.status_code >= 400:
                raise FetchError(f"{what}: HTTP {r.status_code} from {url}",
                                 "check the URL / the card; the server refuses this request")
            resumed = have > 0 and r.status_code == 206 and r.headers.get("Content-Range", "").startswith(f"bytes {have}-")
            if have and not resumed and progress:
                progress(-have)  # the server sends the whole file again
            part.parent.mkdir(parents=True, exist_ok=True)
            length = r.headers.get("Content-Length")
            got = 0
            # read1 hands over whatever arrived, so a dropped connection loses no received byte
            with open(part, "ab" if resumed else "wb") as f:
                while chunk := r.raw.read1(CHUNK):
                    f.write(chunk)
                    got += len(chunk)
                    if progress:
                        progress(len(chunk))
            if length is not None and got != int(length):
                raise TransientError(f"connection closed after {got} of {length} bytes")
    except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError,
            urllib3.exceptions.HTTPError, OSError) as exc:
        if part.exists() and part.stat().st_size == 0:
            part.unlink()
        raise TransientError(type(exc).__name__ + ": " + str(exc).splitlines()[0][:160]) from exc


def download(
    url: str,
    dest: Path,
    *,
    session: requests.Session | None = None,
    policy: RetryPolicy = RetryPolicy(),
    progress: Callable[[int], None] | None = None,
    what: str | None = None,
) -> Path:
    """Download ``url`` to ``dest`` atomically, resuming and retrying.

    Parameters
    ----------
    url
        What to fetch.
    dest
        Final path; the body goes to ``dest.part`` first and is renamed when complete.
    session
        A :class:`requests.Session` to reuse connections (a new one if None).
    policy
        Attempts, backoff and timeout.
    progress
        Called with the number of bytes received (negative when a restart discards bytes).
    what
        Name of the thing being fetched, for messages (default: the URL).

    Raises
    ------
    FetchError
        After ``policy.attempts`` transient failures, or at once on a non-retryable HTTP error.
    """
    what = what or url
    part = dest.with_name(dest.name + ".part")
    session = session or requests.Session()
    last = ""
    for attempt in range(policy.attempts):
        try:
            _stream(url, part, session, policy.timeout, progress, what)
            os.replace(part, dest)
            return dest
        except TransientError as exc:
            last = str(exc)
            if attempt + 1 < policy.attempts:
                policy.sleep(attempt)
    raise FetchError(
        f"{what}: download failed {policy.attempts} times (last: {last})",
        "check the network connection and the server's status, then run the fetch again (it resumes)",
    )
