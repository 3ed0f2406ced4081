"""Comparing two extractors (or two runs of any extractors and versions) feature by feature.

Input is two long results tables (:mod:`radrepro.results`), from earlier runs or from running two
backends now on the same cases (:func:`run_extractor`). Features are lined up by name, or across
conventions through the crosswalk (:func:`radrepro.crosswalk.align`), rows by (case, perturbation).

Per feature the comparison reports the number of cases, the largest and median relative
difference, the largest absolute difference, the number of cases beyond the tolerance and a
verdict. Relative difference is symmetric: ``|a - b| / max(|a|, |b|)`` (0 when both are 0); a
value is within tolerance when ``|a - b| <= atol + rtol * max(|a|, |b|)``. Two NaNs are equal; a
NaN against a number is a difference (relative difference ``inf``).

Per case it reports the seconds of each side and their ratio A / B (the speed-up of B over A when
above 1).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from radrepro.case import Case
from radrepro.crosswalk import align
from radrepro.errors import InputError, SettingsError
from radrepro.results import check_results, empty_results, long_rows, read_results
from radrepro.settings import Settings

FEATURE_COLUMNS = [
    "feature", "a_feature", "b_feature", "ibsi_id", "relation", "n_cases", "n_beyond", "max_abs_diff",
    "max_rel_diff", "median_rel_diff", "verdict", "note",
]
SPEED_COLUMNS = ["case", "perturbation", "seconds_a", "seconds_b", "ratio"]
IMAGE_SUFFIXES = (".nrrd", ".nii.gz", ".nii", ".mha", ".mhd")


@dataclass
class Comparison:
    """The result of :func:`compare`.

    Attributes
    ----------
    features
        One row per feature (columns :data:`FEATURE_COLUMNS`), matched features first, worst first;
        features found on one side only have verdict ``only in a`` / ``only in b``.
    speed
        One row per case: seconds of A and B and their ratio A / B.
    a, b
        Labels of the two sides (``extractor`` values).
    rtol, atol
        Tolerances the verdicts use.
    """

    features: pd.DataFrame
    speed: pd.DataFrame
    a: str
    b: str
    rtol: float
    atol: float

    @property
    def matched(self) -> pd.DataFrame:
        """The features found on both sides."""
        return self.features[~self.features["verdict"].str.startswith("only in")]

    @property
    def n_differ(self) -> int:
        """Matched features with at least one case beyond the tolerance."""
        return int((self.matched["verdict"] == "differ").sum())

    def worst(self) -> float:
        """Largest relative difference over all matched features (0 when none)."""
        m = self.matched["max_rel_diff"]
        return float(m.max()) if len(m) else 0.0

    def summary(self) -> str:
        speed = self.speed["ratio"].dropna()
        ratio = f"; median speed ratio A/B {speed.median():.3g} over {len(speed)} cases" if len(speed) else ""
        return (f"{len(self.matched)} features matched ({self.n_differ} beyond rtol={self.rtol:g}, "
                f"atol={self.atol:g}); worst relative difference {self.worst():.3g}{ratio}")


def relative_difference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Symmetric relative difference ``|a - b| / max(|a|, |b|)``; 0 for equal values (two NaNs too), inf for
    NaN against a number and for an infinity against anything else."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.maximum(np.abs(a), np.abs(b))
        rel = np.abs(a - b) / scale
    rel = np.where(np.isnan(a) ^ np.isnan(b) | ((np.isinf(a) | np.isinf(b)) & (a != b)), np.inf, rel)
    return np.where((a == b) | (np.isnan(a) & np.isnan(b)), 0.0, rel)


def select_extractor(results: pd.DataFrame, extractor: str | None, where: str) -> pd.DataFrame:
    """Rows of one extractor (``name@version`` or ``name``) from a results table."""
    labels = list(dict.fromkeys(results["extractor"].astype(str)))
    if extractor is None:
        if len(labels) > 1:
            raise InputError(
                f"{where} holds several extractors ({', '.join(labels)})",
                "choose one with --a-extractor / --b-extractor",
            )
        return results
    chosen = [lab for lab in labels if lab == extractor or lab.split("@")[0] == extractor]
    if len(chosen) != 1:
        raise InputError(
            f"{where} has {'no' if not chosen else 'several'} extractor '{extractor}' (present: {', '.join(labels)})",
            "give name@version exactly as in the table",
        )
    return results[results["extractor"].astype(str) == chosen[0]]


def compare(
    a: pd.DataFrame,
    b: pd.DataFrame,
    *,
    rtol: float = 1e-6,
    atol: float = 0.0,
    force2d: bool = False,
) -> Comparison:
    """Compare two long results tables feature by feature and case by case.

    Parameters
    ----------
    a, b
        Long results tables (columns of :data:`radrepro.results.RESULT_COLUMNS`; at least
        ``case``, ``feature``, ``value``), each from one extractor.
    rtol, atol
        Tolerance of the verdict: within when ``|a - b| <= atol + rtol * max(|a|, |b|)``.
    force2d
        Line IBSI names up with pyradiomics' ``force2D`` aggregation (2.5D) instead of 3D.

    Returns
    -------
    Comparison

    Raises
    ------
    InputError
        When the tables share no case or no feature.
    """
    if rtol < 0 or atol < 0:
        raise SettingsError(f"tolerances must be >= 0 (rtol={rtol}, atol={atol})", "pass --rtol/--atol >= 0")
    a = check_results(a, "table A")
    b = check_results(b, "table B")
    label_a = ",".join(dict.fromkeys(a["extractor"].astype(str)))
    label_b = ",".join(dict.fromkeys(b["extractor"].astype(str)))
    keys = ["case", "perturbation"]
    wa = a.pivot_table(index=keys, columns="feature", values="value", aggfunc="first", dropna=False)
    wb = b.pivot_table(index=keys, columns="feature", values="value", aggfunc="first", dropna=False)
    rows = wa.index.intersection(wb.index)
    if len(rows) == 0:
        raise InputError(
            f"tables A ({label_a}) and B ({label_b}) share no case",
            "compare results of the same cases (same case ids and perturbations)",
        )
    wa, wb = wa.loc[rows], wb.loc[rows]
    matches = align(list(wa.columns), list(wb.columns), force2d=force2d)
    if not matches:
        raise InputError(
            f"tables A ({label_a}) and B ({label_b}) have no feature in common, even through the crosswalk",
            "compare extractors that compute the same features (see radrepro.crosswalk.table())",
        )
    out = []
    for m in matches:
        va = wa[m.a].to_numpy(dtype=float) + m.offset_a
        vb = wb[m.b].to_numpy(dtype=float) + m.offset_b
        present = ~(np.isnan(va) & np.isnan(vb))
        va, vb = va[present], vb[present]
        rel = relative_difference(va, vb)
        with np.errstate(invalid="ignore"):
            absd = np.where(rel == 0, 0.0, np.abs(va - vb))
        absd = np.where(np.isnan(va) ^ np.isnan(vb), np.inf, absd)
        within = (rel == 0) | (absd <= atol + rtol * np.maximum(np.abs(va), np.abs(vb)))
        n_beyond = int((~within).sum())
        out.append({
            "feature": m.key, "a_feature": m.a, "b_feature": m.b, "ibsi_id": m.ibsi_id, "relation": m.relation,
            "n_cases": int(present.sum()), "n_beyond": n_beyond,
            "max_abs_diff": float(absd.max()) if absd.size else np.nan,
            "max_rel_diff": float(rel.max()) if rel.size else np.nan,
            "median_rel_diff": float(np.median(rel)) if rel.size else np.nan,
            "verdict": "agree" if n_beyond == 0 else "differ", "note": m.note,
        })
    features = pd.DataFrame(out, columns=FEATURE_COLUMNS)
    features = features.sort_values(["max_rel_diff", "feature"], ascending=[False, True], kind="stable")
    used_a = {m.a for m in matches}
    used_b = {m.b for m in matches}
    only = [{"feature": f, "a_feature": f, "b_feature": "", "verdict": "only in a"} for f in wa.columns if f not in used_a]
    only += [{"feature": f, "a_feature": "", "b_feature": f, "verdict": "only in b"} for f in wb.columns if f not in used_b]
    if only:
        extra = pd.DataFrame(only).reindex(columns=FEATURE_COLUMNS)
        extra[["ibsi_id", "relation", "note"]] = ""
        extra[["n_cases", "n_beyond"]] = 0
        features = pd.concat([features, extra], ignore_index=True)
    features = features.reset_index(drop=True)
    return Comparison(features, _speed(a, b, rows), label_a, label_b, rtol, atol)


def _speed(a: pd.DataFrame, b: pd.DataFrame, rows: pd.Index) -> pd.DataFrame:
    sa = a.groupby(["case", "perturbation"])["seconds"].first()
    sb = b.groupby(["case", "perturbation"])["seconds"].first()
    df = pd.DataFrame({"seconds_a": sa.reindex(rows), "seconds_b": sb.reindex(rows)})
    df["ratio"] = df["seconds_a"] / df["seconds_b"]
    return df.reset_index()[SPEED_COLUMNS]


# ------------------------------------------------------------------------------------------------
# running extractors now


def parse_extractor(spec: str, params: str | Path | Mapping[str, Any] | None = None):
    """An extractor from ``name[:convention]``: ``radrepro`` (IBSI), ``radrepro:pyradiomics``,
    ``pyradiomics``, ``mirp``, ``nyxus``, ``flash-radiomics``. A pyradiomics parameter file in
    ``params`` goes to the pyradiomics backend as it is."""
    from radrepro.extractors import get_extractor

    name, _, option = spec.partition(":")
    if name == "radrepro":
        return get_extractor("radrepro", convention=option or "ibsi")
    if option:
        raise SettingsError(f"extractor '{spec}' takes no ':{option}'", "only radrepro has conventions: radrepro:ibsi, radrepro:pyradiomics")
    if name == "pyradiomics" and params is not None and _is_pyradiomics_params(params):
        return get_extractor("pyradiomics", params=params)
    return get_extractor(name)


def _is_pyradiomics_params(params: str | Path | Mapping[str, Any]) -> bool:
    from radrepro.settings import _PYRADIOMICS_SECTIONS, _read_mapping

    data = params if isinstance(params, Mapping) else _read_mapping(Path(params))
    return bool(data) and set(data) <= _PYRADIOMICS_SECTIONS


def run_extractor(extractor, cases: Sequence[Case], settings: Settings, *, warmup: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run ``extractor`` on ``cases``: (long results table, status table with reasons of failures).

    ``seconds`` is the wall time of ``extractor.extract`` for that case (reading included). With
    ``warmup`` the first case is extracted once untimed first, so that one-off costs (imports,
    JIT compilation) do not count.
    """
    if warmup and cases:
        try:
            extractor.extract(cases[0], settings)
        except Exception:  # noqa: BLE001 - the timed run below records the failure
            pass
    parts, status = [], []
    for case in cases:
        t0 = time.perf_counter()
        try:
            values = extractor.extract(case, settings)
        except Exception as exc:  # noqa: BLE001 - one failing case must not stop the comparison
            reason = exc.oneline() if hasattr(exc, "oneline") else f"{type(exc).__name__}: {exc}"
            status.append({"case": case.id, "extractor": extractor.label, "status": "failed", "error": reason})
            continue
        seconds = time.perf_counter() - t0
        status.append({"case": case.id, "extractor": extractor.label, "status": "ok", "error": ""})
        parts.append(long_rows(values, case=case.id, extractor=extractor.label, convention=extractor.convention,
                               settings=settings.digest(), seconds=seconds))
    results = pd.concat(parts, ignore_index=True) if parts else empty_results()
    return results, pd.DataFrame(status, columns=["case", "extractor", "status", "error"])


def _strip_suffix(name: str) -> tuple[str, str] | None:
    for suffix in IMAGE_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)], suffix
    return None


def cases_from_dir(folder: str | Path, names: Iterable[str] | None = None) -> list[Case]:
    """Cases in a folder: ``<case>_image.<ext>`` with ``<case>_label.<ext>`` or ``<case>_mask.<ext>``
    (pyradiomics' test-data layout), or subfolders holding ``image.<ext>`` and ``mask.<ext>``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"data folder {folder} does not exist", "pass a folder of images and masks, or a dataset card name")
    found: dict[str, Case] = {}
    for p in sorted(folder.iterdir()):
        if p.is_file() and (split := _strip_suffix(p.name)) and split[0].endswith("_image"):
            stem = split[0][: -len("_image")]
            for word in ("label", "mask"):
                m = folder / f"{stem}_{word}{split[1]}"
                if m.is_file():
                    found[stem] = Case(stem, p, m)
                    break
        elif p.is_dir():
            img = [q for q in p.iterdir() if (s := _strip_suffix(q.name)) and s[0] == "image"]
            msk = [q for q in p.iterdir() if (s := _strip_suffix(q.name)) and s[0] in ("mask", "label")]
            if len(img) == 1 and len(msk) == 1:
                found[p.name] = Case(p.name, img[0], msk[0])
    if names:
        wanted = list(names)
        missing = [n for n in wanted if n not in found]
        if missing:
            raise InputError(f"no case {', '.join(missing)} in {folder}", "cases there: " + ", ".join(found) if found else "it holds none")
        return [found[n] for n in wanted]
    if not found:
        raise InputError(
            f"no image/mask pairs found in {folder}",
            "name them <case>_image.nrrd and <case>_label.nrrd (or _mask), or use subfolders with image.* and mask.*",
        )
    return list(found.values())


def load_data(data: str | Path, names: Iterable[str] | None = None) -> list[Case]:
    """Cases from a folder (:func:`cases_from_dir`) or a dataset card name."""
    if Path(data).is_dir():
        return cases_from_dir(data, names)
    from radrepro.datasets.cards import load_cases

    cases = load_cases(str(data))
    if names:
        wanted = set(names)
        cases = [c for c in cases if c.id in wanted]
    return cases


def read_side(path: str | Path, extractor: str | None, where: str) -> pd.DataFrame:
    """One side of a comparison from a results file (optionally one extractor of it)."""
    return select_extractor(read_results(path), extractor, where)
