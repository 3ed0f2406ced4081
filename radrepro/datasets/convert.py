"""Fetched DICOM to NIfTI image/mask pairs and a cases table that suites consume.

For a TCIA card, every cached segmentation series (RTSTRUCT or SEG, as the card says) gives one
case, or one per matching ROI with ``per_roi``; the image is the series it references. Output in
the data set's cache folder::

    nifti/images/<PatientID>_<SeriesNumber>_<uid8>.nii.gz   one per image series
    nifti/masks/<case id>.nii.gz                            one per case
    cases.csv                                               id, image, mask, roi, subject, scanner, ...
    molecular.csv                                           case, site, mol_*, clin_* (cards with [molecular])

(paths in ``cases.csv`` are relative to that folder, so the cache can move). A card with a
``[molecular]`` table also gets ``molecular.csv``, keyed by the same case ids
(:mod:`radrepro.datasets.molecular`), and :func:`load_converted` puts its variables in each case's
metadata.

A case that cannot be converted (localiser, uneven slices, no matching ROI, unreadable file, ...)
is a row with ``status = failed`` and a one-line ``error``; the others go on. Case ids are the
card's subject ids (TCIA's de-identified PatientID) plus what tells the case apart (timepoint,
reader, ROI), never patient names. A card of data that is not de-identified sets
``[privacy] subject_ids = "salted-hash"``: subjects then become ``s-<12 hex>``, a sha256 of a secret
salt (``.salt`` in the data set's folder, made on first use, never written anywhere else) and the
PatientID, stable between runs. :func:`load_cases` turns ``cases.csv`` into
:class:`~radrepro.case.Case` objects.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd
import SimpleITK as sitk

from radrepro.case import Case
from radrepro.datasets.cards import Card
from radrepro.datasets.dicom import (Series, match_names, read_series, rtstruct_mask, rtstruct_referenced_series,
                                     rtstruct_roi_names, seg_mask, seg_referenced_series, seg_segments, dicom_files)
from radrepro.datasets.fetch import card_dir, selected_series
from radrepro.datasets.tcia import check_series
from radrepro.errors import DataUnavailableError, InputError, RadreproError

CASES = "cases.csv"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-") or "roi"


def _write_nifti(image: sitk.Image, path: Path) -> None:
    """Write atomically: a temporary file in the same folder, then rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(".tmp-" + path.name)
    sitk.WriteImage(image, str(tmp), True)
    os.replace(tmp, path)


def subject_namer(card: Card, root: Path):
    """PatientID -> the subject id used in case ids, file names and tables (see the module doc)."""
    mode = card.data.get("privacy", {}).get("subject_ids", "as-is")
    if mode == "as-is":
        return lambda pid: str(pid)
    import hashlib
    import secrets

    salt_file = root / ".salt"
    if not salt_file.is_file():
        root.mkdir(parents=True, exist_ok=True)
        tmp = root / ".salt.tmp"
        tmp.write_text(secrets.token_hex(32))
        os.replace(tmp, salt_file)
    salt = salt_file.read_text().strip()
    return lambda pid: "s-" + hashlib.sha256(f"{salt}:{pid}".encode()).hexdigest()[:12]


class _Images:
    """Image series read once, written once as NIfTI."""

    def __init__(self, root: Path, series: pd.DataFrame, subject=str):
        self.subject = subject
        self.root = root
        self.rows = {r.SeriesInstanceUID: r for r in series.itertuples()}
        self.done: dict[str, tuple[Series, Path]] = {}

    def get(self, uid: str) -> tuple[Series, Path]:
        if uid in self.done:
            return self.done[uid]
        row = self.rows.get(uid)
        if row is None:
            raise InputError(f"image series {uid} is not in the card's list", "rebuild the card's list with `radrepro datasets pin`")
        folder = self.root / "dicom" / uid
        if check_series(folder):
            raise DataUnavailableError(f"image series {uid} is not in the cache", "run `radrepro datasets fetch` first")
        series = read_series(folder)
        path = self.root / "nifti" / "images" / f"{_slug(self.subject(row.PatientID))}_{_slug(str(row.SeriesNumber))}_{uid[-8:]}.nii.gz"
        if not path.is_file():
            _write_nifti(series.image, path)
        self.done[uid] = (series, path)
        return self.done[uid]


def _referenced_image(seg_row, uid_ref: str | None, images: pd.DataFrame) -> str:
    if uid_ref and uid_ref in set(images["SeriesInstanceUID"]):
        return uid_ref
    same = images[images["StudyInstanceUID"] == seg_row.StudyInstanceUID]
    if uid_ref is None and len(same) == 1:
        return same["SeriesInstanceUID"].iloc[0]
    raise InputError(
        f"segmentation series {seg_row.SeriesInstanceUID} references image series {uid_ref or '(none)'}, which the card does not pin",
        "rebuild the card's list so that it holds the referenced series",
    )


def convert(card: Card, dest: str | Path | None = None, *, limit: int | None = None) -> pd.DataFrame:
    """Convert the cached DICOM of a TCIA card into NIfTI pairs and write ``cases.csv``.

    Returns the cases table (failed cases included, with ``status`` and ``error``). For a card with
    a ``[molecular]`` table, ``molecular.csv`` is written too and the table's ``attrs["molecular"]``
    says how many cases and problems it has (:func:`radrepro.datasets.molecular.write_molecular`).
    """
    if card.kind != "tcia":
        raise InputError(f"data set '{card.name}' is {card.kind}: nothing to convert",
                         "IBSI and embedded data sets are used as they are (`radrepro.datasets.cards.load_cases`)")
    root = card_dir(card, dest)
    series = selected_series(card, limit)
    segcfg = card.data["segmentation"]
    pairing = card.data.get("pairing", {})
    seg_kind = segcfg["kind"]
    images = series[series["Modality"] != seg_kind]
    segs = series[series["Modality"] == seg_kind]
    if not (root / "dicom").is_dir():
        raise DataUnavailableError(f"{card.name} is not in the cache ({root})", f"run `radrepro datasets fetch {card.name}` first")
    subject = subject_namer(card, root)
    cache = _Images(root, series, subject)
    rows: list[dict] = []
    pattern = re.compile(pairing["pattern"]) if pairing.get("pattern") else None
    for seg in segs.itertuples():
        base = {"subject": subject(seg.PatientID), "segmentation_series": seg.SeriesInstanceUID}
        if pattern:
            m = pattern.search(seg.SeriesDescription or "")
            base.update(m.groupdict() if m else {})
        try:
            rows.extend(_convert_one(card, root, seg, images, cache, segcfg, base))
        except RadreproError as exc:
            rows.append({**base, "id": "", "status": "failed", "error": exc.oneline()})
    table = pd.DataFrame(rows)
    table = _assign_ids(table, pairing, root)
    front = ["id", "status", "image", "mask", "roi", "subject", "scanner", "study_date"]
    cols = [c for c in front if c in table.columns] + [c for c in table.columns if c not in front]
    table = table[cols]
    tmp = root / (".tmp-" + CASES)
    table.to_csv(tmp, index=False)
    os.replace(tmp, root / CASES)
    if "molecular" in card.data:
        from radrepro.datasets.molecular import write_molecular

        table.attrs["molecular"] = write_molecular(card, root, table, subject)
    return table


def _convert_one(card, root, seg, images, cache, segcfg, base) -> list[dict]:
    files = dicom_files(root / "dicom" / seg.SeriesInstanceUID)
    if check_series(root / "dicom" / seg.SeriesInstanceUID) or not files:
        raise DataUnavailableError(f"segmentation series {seg.SeriesInstanceUID} is not in the cache",
                                   f"run `radrepro datasets fetch {card.name}` first")
    path = files[0]
    if segcfg["kind"] == "RTSTRUCT":
        import pydicom

        try:
            ds = pydicom.dcmread(path)
        except Exception as exc:
            raise InputError(f"RTSTRUCT file {path} cannot be read ({type(exc).__name__})",
                             "fetch it again with `radrepro datasets fetch --full-check`") from exc
        names = rtstruct_roi_names(ds)
        ref = rtstruct_referenced_series(ds)
    else:
        import highdicom as hd

        try:
            ds = hd.seg.segread(path)
        except Exception as exc:
            raise InputError(f"SEG file {path} cannot be read ({type(exc).__name__}: {str(exc)[:80]})",
                             "fetch it again with `radrepro datasets fetch --full-check`") from exc
        names = seg_segments(ds)
        ref = seg_referenced_series(ds)
    matches = match_names(names, segcfg["roi"])
    if not matches:
        raise InputError(f"{segcfg['kind']} {path.name} of series {seg.SeriesInstanceUID} has no ROI matching "
                         f"{segcfg['roi']!r} (it has: {', '.join(sorted(names.values()))[:200]})",
                         "fix the card's [segmentation] roi")
    if not segcfg.get("per_roi", False):
        matches = matches[:1]
    image_uid = _referenced_image(seg, ref, images)
    series, image_path = cache.get(image_uid)
    info = images[images["SeriesInstanceUID"] == image_uid].iloc[0]
    out = []
    for number, roi in matches:
        row = {**base, "roi": roi, "image_series": image_uid, "image": image_path.relative_to(root).as_posix(),
               "scanner": f"{info.Manufacturer} {info.ManufacturerModelName}".strip(),
               "study_date": info.StudyDate}
        if segcfg.get("roi_metadata"):
            row[segcfg["roi_metadata"]] = roi
        try:
            if segcfg["kind"] == "RTSTRUCT":
                mask = rtstruct_mask(ds, number, series.image, name=f"RTSTRUCT {path.name}")
            else:
                mask = seg_mask(ds, number, series, name=f"SEG {path.name}")
            row.update(status="ok", error="", _mask=mask, voxels=int(sitk.GetArrayViewFromImage(mask).sum()))
        except RadreproError as exc:
            row.update(status="failed", error=exc.oneline())
        out.append(row)
    return out  # masks are written once the case ids are known (_assign_ids)


def _assign_ids(table: pd.DataFrame, pairing: dict, root: Path) -> pd.DataFrame:
    """Case ids (subject + the distinguishing metadata; unique by the segmentation series if needed),
    then write each case's mask as ``nifti/masks/<id>.nii.gz``."""
    if table.empty:
        return table.assign(id=[], status=[], error=[])
    parts = [c for c in list(pairing.get("group", [])) + [pairing.get("member")] if c and c != "subject" and c in table.columns]
    ids = []
    for _, r in table.iterrows():
        bits = [str(r["subject"])] + [_slug(str(r[c])) for c in parts if pd.notna(r.get(c)) and str(r[c])]
        ids.append("_".join(bits))
    table["id"] = ids
    dup = table["id"].duplicated(keep=False)
    if dup.any():
        table.loc[dup, "id"] = [f"{i}_{s[-6:]}" for i, s in zip(table.loc[dup, "id"], table.loc[dup, "segmentation_series"])]
    masks = []
    for _, r in table.iterrows():
        m = r.get("_mask")
        if isinstance(m, sitk.Image):
            path = root / "nifti" / "masks" / f"{r['id']}.nii.gz"
            _write_nifti(m, path)
            masks.append(path.relative_to(root).as_posix())
        else:
            masks.append("")
    table["mask"] = masks
    return table.drop(columns=[c for c in ("_mask",) if c in table.columns])


def load_converted(card: Card, dest: str | Path | None = None) -> list[Case]:
    """Cases of a converted TCIA data set (rows of ``cases.csv`` with status ok); the coded
    variables of ``molecular.csv``, when there is one, join each case's metadata (missing ones left out)."""
    path = card_dir(card, dest) / CASES
    if not path.is_file():
        raise DataUnavailableError(f"data set '{card.name}' is not converted ({path} is missing)",
                                   f"run `radrepro datasets fetch {card.name}` and `radrepro datasets convert {card.name}`")
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    ok = table[table["status"] == "ok"]
    meta_cols = [c for c in ok.columns if c not in ("id", "status", "error", "image", "mask")]
    root = path.parent
    from radrepro.datasets.molecular import read_coded

    molecular = read_coded(root)
    cases = []
    for _, r in ok.iterrows():
        meta = {"dataset": card.name, **{c: r[c] for c in meta_cols if r[c] != ""}}
        if molecular is not None and r["id"] in molecular.index:
            meta.update({k: v for k, v in molecular.loc[r["id"]].items() if pd.notna(v)})
        cases.append(Case(id=r["id"], image=root / r["image"], mask=root / r["mask"], metadata=meta))
    return cases
