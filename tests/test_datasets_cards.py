"""Every dataset card parses and validates; TCIA series lists are what their recorded query gives;
IBSI checksums match the published files; the datasets CLI shows cards and the cache."""

from __future__ import annotations

import hashlib
import re
from importlib.metadata import version
from pathlib import Path

import pandas as pd
import pytest

from radrepro.cli import main
from radrepro.datasets.cards import all_cards, get_card, read_card
from radrepro.datasets.pinning import SERIES_COLUMNS, query_series, series_list_path
from radrepro.errors import InputError

CARDS = all_cards()
TCIA = [c for c in CARDS.values() if c.kind == "tcia"]
IBSI = [c for c in CARDS.values() if c.kind == "ibsi"]
UID = re.compile(r"^[0-9]+(\.[0-9]+)+$")

# collection name as TCIA spells it, from IDC's collections index (installed with idc-index-data)
EXPECTED = {
    "rider-lung-ct": ("RIDER Lung CT", "rider_lung_ct", "RTSTRUCT", 31),
    "cc-radiomics-phantom": ("CC-Radiomics-Phantom", "cc_radiomics_phantom", "RTSTRUCT", 17),
    "nsclc-radiomics": ("NSCLC-Radiomics", "nsclc_radiomics", "RTSTRUCT", 422),
    "nsclc-radiomics-interobserver1": ("NSCLC-Radiomics-Interobserver1", "nsclc_radiomics_interobserver1", "RTSTRUCT", 22),
    "lidc-idri": ("LIDC-IDRI", "lidc_idri", "SEG", 875),
    "nsclc-radiogenomics": ("NSCLC Radiogenomics", "nsclc_radiogenomics", "SEG", 144),
}


def test_the_required_cards_exist_and_validate():
    assert set(EXPECTED) <= set(CARDS)
    assert {"ibsi-1-phantoms", "ibsi-2-phantoms", "ibsi-digital-phantom", "synthetic-multicentre"} <= set(CARDS)
    for card in CARDS.values():
        assert card.path.stem == card.name
        assert card.citation and card.licence and card.data["description"].strip()
        if card.kind != "embedded":
            assert card.doi.startswith("10.")


def test_collection_names_are_tcias_spelling():
    import idc_index_data

    collections = pd.read_parquet(Path(idc_index_data.IDC_INDEX_PARQUET_FILEPATH).with_name("collections_index.parquet"))
    names = dict(zip(collections["collection_id"], collections["collection_name"]))
    for name, (collection, idc_id, seg_kind, subjects) in EXPECTED.items():
        card = CARDS[name]
        assert card.data["collection"] == collection == names[idc_id]
        assert f"collection_id = '{idc_id}'" in card.data["series"]["query"]
        assert card.data["segmentation"]["kind"] == seg_kind


@pytest.mark.parametrize("card", TCIA, ids=lambda c: c.name)
def test_series_list_is_the_recorded_query(card):
    s = card.series()
    assert list(s.columns) == SERIES_COLUMNS
    assert len(s) == card.data["series"]["count"]
    assert s["SeriesInstanceUID"].is_unique and s["SeriesInstanceUID"].str.match(UID).all()
    assert (s["image_count"] > 0).all() and (s["size_mb"] > 0).all()
    seg_kind = card.data["segmentation"]["kind"]
    assert set(s["Modality"]) == {card.data["modality"], seg_kind}
    # every subject with a segmentation has an image series
    segs, images = s[s["Modality"] == seg_kind], s[s["Modality"] != seg_kind]
    assert set(segs["PatientID"]) <= set(images["PatientID"])
    assert s["PatientID"].nunique() == EXPECTED[card.name][3]
    made_with = card.data["series"]["made_with"]
    assert f"idc-index {version('idc-index')}" in made_with and f"idc-index-data {version('idc-index-data')}" in made_with, \
        f"{card.name} was pinned with {made_with}: rebuild it with `radrepro datasets pin {card.name}`"
    again = query_series(card.data["series"]["query"])
    assert again.to_csv(index=False) == series_list_path(card).read_text()


def test_pairing_patterns_parse_the_segmentation_descriptions():
    rider = CARDS["rider-lung-ct"].series()
    rts = rider[rider["Modality"] == "RTSTRUCT"]
    rx = re.compile(CARDS["rider-lung-ct"].data["pairing"]["pattern"])
    tp = [rx.search(d).group("timepoint") for d in rts["SeriesDescription"]]
    assert tp.count("TEST") == 30 and tp.count("RETEST") == 29  # 28 complete pairs, 3 single
    lidc = CARDS["lidc-idri"].series()
    segs = lidc[lidc["Modality"] == "SEG"]
    rx = re.compile(CARDS["lidc-idri"].data["pairing"]["pattern"])
    parsed = [rx.search(d) for d in segs["SeriesDescription"]]
    assert all(parsed)
    ids = pd.DataFrame({"study": segs["StudyInstanceUID"].values, "nodule": [m.group("nodule") for m in parsed],
                        "annotation": [m.group("annotation") for m in parsed]})
    # (study, nodule number) is not one physical nodule: readings number their nodules independently
    assert ids.groupby(["study", "nodule"]).size().max() > 4
    assert not ids.duplicated().any()  # but (study, nodule, annotation) tells every SEG apart


@pytest.mark.parametrize("card", IBSI, ids=lambda c: c.name)
def test_ibsi_pins_match_the_published_files(card, ibsi_data):
    """sha256 and size of every pinned file equal the copies of the published git blobs."""
    checked = 0
    for f in card.data["files"]:
        assert f["url"].startswith("https://raw.githubusercontent.com/theibsi/") or "z-rad" in f["url"]
        assert re.search(r"/[0-9a-f]{40}/", f["url"]), "URLs are pinned to a commit"
        local = ibsi_data / f["path"]
        data = local.read_bytes()
        assert len(data) == f["size"] and hashlib.sha256(data).hexdigest() == f["sha256"], f["path"]
        checked += 1
    assert checked == len(card.data["files"]) >= 9


def test_bad_cards_are_one_line_errors(tmp_path):
    good = CARDS["rider-lung-ct"].path.read_text()
    cases = {
        "no-collection": (good.replace('collection = "RIDER Lung CT"\n', ""), "no 'collection'"),
        "bad-seg": (good.replace('kind = "RTSTRUCT"', 'kind = "MASK"'), "segmentation kind 'MASK'"),
        "bad-pattern": (good.replace("(?P<timepoint>RETEST|TEST)", "(?P<timepoint>RETEST|TEST"), "pattern does not compile"),
    }
    for name, (text, message) in cases.items():
        p = tmp_path / f"{name}.toml"
        p.write_text(text.replace('name = "rider-lung-ct"', f'name = "{name}"'))
        with pytest.raises(InputError, match=re.escape(message)) as err:
            read_card(p)
        assert str(p) in str(err.value) and "\n" not in str(err.value)
    p = tmp_path / "other.toml"
    p.write_text(good)
    with pytest.raises(InputError, match="differs from the file name"):
        read_card(p)
    ibsi = CARDS["ibsi-1-phantoms"].path.read_text()
    p = tmp_path / "ibsi-1-phantoms.toml"
    p.write_text(ibsi.replace('path = "ibsi1/ct_phantom/LICENSE.md"', 'path = "../LICENSE.md"'))
    with pytest.raises(InputError, match="leaves the data folder"):
        read_card(p)


def test_cli_list_show_verify(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("RADREPRO_DATA", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["datasets", "list"]) == 0
    out = capsys.readouterr().out
    assert "7742 series" in out and "not fetched" in out and "embedded" in out
    assert main(["datasets", "show", "nsclc-radiomics"]) == 0
    out = capsys.readouterr().out
    assert "TCIA collection: NSCLC-Radiomics" in out and "licence: CC BY-NC 3.0" in out
    assert "Aerts HJWL" in out and "844 pinned (422 subjects)" in out and "idc-index 0.13.4" in out
    assert main(["datasets", "verify", "ibsi-1-phantoms"]) == 1
    out = capsys.readouterr().out
    assert "missing: ibsi1/ct_phantom/image/phantom.nii.gz" in out and "radrepro datasets fetch ibsi-1-phantoms" in out
    assert main(["datasets", "convert", "rider-lung-ct"]) == 2
    assert "run `radrepro datasets fetch rider-lung-ct` first" in capsys.readouterr().err
    assert main(["datasets", "show", "no-such-set"]) == 2
    assert "known data sets:" in capsys.readouterr().err
    assert get_card("lidc-idri").cache_name == "lidc-idri"
