"""The NSCLC Radiogenomics card's clinical/molecular table: fetched with trust-on-first-use sha256,
verified, coded into molecular.csv keyed by the converted case ids, read into case metadata, and
usable by `radrepro radiogenomics` as it is; bad tables give one-line errors or per-row problems.

The card under test is the real card's text (its [molecular] declarations unchanged) with a series
list of three generated subjects (CT + DICOM SEG) served by the local fake TCIA of test_fetch, and
a small table with the column names TCIA publishes (including the trailing space of "Histology ").
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re

import _dicom_synth as syn
import numpy as np
import pandas as pd
import pytest
from _cards import tcia_card
from test_fetch import FAST, series_zip, server  # noqa: F401  (server is a fixture)

from radrepro.cli import main
from radrepro.datasets.cards import get_card, load_cases, read_card
from radrepro.datasets.convert import convert
from radrepro.datasets.fetch import availability, fetch, verify
from radrepro.datasets.molecular import PROBLEM_COLUMNS, code_table
from radrepro.datasets.pinning import SERIES_COLUMNS
from radrepro.errors import FetchError, InputError

pytestmark = pytest.mark.network

REAL = get_card("nsclc-radiogenomics")
SPEC = REAL.data["molecular"]
KEY = SPEC["url"].split("://", 1)[1]  # where the fake server serves it (--mirror layout)
GEOM = syn.Geometry(rows=10, cols=14, slices=4, pixel_spacing=(0.8, 0.7), slice_gap=2.0, origin=(0.0, 0.0, 0.0))

# the columns of NSCLCR01Radiogenomic_DATA_LABELS_2018-05-22_1500-shifted.csv, in order
COLUMNS = ["Case ID", "Patient affiliation", "Age at Histological Diagnosis", "Weight (lbs)", "Gender", "Ethnicity",
           "Smoking status", "Pack Years", "Quit Smoking Year", "%GG", "Tumor Location (choice=RUL)",
           "Tumor Location (choice=RML)", "Tumor Location (choice=RLL)", "Tumor Location (choice=LUL)",
           "Tumor Location (choice=LLL)", "Tumor Location (choice=L Lingula)", "Tumor Location (choice=Unknown)",
           "Histology ", "Pathological T stage", "Pathological N stage", "Pathological M stage",
           "Histopathological Grade", "Lymphovascular invasion", "Pleural invasion (elastic, visceral, or parietal)",
           "EGFR mutation status", "KRAS mutation status", "ALK translocation status", "Adjuvant Treatment",
           "Chemotherapy", "Radiation", "Recurrence", "Recurrence Location", "Date of Recurrence",
           "Date of Last Known Alive", "Survival Status", "Date of Death", "Time to Death (days)", "CT Date",
           "Days between CT and surgery", "PET Date"]

# subject: values of the coded columns (the others get a filler)
ROWS = {
    "R01-001": {"Patient affiliation": "Stanford", "Age at Histological Diagnosis": "68", "Gender": "Male",
                "Smoking status": "Former", "Pack Years": "40", "Histology ": "Adenocarcinoma",
                "Pathological T stage": "T1a", "Pathological N stage": "N0", "Pathological M stage": "M0",
                "EGFR mutation status": "Mutant", "KRAS mutation status": "Wildtype",
                "ALK translocation status": "Wildtype", "Recurrence": "no", "Survival Status": "Alive"},
    "R01-002": {"Patient affiliation": "VA", "Age at Histological Diagnosis": "71", "Gender": "Female",
                "Smoking status": "Nonsmoker", "Pack Years": "NA", "Histology ": "Squamous cell carcinoma",
                "Pathological T stage": "T2a", "Pathological N stage": "N1", "Pathological M stage": "M0",
                "EGFR mutation status": "Wildtype", "KRAS mutation status": "Mutant",
                "ALK translocation status": "Unknown", "Recurrence": "yes", "Survival Status": "Dead"},
    "R01-003": {"Patient affiliation": "Stanford", "Age at Histological Diagnosis": "Not Collected",
                "Gender": "Female", "Smoking status": "Current", "Pack Years": "20",
                "Histology ": "NSCLC NOS (not otherwise specified)", "Pathological T stage": "Tis",
                "Pathological N stage": "N2", "Pathological M stage": "M1b",
                "EGFR mutation status": "Not collected", "KRAS mutation status": "Mutated?",
                "ALK translocation status": "Translocated", "Recurrence": "Not collected",
                "Survival Status": " alive "},
    # subjects without a SEG: in the table, not cases
    "R01-004": {"Patient affiliation": "VA", "EGFR mutation status": "Mutant"},
    "AMC-001": {"Patient affiliation": "VA", "EGFR mutation status": "Wildtype"},
}

# molecular.csv, computed by hand from ROWS and the card's codes
EXPECTED = pd.DataFrame(
    [["R01-001", "Stanford", 1, 0, 0, "adenocarcinoma", "T1a", "N0", "M0", 1, 1, 68, 40, 0, 0],
     ["R01-002", "VA", 0, 1, np.nan, "squamous", "T2a", "N1", "M0", 0, 0, 71, np.nan, 1, 1],
     ["R01-003", "Stanford", np.nan, np.nan, 1, "nos", "Tis", "N2", "M1b", 2, 0, np.nan, 20, np.nan, 0]],
    columns=["case", "site", "mol_egfr", "mol_kras", "mol_alk", "clin_histology", "clin_t_stage", "clin_n_stage",
             "clin_m_stage", "clin_smoking", "clin_male", "clin_age", "clin_pack_years", "clin_recurrence", "clin_dead"])


def table_bytes(rows: dict, columns: list[str] = COLUMNS) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(columns)
    for subject, values in rows.items():
        w.writerow([subject if c == "Case ID" else values.get(c, "Not Collected" if "Date" not in c else "") for c in columns])
    return buf.getvalue().encode()


def real_card_copy(folder, name: str, rows: list[dict]):
    """The real card's text with another name and a generated series list."""
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows, columns=SERIES_COLUMNS).to_csv(folder / f"{name}.series.csv", index=False)
    text = REAL.path.read_text().replace('name = "nsclc-radiogenomics"', f'name = "{name}"')
    text = text.replace('file = "nsclc-radiogenomics.series.csv"', f'file = "{name}.series.csv"')
    text = re.sub(r"count = \d+", f"count = {len(rows)}", text)
    (folder / f"{name}.toml").write_text(text)
    return read_card(folder / f"{name}.toml")


@pytest.fixture
def rg(tmp_path, server):  # noqa: F811
    """Three subjects with CT + SEG and the molecular table on the fake server; returns the card."""
    rows = []
    for n, pid in enumerate(("R01-001", "R01-002", "R01-003")):
        ct = syn.ct_series(GEOM, patient_id=pid, seed=n)
        truth = np.zeros((GEOM.slices, GEOM.rows, GEOM.cols), dtype=bool)
        truth[1:3, 2:6, 3:3 + 2 + n] = True  # 16, 24, 32 voxels
        seg = syn.seg(ct, truth, label="Neoplasm", description="3D Slicer segmentation result")
        for datasets in (ct, [seg]):
            paths = syn.write(datasets, tmp_path / "src" / datasets[0].SeriesInstanceUID)
            uid = datasets[0].SeriesInstanceUID
            server.archives[uid] = series_zip(paths)
            server.counts[uid] = len(paths)
        rows += [syn.series_row(ct[0], len(ct)), syn.series_row(seg, 1, "SEG", seg.SeriesDescription)]
    server.files[KEY] = table_bytes(ROWS)
    return real_card_copy(tmp_path / "cards", "rg-test", rows)


def _fetch(card, tmp_path, server, **kw):  # noqa: F811
    return fetch(card, tmp_path / "cache", base_url=server.base, mirror=server.root, policy=FAST, **kw)


def test_fetch_verify_convert_and_join_to_cases(tmp_path, server, rg, capsys):  # noqa: F811
    item = "molecular/" + SPEC["file"]
    server.plan[KEY] = ["drop"]  # the table's download is cut off once: resumed
    report = _fetch(rg, tmp_path, server)
    assert item in report.fetched and len(report.fetched) == 7 and not report.failed
    calls = [r for r in server.log if r[1] == "/files/" + KEY]
    assert len(calls) == 2 and calls[1][2] == f"bytes={len(server.files[KEY]) // 2}-"
    root = tmp_path / "cache" / "rg-test"
    cached = root / "molecular" / SPEC["file"]
    assert cached.read_bytes() == server.files[KEY]
    record = json.loads((root / "molecular" / "manifest.json").read_text())[SPEC["file"]]
    assert record["sha256"] == hashlib.sha256(server.files[KEY]).hexdigest() and record["trust"] == "first use"
    assert record["size"] == len(server.files[KEY]) and record["url"] == SPEC["url"]
    table = verify(rg, tmp_path / "cache").set_index("item")
    assert len(table) == 7 and (table["status"] == "ok").all() and table.loc[item, "status"] == "ok"
    assert availability(rg, tmp_path / "cache") == "verified"
    assert [p for p in root.rglob("*") if p.is_file() and (".part" in p.name or ".download" in p.name)] == []

    cases = convert(rg, tmp_path / "cache")
    assert cases["status"].tolist() == ["ok"] * 3 and cases["voxels"].astype(int).tolist() == [16, 24, 32]
    assert cases.attrs["molecular"]["cases"] == 3 and cases.attrs["molecular"]["subjects_without_case"] == 2
    molecular = pd.read_csv(root / "molecular.csv", dtype={"case": str})
    assert molecular["case"].tolist() == cases["id"].tolist() == ["R01-001", "R01-002", "R01-003"]
    pd.testing.assert_frame_equal(molecular, EXPECTED, check_dtype=False)
    problems = pd.read_csv(root / "molecular_problems.csv", dtype=str, keep_default_na=False)
    assert list(problems.columns) == PROBLEM_COLUMNS
    assert problems.values.tolist() == [["R01-003", "R01-003", "mol_kras", "KRAS mutation status", "Mutated?",
                                         "not one of the card's codes (Mutant, Wildtype)"]]
    # the suite's cases carry the coded variables (missing ones left out)
    by_id = {c.id: c for c in load_cases(rg, tmp_path / "cache")}
    assert by_id["R01-001"].metadata["mol_egfr"] == 1.0 and by_id["R01-001"].metadata["site"] == "Stanford"
    assert by_id["R01-002"].metadata["clin_histology"] == "squamous" and "mol_alk" not in by_id["R01-002"].metadata
    assert "mol_egfr" not in by_id["R01-003"].metadata and by_id["R01-003"].metadata["clin_smoking"] == 2.0
    assert by_id["R01-003"].metadata["roi"] == "Neoplasm" and by_id["R01-003"].metadata["subject"] == "R01-003"
    # which the suite's radiogenomics step reads (its mol_* columns)
    from radrepro.radiogenomics import suite_step
    from radrepro.results import long_rows

    meta = pd.DataFrame([{"case": c.id, **c.metadata} for c in by_id.values()])
    results = pd.concat([long_rows({"f": float(i)}, case=c, extractor="x@1", convention="c", settings="s", seconds=0.1)
                         for i, c in enumerate(by_id)])
    summary, _ = suite_step(results, meta, site=None, predict=False)
    assert summary["variable"].tolist() == ["mol_egfr", "mol_kras", "mol_alk"]

    assert main(["datasets", "convert", str(rg.path), "--dest", str(tmp_path / "cache")]) == 0
    out = capsys.readouterr().out
    assert "3 cases converted, 0 failed" in out and "2 subjects of the published table have no case" in out
    assert "1 value(s) could not be coded or are absent, listed in" in out and "molecular_problems.csv" in out


def test_trust_on_first_use_detects_corruption_and_a_changed_source(tmp_path, server, rg):  # noqa: F811
    item = "molecular/" + SPEC["file"]
    _fetch(rg, tmp_path, server)
    root = tmp_path / "cache" / "rg-test"
    cached = root / "molecular" / SPEC["file"]
    first = hashlib.sha256(server.files[KEY]).hexdigest()
    data = bytearray(cached.read_bytes())
    data[-3] ^= 0x01  # same size: only the sha256 tells
    cached.write_bytes(bytes(data))
    table = verify(rg, tmp_path / "cache").set_index("item")
    assert table.loc[item, "status"] == "corrupt" and f"differs from the first fetch" in table.loc[item, "detail"]
    assert (table.drop(item)["status"] == "ok").all() and availability(rg, tmp_path / "cache") == "6/6 cached"
    n = len(server.log)
    report = _fetch(rg, tmp_path, server)  # the copy in the cache is checked every time: fetched again
    assert report.fetched == [item] and len(report.skipped) == 6 and len(server.log) == n + 1
    assert hashlib.sha256(cached.read_bytes()).hexdigest() == first
    # TCIA serves another file: refused, the cached copy and the record are kept
    server.files[KEY] = table_bytes({**ROWS, "R01-005": {"EGFR mutation status": "Mutant"}})
    cached.unlink()
    with pytest.raises(FetchError, match="differs from the one first fetched") as err:
        _fetch(rg, tmp_path, server)
    assert "delete" in str(err.value) and "manifest.json to trust it" in str(err.value) and "\n" not in str(err.value)
    assert not cached.exists() and not list((root / "molecular").glob("*.download*"))
    assert verify(rg, tmp_path / "cache").set_index("item").loc[item, "status"] == "missing"
    # accepting the new version: delete the record
    (root / "molecular" / "manifest.json").unlink()
    assert _fetch(rg, tmp_path, server).fetched == [item]
    record = json.loads((root / "molecular" / "manifest.json").read_text())[SPEC["file"]]
    assert record["sha256"] == hashlib.sha256(server.files[KEY]).hexdigest() != first
    # a file in the cache without any record cannot be verified
    (root / "molecular" / "manifest.json").unlink()
    assert verify(rg, tmp_path / "cache").set_index("item").loc[item, "status"] == "incomplete"


def test_pinned_sha256_is_checked(tmp_path, server, rg):  # noqa: F811
    text = rg.path.read_text().replace('sha256 = "trust-on-first-use"', f'sha256 = "{"0" * 64}"')
    rg.path.write_text(text)
    card = read_card(rg.path)
    with pytest.raises(FetchError, match=r"fails its sha256 check \(3 downloads\)"):
        _fetch(card, tmp_path, server)
    rg.path.write_text(text.replace("0" * 64, hashlib.sha256(server.files[KEY]).hexdigest()))
    card = read_card(rg.path)
    assert "molecular/" + SPEC["file"] in _fetch(card, tmp_path, server).fetched
    assert (verify(card, tmp_path / "cache")["status"] == "ok").all()


def _cases(*subjects):
    return pd.DataFrame({"id": list(subjects), "subject": list(subjects), "status": "ok"})


def test_bad_tables_are_one_line_errors(tmp_path):
    path = tmp_path / SPEC["file"]
    cases = _cases("R01-001", "R01-002")
    path.write_bytes(table_bytes(ROWS, ["Patient ID", *COLUMNS[1:]]))
    with pytest.raises(InputError, match=r"has no 'Case ID' column \(it has: Patient ID, Patient affiliation") as err:
        code_table(REAL, path, cases)
    assert str(path) in str(err.value) and "set [molecular] id_column in" in str(err.value)
    lines = table_bytes(ROWS).decode().splitlines()
    path.write_text("\n".join([*lines, lines[1]]) + "\n")
    with pytest.raises(InputError, match="several rows for Case ID R01-001; it must hold one row per subject"):
        code_table(REAL, path, cases)
    path.write_bytes(table_bytes(ROWS, [c for c in COLUMNS if c != "KRAS mutation status"]))
    with pytest.raises(InputError, match="has no column\\(s\\) 'KRAS mutation status'.*fix the column names of \\[molecular\\]"):
        code_table(REAL, path, cases)
    path.write_bytes(b'"Case ID,Gender\n\x00\x01')
    with pytest.raises(InputError, match="cannot be read"):
        code_table(REAL, path, cases)


def test_cases_without_a_row_and_unknown_values_are_recorded_per_row(tmp_path):
    path = tmp_path / SPEC["file"]
    path.write_bytes(table_bytes({"R01-001": {**ROWS["R01-001"], "Gender": "M", "Age at Histological Diagnosis": "sixty"}}))
    table, problems = code_table(REAL, path, _cases("R01-001", "R01-009"))
    assert table["case"].tolist() == ["R01-001", "R01-009"]
    assert table.loc[0, "mol_egfr"] == 1 and np.isnan(table.loc[0, "clin_male"]) and np.isnan(table.loc[0, "clin_age"])
    assert table.iloc[1, 1:].isna().all()
    assert problems[["case", "variable", "value", "problem"]].values.tolist() == [
        ["R01-001", "clin_male", "M", "not one of the card's codes (Male, Female)"],
        ["R01-001", "clin_age", "sixty", "not a number"],
        ["R01-009", "", "", f"no row for subject R01-009 in {SPEC['file']}"]]


def test_cli_convert_names_a_bad_table(tmp_path, server, rg, capsys):  # noqa: F811
    server.files[KEY] = table_bytes(ROWS, ["CaseID", *COLUMNS[1:]])
    _fetch(rg, tmp_path, server)
    assert main(["datasets", "convert", str(rg.path), "--dest", str(tmp_path / "cache")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "has no 'Case ID' column" in err and SPEC["file"] in err
    assert (tmp_path / "cache" / "rg-test" / "cases.csv").is_file()  # the images were converted


def test_molecular_csv_feeds_radrepro_radiogenomics_directly(tmp_path, capsys):
    """A coded table of 40 cases (two sites) goes to the radiogenomics command as it is."""
    from radrepro.results import long_rows, write_results

    rng = np.random.default_rng(0)
    subjects = [f"R01-{i:03d}" for i in range(1, 41)]
    rows = {s: {"Patient affiliation": "Stanford" if i % 2 else "VA",
                "EGFR mutation status": "Mutant" if i % 3 == 0 else "Wildtype",
                "KRAS mutation status": "Unknown" if i % 5 == 0 else ["Mutant", "Wildtype"][i % 2],
                "ALK translocation status": "Wildtype", "Gender": ["Male", "Female"][i % 2],
                "Age at Histological Diagnosis": str(50 + i), "Smoking status": ["Nonsmoker", "Former", "Current"][i % 3],
                "Histology ": ["Adenocarcinoma", "Squamous cell carcinoma"][i % 4 == 0], "Survival Status": "Alive"}
            for i, s in enumerate(subjects)}
    path = tmp_path / SPEC["file"]
    path.write_bytes(table_bytes(rows))
    table, problems = code_table(REAL, path, _cases(*subjects))
    table.to_csv(tmp_path / "molecular.csv", index=False)
    egfr = table.set_index("case")["mol_egfr"]
    results = pd.concat([long_rows({"f_linked": float(egfr[c]) * 1.5 + rng.normal(), "f_noise": rng.normal()},
                                   case=c, extractor="x@1", convention="c", settings="s", seconds=0.1) for c in subjects])
    write_results(results, tmp_path / "results.parquet")
    code = main(["radiogenomics", str(tmp_path / "results.parquet"), str(tmp_path / "molecular.csv"),
                 "-o", str(tmp_path / "out"), "--site", "site", "--no-predict"])
    assert code == 0
    summary = pd.read_csv(tmp_path / "out" / "radiogenomics_summary.csv").set_index("variable")
    assert summary.loc["mol_egfr", "verdict"] == "linked" and summary.loc["mol_egfr", "kind"] == "binary"
    assert summary.loc["mol_alk", "kind"] == "constant" and summary.loc["clin_age", "kind"] == "continuous"
    assert "site" not in summary.index
    assert "molecular variable 'mol_kras' is missing for" in capsys.readouterr().err


def test_card_molecular_declarations_are_validated(tmp_path):
    assert [v["name"] for v in SPEC["variables"]][:3] == ["mol_egfr", "mol_kras", "mol_alk"]
    assert SPEC["id_column"] == "Case ID" and SPEC["sha256"] == "trust-on-first-use" and SPEC["licence"] == "CC BY 3.0"
    good = REAL.path.read_text()
    bad = {
        "binary codes must map to 0 and 1": good.replace("{ Mutant = 1, Wildtype = 0 }", "{ Mutant = 2, Wildtype = 0 }", 1),
        "is not a table": good.split("\n[molecular]\n")[0].replace('kind = "tcia"', 'kind = "tcia"\nmolecular = "x"'),
        "kind 'boolean'": good.replace('kind = "binary"', 'kind = "boolean"', 1),
        "neither 64 hex digits": good.replace('sha256 = "trust-on-first-use"', 'sha256 = "abc"'),
        "has no 'id_column'": good.replace('id_column = "Case ID"', ""),
        "name must be a unique identifier": good.replace('name = "mol_kras"', 'name = "mol_egfr"'),
        "not a plain file name": good.replace(f'file = "{SPEC["file"]}"', 'file = "../x.csv"'),
    }
    for message, text in bad.items():
        p = tmp_path / "nsclc-radiogenomics.toml"
        p.write_text(text)
        with pytest.raises(InputError, match=re.escape(message)) as err:
            read_card(p)
        assert str(p) in str(err.value) and "[molecular]" in str(err.value) and "\n" not in str(err.value)
    assert tcia_card(tmp_path / "plain", "plain", []).data.get("molecular") is None  # cards without one are fine
