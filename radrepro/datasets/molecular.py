"""A TCIA card's per-subject clinical/molecular table: declared, fetched (trust on first use), coded.

A card's ``[molecular]`` table declares a CSV the collection publishes next to its images (e.g. the
EGFR/KRAS/ALK status of NSCLC Radiogenomics): ``file``, ``url``, ``licence``, ``id_column`` (its
subject id, equal to the DICOM ``PatientID``: ``joins = "PatientID"``), optionally ``site_column``,
``missing`` (values meaning "not known") and ``sha256``, and one ``[[molecular.variables]]`` entry
per variable radrepro makes from it::

    [[molecular.variables]]
    name = "mol_egfr"               # column of molecular.csv
    column = "EGFR mutation status" # column of the published table (header spaces trimmed)
    kind = "binary"                 # binary | ordinal | category (codes) or number
    codes = { Mutant = 1, Wildtype = 0 }

**Fetch.** The file is downloaded with the data set (:func:`fetch_molecular`: resume, retries,
atomic rename) into ``<cache>/<name>/molecular/``. When the card pins no sha256
(``sha256 = "trust-on-first-use"``), the first download's sha256 and size are recorded in
``molecular/manifest.json``; ``verify`` and later fetches check the file against that record and a
download that differs from it is refused (the hint says how to accept a new version).

**Convert.** :func:`write_molecular` writes ``molecular.csv`` next to ``cases.csv``: one row per
converted case (column ``case``: the same ids), ``site`` when declared, then the coded variables.
Values are compared trimmed and case-insensitively; empty cells and the ``missing`` values become
missing; a value that is neither a code nor missing becomes missing too and is listed, one row per
value, in ``molecular_problems.csv``, as are cases whose subject has no row. A table that cannot be
joined (no id column, duplicate ids, a declared column absent) is an :class:`InputError` naming the
file and the fix.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd

from radrepro.errors import DataUnavailableError, FetchError, InputError

TOFU = "trust-on-first-use"
KINDS = ("binary", "ordinal", "category", "number")
OUTPUT = "molecular.csv"
PROBLEMS = "molecular_problems.csv"
PROBLEM_COLUMNS = ["case", "subject", "variable", "column", "value", "problem"]
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def validate_molecular(card) -> None:
    """Check a card's ``[molecular]`` table; raise :class:`InputError` naming the card and the key."""
    spec = card.data["molecular"]

    def bad(what: str, hint: str) -> InputError:
        return InputError(f"dataset card {card.path}: [molecular] {what}", hint)

    if not isinstance(spec, dict) or not isinstance(spec.get("variables", []), list) \
            or not all(isinstance(v, dict) for v in spec.get("variables", [])):
        raise bad("is not a table with [[molecular.variables]] entries", "see datasets/nsclc-radiogenomics.toml")

    for key in ("file", "url", "licence", "id_column", "variables"):
        if not spec.get(key):
            raise bad(f"has no '{key}'", "give file, url, licence, id_column and [[molecular.variables]]")
    if "/" in spec["file"] or "\\" in spec["file"] or spec["file"].startswith("."):
        raise bad(f"file {spec['file']!r} is not a plain file name", "give the file's name only (no folder)")
    sha = spec.get("sha256", TOFU)
    if sha != TOFU and not _HEX64.match(str(sha)):
        raise bad(f"sha256 {sha!r} is neither 64 hex digits nor {TOFU!r}", f"pin the sha256 or write {TOFU!r}")
    if spec.get("joins", "PatientID") != "PatientID":
        raise bad(f"joins {spec['joins']!r}", "only 'PatientID' is supported: the id column holds the DICOM PatientID")
    names = set()
    for i, v in enumerate(spec["variables"]):
        name = v.get("name", "")
        where = f"variable {i + 1} ({name or 'no name'})"
        if not _NAME.match(name) or name in ("case", "site") or name in names:
            raise bad(f"{where}: name must be a unique identifier other than case and site", "e.g. mol_egfr")
        names.add(name)
        if not v.get("column"):
            raise bad(f"{where} has no 'column'", "name the column of the published table")
        if v.get("kind") not in KINDS:
            raise bad(f"{where}: kind {v.get('kind')!r}", f"use one of {', '.join(KINDS)}")
        codes = v.get("codes")
        if v["kind"] == "number":
            if codes:
                raise bad(f"{where}: a number has no codes", "drop codes or use kind ordinal")
            continue
        if not isinstance(codes, dict) or len(codes) < 2:
            raise bad(f"{where}: {v['kind']} needs codes for at least two values", 'e.g. codes = { Mutant = 1, Wildtype = 0 }')
        keys = [k.strip().casefold() for k in codes]
        if len(set(keys)) < len(keys):
            raise bad(f"{where}: two codes differ only in case or spaces", "values are compared trimmed and case-insensitively")
        values = list(codes.values())
        if v["kind"] == "binary" and set(values) != {0, 1}:
            raise bad(f"{where}: binary codes must map to 0 and 1", "e.g. { Mutant = 1, Wildtype = 0 }")
        if v["kind"] == "ordinal" and not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in values):
            raise bad(f"{where}: ordinal codes must be numbers", "e.g. { Nonsmoker = 0, Former = 1, Current = 2 }")
        if v["kind"] == "category" and not all(isinstance(x, str) and x for x in values):
            raise bad(f"{where}: category codes must be non-empty texts", 'e.g. { "Squamous cell carcinoma" = "squamous" }')


# --------------------------------------------------------------------------- fetch and verify


def molecular_dir(root: Path) -> Path:
    """Folder of the molecular table in a data set's cache folder."""
    return root / "molecular"


def molecular_file(card, root: Path) -> Path:
    """Where the fetched table lives."""
    return molecular_dir(root) / card.data["molecular"]["file"]


def _manifest_path(root: Path) -> Path:
    return molecular_dir(root) / "manifest.json"


def read_manifest(root: Path) -> dict:
    """The recorded sha256 and size of each fetched table (``{}`` when nothing was recorded)."""
    path = _manifest_path(root)
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text())
    except ValueError:
        return {}


def _write_manifest(root: Path, manifest: dict) -> None:
    path = _manifest_path(root)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True))
    os.replace(tmp, path)


def expected_sha256(card, root: Path) -> tuple[str | None, str]:
    """The sha256 the table must have and where it comes from (``card``, ``first fetch`` or none)."""
    spec = card.data["molecular"]
    if _HEX64.match(str(spec.get("sha256", ""))):
        return spec["sha256"], "card"
    record = read_manifest(root).get(spec["file"])
    if record and _HEX64.match(str(record.get("sha256", ""))):
        return record["sha256"], f"first fetch ({record.get('recorded', '?')})"
    return None, ""


def check_molecular(card, root: Path) -> tuple[str, str]:
    """``(status, detail)`` of the cached table: ``ok``, ``missing``, ``incomplete`` (no recorded
    sha256) or ``corrupt``. The file is small: its sha256 is always computed."""
    from radrepro.datasets.download import sha256_file

    path = molecular_file(card, root)
    if not path.is_file():
        return "missing", ""
    sha, source = expected_sha256(card, root)
    if sha is None:
        return "incomplete", "no sha256 recorded for it; fetch it again to record one"
    got = sha256_file(path)
    if got != sha:
        return "corrupt", f"sha256 {got[:12]}... differs from the {source} {sha[:12]}..."
    return "ok", ""


def fetch_molecular(card, root: Path, *, session=None, policy=None, progress=None, mirror: str | None = None) -> str:
    """Download the card's molecular table into the cache unless an intact copy is there.

    Returns ``"skipped"`` or ``"fetched"``. The download streams to a temporary file (resumed and
    retried by :func:`radrepro.datasets.download.download`), is checked against the expected
    sha256 (the card's, else the one recorded at the first fetch; downloaded again while it
    differs) and only then renamed into place. The first download of an unpinned table records its
    sha256 and size in ``molecular/manifest.json``.

    Raises
    ------
    FetchError
        When the download fails, or keeps differing from the expected sha256.
    """
    from radrepro.datasets.download import RetryPolicy, download, sha256_file
    from radrepro.datasets.fetch import mirrored

    policy = policy or RetryPolicy()
    spec = card.data["molecular"]
    path = molecular_file(card, root)
    status, _ = check_molecular(card, root)
    if status == "ok":
        return "skipped"
    expected, source = expected_sha256(card, root)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".download")
    url = mirrored(spec["url"], mirror)
    for attempt in range(policy.attempts):
        download(url, tmp, session=session, policy=policy, progress=progress, what=f"molecular table {spec['file']}")
        got = sha256_file(tmp)
        if expected is None or got == expected:
            break
        tmp.unlink()
        if attempt + 1 < policy.attempts:
            policy.sleep(attempt)
    else:
        if source == "card":
            raise FetchError(f"molecular table {spec['file']}: the file from {url} fails its sha256 check "
                             f"({policy.attempts} downloads)",
                             f"the source changed or is corrupt; check the url and sha256 in {card.path}")
        raise FetchError(f"molecular table {spec['file']}: the file from {url} differs from the one first fetched "
                         f"(sha256 {expected[:12]}..., {source}; {policy.attempts} downloads)",
                         f"if TCIA published a new version, delete {_manifest_path(root)} to trust it; else fetch again later")
    manifest = read_manifest(root)
    if spec["file"] not in manifest or manifest[spec["file"]].get("sha256") != got:
        manifest[spec["file"]] = {"sha256": got, "size": tmp.stat().st_size, "url": spec["url"],
                                  "trust": "card" if source == "card" else "first use",
                                  "recorded": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        _write_manifest(root, manifest)
    os.replace(tmp, path)
    return "fetched"


# --------------------------------------------------------------------------- convert


def _read_table(path: Path) -> pd.DataFrame:
    try:
        try:
            table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        except UnicodeDecodeError:
            table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="cp1252")
    except Exception as exc:  # pandas raises several types for a damaged file
        raise InputError(f"molecular table {path} cannot be read ({type(exc).__name__}: {str(exc)[:80]})",
                         "fetch it again with `radrepro datasets fetch --full-check`") from exc
    table.columns = [str(c).strip() for c in table.columns]
    dup = table.columns[table.columns.duplicated()].unique()
    if len(dup):
        raise InputError(f"molecular table {path} has the column(s) {', '.join(dup)} twice (header spaces trimmed)",
                         "the file is not the table the card describes: check it and the card")
    return table


def code_variable(values: pd.Series, spec: dict, missing: set[str]) -> tuple[pd.Series, list[tuple[int, str, str]]]:
    """Coded values of one variable (NaN when missing or unknown) and ``(row, value, problem)`` of
    every value that is neither a code, a number (kind number) nor a missing value."""
    codes = {str(k).strip().casefold(): v for k, v in (spec.get("codes") or {}).items()}
    out, problems = [], []
    for i, raw in enumerate(values):
        text = str(raw).strip()
        key = text.casefold()
        if key == "" or key in missing:
            out.append(np.nan)
        elif spec["kind"] == "number":
            try:
                out.append(float(text))
            except ValueError:
                out.append(np.nan)
                problems.append((i, text, "not a number"))
        elif key in codes:
            out.append(codes[key])
        else:
            out.append(np.nan)
            problems.append((i, text, "not one of the card's codes (" + ", ".join(spec["codes"]) + ")"))
    dtype = object if spec["kind"] == "category" else "float64"
    return pd.Series(out, index=values.index, dtype=dtype), problems


def code_table(card, path: Path, cases: pd.DataFrame, subject=str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Coded molecular table of ``cases`` (columns ``id`` and ``subject``, as in ``cases.csv``)
    from the published table at ``path``; returns ``(table, problems)``.

    ``subject`` turns a PatientID into the subject id of ``cases`` (the card's privacy namer).

    Raises
    ------
    InputError
        No id column, duplicate or declared columns absent: one line naming the file and the fix.
    """
    spec = card.data["molecular"]
    source = _read_table(path)
    id_col = spec["id_column"].strip()
    columns = ", ".join(source.columns[:12]) + (" ..." if len(source.columns) > 12 else "")
    if id_col not in source.columns:
        raise InputError(f"molecular table {path} has no '{id_col}' column (it has: {columns})",
                         f"set [molecular] id_column in {card.path} to the column of the subject ids")
    wanted = [v["column"].strip() for v in spec["variables"]] + ([spec["site_column"].strip()] if spec.get("site_column") else [])
    absent = [c for c in dict.fromkeys(wanted) if c not in source.columns]
    if absent:
        raise InputError(f"molecular table {path} has no column(s) {', '.join(repr(c) for c in absent)} (it has: {columns})",
                         f"fix the column names of [molecular] in {card.path}")
    ids = source[id_col].str.strip()
    dup = ids[ids.duplicated() & (ids != "")].unique()
    if len(dup):
        raise InputError(f"molecular table {path} has several rows for {id_col} {', '.join(dup[:5])}"
                         f"{' ...' if len(dup) > 5 else ''}",
                         "it must hold one row per subject: the file is not the one the card describes; "
                         "fetch it again or check it")
    source = source[ids != ""].copy()
    source.index = [subject(i) for i in ids[ids != ""]]
    missing = {str(m).strip().casefold() for m in spec.get("missing", [])}
    coded = pd.DataFrame(index=source.index)
    problems: list[dict] = []
    for v in spec["variables"]:
        col = v["column"].strip()
        coded[v["name"]], bad = code_variable(source[col], v, missing)
        for i, value, problem in bad:
            problems.append({"subject": source.index[i], "variable": v["name"], "column": col, "value": value,
                             "problem": problem})
    if spec.get("site_column"):
        site = source[spec["site_column"].strip()].str.strip()
        coded.insert(0, "site", site.where(~site.str.casefold().isin(missing | {""})))
    rows, out_problems = [], []
    for case, subj in zip(cases["id"].astype(str), cases["subject"].astype(str)):
        if subj in coded.index:
            rows.append({"case": case, **coded.loc[subj].to_dict()})
            out_problems += [{"case": case, **p} for p in problems if p["subject"] == subj]
        else:
            rows.append({"case": case})
            out_problems.append({"case": case, "subject": subj, "variable": "", "column": id_col, "value": "",
                                 "problem": f"no row for subject {subj} in {path.name}"})
    table = pd.DataFrame(rows, columns=["case", *coded.columns])
    table.attrs["subjects_without_case"] = int((~coded.index.isin(set(cases["subject"].astype(str)))).sum())
    return table, pd.DataFrame(out_problems, columns=PROBLEM_COLUMNS)


def write_molecular(card, root: Path, cases: pd.DataFrame, subject=str) -> dict:
    """Write ``molecular.csv`` (and ``molecular_problems.csv``) for the converted ``cases`` with
    status ok; returns ``{"path", "cases", "problems", "subjects_without_case"}``.

    Raises
    ------
    DataUnavailableError
        If the table is not in the cache.
    InputError
        See :func:`code_table`.
    """
    path = molecular_file(card, root)
    if not path.is_file():
        raise DataUnavailableError(f"{card.name}: the molecular table {path} is not in the cache (cases.csv was written)",
                                   f"run `radrepro datasets fetch {card.name}` (it fetches the table too), then convert again")
    ok = cases[cases["status"] == "ok"] if len(cases) else cases.assign(id=[], subject=[])
    table, problems = code_table(card, path, ok, subject)
    for name, frame in ((OUTPUT, table), (PROBLEMS, problems)):
        tmp = root / (".tmp-" + name)
        frame.to_csv(tmp, index=False)
        os.replace(tmp, root / name)
    return {"path": root / OUTPUT, "cases": len(table), "problems": len(problems),
            "subjects_without_case": table.attrs["subjects_without_case"]}


def read_coded(root: Path) -> pd.DataFrame | None:
    """``molecular.csv`` of a converted data set indexed by case id (None when there is none)."""
    path = root / OUTPUT
    if not path.is_file():
        return None
    table = pd.read_csv(path, dtype={"case": str})
    return table.set_index("case")
