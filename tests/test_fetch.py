"""The fetcher against a local TCIA-like HTTP server on 127.0.0.1 (no internet).

The server speaks the two NBIA endpoints radrepro uses (``getSeries`` through tcia-utils,
``getImageWithMD5Hash`` through radrepro's own download) and plain file URLs, and misbehaves on
request: dropped connections mid-file, corrupt archives, 500 errors, empty answers, unsafe zips.
"""

from __future__ import annotations

import hashlib
import io
import json
import socket
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import _dicom_synth as syn
import numpy as np
import pytest
from _cards import tcia_card

from radrepro.datasets.cards import load_cases, read_card
from radrepro.datasets.convert import convert
from radrepro.datasets.download import RetryPolicy
from radrepro.datasets.fetch import availability, fetch, verify
from radrepro.errors import FetchError

pytestmark = pytest.mark.network

FAST = RetryPolicy(attempts=3, backoff=0.01, max_backoff=0.02, timeout=5)


def series_zip(paths, *, corrupt: bool = False, extra: dict | None = None) -> bytes:
    """A TCIA-style series archive: the files and md5hashes.csv (optionally one file corrupted)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        lines = ["Filename,MD5Hash"]
        for n, p in enumerate(paths):
            data = p.read_bytes()
            lines.append(f"{p.name},{hashlib.md5(data).hexdigest()}")
            if corrupt and n == 0:
                data = data[:-1] + bytes([data[-1] ^ 0xFF])
            zf.writestr(p.name, data)
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
            lines.append(f"{name},{hashlib.md5(data).hexdigest()}")
        zf.writestr("md5hashes.csv", "\n".join(lines) + "\n")
    return buf.getvalue()


class FakeTCIA:
    """State of the fake server: archives by series, metadata, files, planned misbehaviour, request log."""

    def __init__(self):
        self.archives: dict[str, bytes] = {}
        self.corrupt: dict[str, bytes] = {}
        self.counts: dict[str, int] = {}
        self.files: dict[str, bytes] = {}
        self.plan: dict[str, list[str]] = {}  # key -> actions consumed one per request
        self.ranges = True
        self.log: list[tuple[str, str, str | None]] = []
        self.lock = threading.Lock()

    def action(self, key: str) -> str:
        with self.lock:
            todo = self.plan.get(key, [])
            return todo.pop(0) if todo else "ok"


@pytest.fixture
def server():
    state = FakeTCIA()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _send(self, code, body=b"", ctype="application/octet-stream", headers=None):
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            url = urlparse(self.path)
            q = {k: v[0] for k, v in parse_qs(url.query).items()}
            endpoint = url.path.rsplit("/", 1)[-1]
            rng = self.headers.get("Range")
            with state.lock:
                state.log.append((endpoint, q.get("SeriesInstanceUID", url.path), rng))
            if endpoint == "getSeries":
                uid = q["SeriesInstanceUID"]
                act = state.action("meta:" + uid)
                if act == "500":
                    return self._send(500, b"error")
                if act == "empty" or uid not in state.counts:
                    return self._send(200, b"", "application/json")
                body = json.dumps([{"SeriesInstanceUID": uid, "ImageCount": state.counts[uid]}]).encode()
                return self._send(200, body, "application/json")
            if endpoint == "getImageWithMD5Hash":
                uid = q["SeriesInstanceUID"]
                act = state.action(uid)
                if act == "500":
                    return self._send(500, b"error")
                body = state.corrupt[uid] if act == "corrupt" else state.archives[uid]
                return self._body(body, rng, drop=act == "drop")
            if url.path.startswith("/files/"):
                key = url.path[len("/files/"):]
                act = state.action(key)
                if act == "500":
                    return self._send(500)
                body = state.files[key]
                if act == "corrupt":
                    body = b"x" + body[1:]
                return self._body(body, rng, drop=act == "drop")
            self._send(404)

        def _body(self, body, rng, drop=False):
            start = 0
            if rng and state.ranges:
                start = int(rng.split("=")[1].split("-")[0])
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
            else:
                self.send_response(200)
            part = body[start:]
            self.send_header("Content-Length", str(len(part)))
            self.end_headers()
            if drop:  # send half, then close the connection
                self.wfile.write(part[: len(part) // 2])
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            self.wfile.write(part)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.base = f"http://127.0.0.1:{httpd.server_address[1]}/nbia-api/services/v4/"
    state.root = f"http://127.0.0.1:{httpd.server_address[1]}/files/"
    yield state
    httpd.shutdown()
    httpd.server_close()


GEOM = syn.Geometry(rows=10, cols=14, slices=4, pixel_spacing=(0.8, 0.7), slice_gap=2.0, origin=(0.0, 0.0, 0.0))


@pytest.fixture
def cohort(tmp_path, server):
    """Two patients (CT + RTSTRUCT each) served by the fake TCIA; returns (card, uids)."""
    rows = []
    for n, pid in enumerate(("P1", "P2")):
        ct = syn.ct_series(GEOM, patient_id=pid, seed=n)
        rt = syn.rtstruct(ct, {"GTV-1": [syn.rectangle(GEOM, 2.5, 8.5, 1.5, 5.5, k) for k in (1, 2)]})
        for datasets in (ct, [rt]):
            paths = syn.write(datasets, tmp_path / "src" / datasets[0].SeriesInstanceUID)
            uid = datasets[0].SeriesInstanceUID
            server.archives[uid] = series_zip(paths)
            server.corrupt[uid] = series_zip(paths, corrupt=True)
            server.counts[uid] = len(paths)
        rows += [syn.series_row(ct[0], len(ct)), syn.series_row(rt, 1)]
    card = tcia_card(tmp_path / "cards", "fake", rows, roi="GTV")
    return card, [r["SeriesInstanceUID"] for r in rows]


def _fetch(card, tmp_path, server, **kw):
    kw.setdefault("policy", FAST)
    return fetch(card, tmp_path / "cache", base_url=server.base, **kw)


def _downloads(server, uid):
    return [r for r in server.log if r[0] == "getImageWithMD5Hash" and r[1] == uid]


def _leftovers(tmp_path):
    return [p for p in (tmp_path / "cache").rglob("*") if p.is_file() and (".part" in p.name or "extract" in str(p))]


def test_full_fetch_verify_convert(tmp_path, server, cohort):
    card, uids = cohort
    report = _fetch(card, tmp_path, server, workers=2, progress=True)
    assert sorted(report.fetched) == sorted(uids) and not report.failed
    root = tmp_path / "cache" / "fake"
    for uid in uids:
        manifest = json.loads((root / "dicom" / uid / "manifest.json").read_text())
        assert manifest["image_count"] == server.counts[uid]
        for name, info in manifest["files"].items():
            data = (root / "dicom" / uid / name).read_bytes()
            assert info["sha256"] == hashlib.sha256(data).hexdigest()
            with zipfile.ZipFile(io.BytesIO(server.archives[uid])) as zf:
                assert zf.read(name) == data
    assert (verify(card, tmp_path / "cache")["status"] == "ok").all()
    assert availability(card, tmp_path / "cache") == "verified"
    assert not _leftovers(tmp_path)
    table = convert(card, tmp_path / "cache")
    assert (table["status"] == "ok").all()
    cases = load_cases(card, tmp_path / "cache")
    assert [c.id for c in cases] == ["P1", "P2"]
    assert {int(v) for v in table["voxels"]} == {6 * 4 * 2}
    assert availability(card, tmp_path / "cache") == "verified, converted"
    # a second fetch skips complete series and downloads nothing
    n = len(server.log)
    report = _fetch(card, tmp_path, server)
    assert sorted(report.skipped) == sorted(uids) and len(server.log) == n


def test_limit_fetches_first_subjects_only(tmp_path, server, cohort):
    card, uids = cohort
    report = _fetch(card, tmp_path, server, limit=1)
    assert sorted(report.fetched) == sorted(uids[:2])
    assert availability(card, tmp_path / "cache") == "2/4 cached"


@pytest.mark.parametrize("ranges", [True, False])
def test_dropped_connection_resumes(tmp_path, server, cohort, ranges):
    card, uids = cohort
    server.ranges = ranges
    server.plan[uids[0]] = ["drop"]
    _fetch(card, tmp_path, server)
    calls = _downloads(server, uids[0])
    assert len(calls) == 2
    if ranges:  # the second request asks for the rest only
        half = len(server.archives[uids[0]]) // 2
        assert calls[1][2] == f"bytes={half}-"
    assert (verify(card, tmp_path / "cache")["status"] == "ok").all()
    assert not _leftovers(tmp_path)


def test_interrupted_fetch_resumes_in_a_new_run(tmp_path, server, cohort):
    card, uids = cohort
    server.plan[uids[0]] = ["drop", "500", "500"]  # run 1: every attempt fails
    with pytest.raises(FetchError, match=f"series {uids[0]}.*failed 3 times"):
        _fetch(card, tmp_path, server)
    root = tmp_path / "cache" / "fake"
    assert not (root / "dicom" / uids[0]).exists()  # nothing half-written in the cache
    part = root / ".partial" / f"{uids[0]}.zip.part"
    kept = part.stat().st_size
    assert kept == len(server.archives[uids[0]]) // 2  # the bytes received before the drop
    report = _fetch(card, tmp_path, server)  # run 2 resumes
    assert report.fetched == [uids[0]] and sorted(report.skipped) == sorted(uids[1:])
    assert _downloads(server, uids[0])[-1][2] == f"bytes={kept}-"
    assert (verify(card, tmp_path / "cache")["status"] == "ok").all()


def test_corrupt_download_is_detected_and_fetched_again(tmp_path, server, cohort):
    card, uids = cohort
    server.plan[uids[0]] = ["corrupt"]
    _fetch(card, tmp_path, server)
    assert len(_downloads(server, uids[0])) == 2
    assert (verify(card, tmp_path / "cache")["status"] == "ok").all()


def test_always_corrupt_download_fails_with_md5_message(tmp_path, server, cohort):
    card, uids = cohort
    server.plan[uids[0]] = ["corrupt"] * 3
    with pytest.raises(FetchError, match="fails its MD5 check") as err:
        _fetch(card, tmp_path, server)
    assert uids[0] in str(err.value) and "\n" not in str(err.value)
    assert not (tmp_path / "cache" / "fake" / "dicom" / uids[0]).exists()
    assert (tmp_path / "cache" / "fake" / "dicom" / uids[1]).is_dir()  # the others went on


def test_cache_corruption_found_by_verify_and_repaired_by_full_check(tmp_path, server, cohort):
    card, uids = cohort
    _fetch(card, tmp_path, server)
    f = tmp_path / "cache" / "fake" / "dicom" / uids[0] / "1-002.dcm"
    data = bytearray(f.read_bytes())
    data[-1] ^= 0xFF
    f.write_bytes(bytes(data))  # same size: only the sha256 can tell
    (tmp_path / "cache" / "fake" / "dicom" / uids[2] / "1-001.dcm").unlink()
    table = verify(card, tmp_path / "cache").set_index("item")
    assert table.loc[uids[0], "status"] == "corrupt" and "1-002.dcm corrupt" in table.loc[uids[0], "detail"]
    assert table.loc[uids[2], "status"] == "corrupt" and "1-001.dcm missing" in table.loc[uids[2], "detail"]
    assert table.loc[uids[1], "status"] == "ok"
    assert availability(card, tmp_path / "cache") == "4/4 cached"  # not verified any more
    report = _fetch(card, tmp_path, server)  # quick check: the missing file is seen
    assert report.fetched == [uids[2]]
    report = _fetch(card, tmp_path, server, full_check=True)
    assert report.fetched == [uids[0]]
    assert (verify(card, tmp_path / "cache")["status"] == "ok").all()


def test_server_500_then_success(tmp_path, server, cohort):
    card, uids = cohort
    server.plan[uids[1]] = ["500", "500"]
    server.plan["meta:" + uids[2]] = ["500"]
    _fetch(card, tmp_path, server)
    assert len(_downloads(server, uids[1])) == 3
    assert (verify(card, tmp_path / "cache")["status"] == "ok").all()


def test_server_500_always_is_a_fetch_error(tmp_path, server, cohort):
    card, uids = cohort
    server.plan[uids[1]] = ["500"] * 3
    with pytest.raises(FetchError, match=rf"1 item\(s\) failed, first {uids[1]}: series {uids[1]}: download failed 3 times \(last: HTTP 500\)"):
        _fetch(card, tmp_path, server)
    assert len(_downloads(server, uids[1])) == 3


def test_tcia_utils_none_is_retried_then_a_fetch_error(tmp_path, server, cohort):
    card, uids = cohort
    server.plan["meta:" + uids[0]] = ["empty", "500", "empty"]
    with pytest.raises(FetchError, match=f"series {uids[0]}: the TCIA API .* returned no metadata after 3 attempts"):
        _fetch(card, tmp_path, server)
    assert not _downloads(server, uids[0])
    server.plan["meta:" + uids[0]] = ["empty", "500"]  # None twice, then an answer: fine
    _fetch(card, tmp_path, server)
    assert (verify(card, tmp_path / "cache")["status"] == "ok").all()


def test_changed_image_count_is_refused(tmp_path, server, cohort):
    card, uids = cohort
    server.counts[uids[0]] += 1
    with pytest.raises(FetchError, match="TCIA now has 5 images, the card pins 4"):
        _fetch(card, tmp_path, server)


def test_server_down_clear_error_nothing_written(tmp_path, cohort):
    card, uids = cohort
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens on this port
    with pytest.raises(FetchError, match="returned no metadata") as err:
        fetch(card, tmp_path / "cache", base_url=f"http://127.0.0.1:{port}/v4/", policy=FAST)
    assert "check the network connection" in str(err.value)
    assert not [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]
    # without the metadata query, the download itself fails cleanly too
    from radrepro.datasets.tcia import fetch_series

    with pytest.raises(FetchError, match="download failed 3 times.*ConnectionError"):
        fetch_series(uids[0], tmp_path / "cache" / "x", expected_images=4, url=f"http://127.0.0.1:{port}/v4/",
                     policy=FAST, check_metadata=False)
    assert not [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]


def test_zip_with_parent_paths_is_refused(tmp_path, server, cohort):
    card, uids = cohort
    paths = sorted((tmp_path / "src" / uids[1]).iterdir())
    server.archives[uids[1]] = series_zip(paths[:-1], extra={"../../evil.dcm": b"evil"})
    with pytest.raises(FetchError, match=r"archive member '../../evil.dcm' would be written outside"):
        _fetch(card, tmp_path, server)
    assert not list(tmp_path.rglob("evil.dcm"))
    assert not (tmp_path / "cache" / "fake" / "dicom" / uids[1]).exists()


def _ibsi_card(tmp_path, server, files):
    lines = []
    for path, data in files.items():
        server.files[path] = data
        lines.append(f'[[files]]\npath = "{path}"\nurl = "{server.root}{path}"\n'
                     f'sha256 = "{hashlib.sha256(data).hexdigest()}"\nsize = {len(data)}\n')
    (tmp_path / "cards").mkdir(exist_ok=True)
    p = tmp_path / "cards" / "fake-ibsi.toml"
    p.write_text('name = "fake-ibsi"\ntitle = "t"\nkind = "ibsi"\ndescription = "d"\ndoi = "x"\ncitation = "c"\n'
                 'licence = "CC0"\nmodality = "CT"\ncache_dir = "ibsi"\n[segmentation]\nkind = "NIfTI"\nroi = "1"\n'
                 '[pairing]\nkind = "none"\n[[cases]]\nid = "c1"\nimage = "a/image.nii.gz"\nmask = "a/mask.nii.gz"\n\n'
                 + "\n".join(lines))
    return read_card(p)


def test_ibsi_files_fetch_with_sha256(tmp_path, server):
    import SimpleITK as sitk

    arr = np.arange(24, dtype=np.int16).reshape(2, 3, 4)
    blobs = {}
    for name, a in (("image", arr), ("mask", (arr > 5).astype(np.uint8))):
        sitk.WriteImage(sitk.GetImageFromArray(a), str(tmp_path / f"{name}.nii.gz"))
        blobs[f"a/{name}.nii.gz"] = (tmp_path / f"{name}.nii.gz").read_bytes()
    card = _ibsi_card(tmp_path, server, blobs)
    server.plan["a/image.nii.gz"] = ["drop", "corrupt"]  # resumed, then a wrong sha256: fetched again
    report = fetch(card, tmp_path / "cache", policy=FAST)
    assert sorted(report.fetched) == sorted(blobs)
    assert (verify(card, tmp_path / "cache")["status"] == "ok").all()
    (case,) = load_cases(card, tmp_path / "cache")
    image, mask = case.load()
    assert int(sitk.GetArrayViewFromImage(mask).sum()) == 18
    server.plan["a/mask.nii.gz"] = ["corrupt"] * 3
    (tmp_path / "cache" / "ibsi" / "a" / "mask.nii.gz").unlink()
    with pytest.raises(FetchError, match="a/mask.nii.gz: the file from .* fails its sha256 check"):
        fetch(card, tmp_path / "cache", policy=FAST)
    assert not (tmp_path / "cache" / "ibsi" / "a" / "mask.nii.gz").exists()


def test_cli_fetch_verify_convert_a_card_file(tmp_path, server, cohort, capsys):
    """The command line runs the same code: fetch, verify, convert a card given by its path."""
    from radrepro.cli import main

    card, uids = cohort
    dest = str(tmp_path / "cache")
    assert main(["datasets", "fetch", str(card.path), "--dest", dest, "--base-url", server.base,
                 "--retries", "2", "--workers", "2"]) == 0
    assert "fake: 4 fetched, 0 already complete" in capsys.readouterr().out
    assert main(["datasets", "verify", str(card.path), "--dest", dest]) == 0
    assert "4 ok" in capsys.readouterr().out
    assert main(["datasets", "convert", str(card.path), "--dest", dest]) == 0
    assert "2 cases converted, 0 failed" in capsys.readouterr().out
    server.plan[uids[0]] = ["500"] * 2
    (tmp_path / "cache" / "fake" / "dicom" / uids[0] / "manifest.json").unlink()
    assert main(["datasets", "fetch", str(card.path), "--dest", dest, "--base-url", server.base, "--retries", "2"]) == 2
    err = capsys.readouterr().err
    assert f"series {uids[0]}: download failed 2 times (last: HTTP 500)" in err and "again to resume" in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("name", ["ibsi-1-phantoms", "ibsi-2-phantoms"])
def test_real_ibsi_cards_from_a_local_mirror(tmp_path, server, ibsi_data, capsys, name):
    """The real IBSI cards, served from the shared copies: every sha256 pin holds, the IBSI 1 reference
    table derived from the workbook is byte-identical, and the files land where `radrepro ibsi` reads them."""
    from radrepro.cli import main
    from radrepro.datasets.cards import get_card
    from radrepro.ibsi import ibsi1, ibsi2

    card = get_card(name)
    for f in card.data["files"]:
        server.files[f["url"].split("://", 1)[1]] = (ibsi_data / f["path"]).read_bytes()
    dest = tmp_path / "cache"
    assert main(["datasets", "fetch", name, "--dest", str(dest), "--mirror", server.root]) == 0
    n = len(card.data["files"]) + len(card.data.get("derived", []))
    assert f"{n} fetched" in capsys.readouterr().out
    root = dest / "ibsi"
    if name == "ibsi-1-phantoms":
        needed = [ibsi1.REFERENCE] + sorted({p for pair in ibsi1.IMAGES.values() for p in pair})
        assert (root / ibsi1.REFERENCE).read_bytes() == (ibsi_data / ibsi1.REFERENCE).read_bytes()
    else:
        needed = [ibsi2.phantom_path(p) for p, _ in ibsi2.PHASE1_TESTS.values()]
        needed += [ibsi2.reference_map_path(t) for t in ibsi2.PHASE1_TESTS] + [ibsi2.PHASE2_REFERENCE, *ibsi2.CT_IMAGE]
    assert all((root / p).is_file() for p in needed)
    assert main(["datasets", "verify", name, "--dest", str(dest)]) == 0
    assert f"{n} ok" in capsys.readouterr().out
    cases = load_cases(card, dest)
    assert len(cases) == len(card.data["cases"])
    image, mask = cases[0].load()
    assert image.GetSize() == mask.GetSize()
