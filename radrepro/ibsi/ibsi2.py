"""The IBSI 2 compliance check: convolutional filters (phase 1 response maps, phase 2 statistics).

Phase 1 filters the digital phantoms and compares each response map voxel by voxel with the
consensus reference map (CRM): a test passes when every voxel is within 1 % of the reference map's
intensity range, ``|computed - reference| <= 0.01 (max(ref) - min(ref))`` (the rule of
theibsi/ibsi_2_reference_data). Phase 2 filters the IBSI 1 CT phantom under configurations A (2D,
no interpolation) and B (3D, 1 mm tricubic), takes the 18 intensity statistics of the response
inside the re-segmented ROI, and scores each against the consensus value:
``|computed - consensus| <= tolerance`` (both from ``reference_values.csv``).

The test parameters are written out in :data:`PHASE1_TESTS` and :data:`PHASE2_FILTERS`; they follow
``ibsi2/test_definitions_phase1.csv`` / ``test_definitions_phase2.csv`` and ``README_tests.md`` of
the IBSI 2 data (lengths in mm, 2 mm phantom voxels).
"""

from __future__ import annotations

import csv
import math
import time
from pathlib import Path

import numpy as np
import pandas as pd

from radrepro.errors import SettingsError
from radrepro.ibsi.data import ibsi_data_dir, require_files
from radrepro.ibsi.result import STANDARDISED, ComplianceResult, render_summary
from radrepro.ibsi.scoring import MATCH, MISSING, NO_MATCH
from radrepro.settings import Settings

PI = math.pi

# phase 1: test id -> (phantom, filter specification)
PHASE1_TESTS: dict[str, tuple[str, dict]] = {
    "1.a.1": ("checkerboard", dict(kind="mean", support=15, boundary="zero")),
    "1.a.2": ("checkerboard", dict(kind="mean", support=15, boundary="nearest")),
    "1.a.3": ("checkerboard", dict(kind="mean", support=15, boundary="periodic")),
    "1.a.4": ("checkerboard", dict(kind="mean", support=15, boundary="mirror")),
    "1.b.1": ("impulse", dict(kind="mean", support=15, boundary="zero", dims="2D")),
    "2.a": ("impulse", dict(kind="log", sigma_mm=3.0, boundary="zero")),
    "2.b": ("checkerboard", dict(kind="log", sigma_mm=5.0, boundary="mirror")),
    "2.c": ("checkerboard", dict(kind="log", sigma_mm=5.0, boundary="mirror", dims="2D")),
    "3.a.1": ("impulse", dict(kind="laws", kernel="E5L5S5", boundary="zero")),
    "3.a.2": ("impulse", dict(kind="laws", kernel="E5L5S5", boundary="zero", rotation_invariant=True, pooling="max")),
    "3.a.3": ("impulse", dict(kind="laws", kernel="E5L5S5", boundary="zero", rotation_invariant=True, pooling="max",
                              energy_distance=7)),
    "3.b.1": ("checkerboard", dict(kind="laws", kernel="E3W5R5", boundary="mirror")),
    "3.b.2": ("checkerboard", dict(kind="laws", kernel="E3W5R5", boundary="mirror", rotation_invariant=True, pooling="max")),
    "3.b.3": ("checkerboard", dict(kind="laws", kernel="E3W5R5", boundary="mirror", rotation_invariant=True, pooling="max",
                                   energy_distance=7)),
    "3.c.1": ("checkerboard", dict(kind="laws", kernel="L5S5", boundary="mirror", dims="2D")),
    "3.c.2": ("checkerboard", dict(kind="laws", kernel="L5S5", boundary="mirror", dims="2D", rotation_invariant=True,
                                   pooling="max")),
    "3.c.3": ("checkerboard", dict(kind="laws", kernel="L5S5", boundary="mirror", dims="2D", rotation_invariant=True,
                                   pooling="max", energy_distance=7)),
    "4.a.1": ("impulse", dict(kind="gabor", sigma_mm=10.0, lambda_mm=4.0, gamma=0.5, theta=PI / 3, boundary="zero",
                              dims="2D")),
    "4.a.2": ("impulse", dict(kind="gabor", sigma_mm=10.0, lambda_mm=4.0, gamma=0.5, theta_step=PI / 4, boundary="zero",
                              dims="2D", orthogonal_planes=True)),
    "4.b.1": ("sphere", dict(kind="gabor", sigma_mm=20.0, lambda_mm=8.0, gamma=2.5, theta=5 * PI / 4, boundary="mirror",
                             dims="2D")),
    "4.b.2": ("sphere", dict(kind="gabor", sigma_mm=20.0, lambda_mm=8.0, gamma=2.5, theta_step=PI / 8, boundary="mirror",
                             dims="2D", orthogonal_planes=True)),
    "5.a.1": ("impulse", dict(kind="wavelet", wavelet="db2", subband="LHL", level=1, boundary="zero")),
    "5.a.2": ("impulse", dict(kind="wavelet", wavelet="db2", subband="LHL", level=1, boundary="zero",
                              rotation_invariant=True, pooling="average")),
    "6.a.1": ("sphere", dict(kind="wavelet", wavelet="coif1", subband="HHL", level=1, boundary="periodic")),
    "6.a.2": ("sphere", dict(kind="wavelet", wavelet="coif1", subband="HHL", level=1, boundary="periodic",
                             rotation_invariant=True, pooling="average")),
    "7.a.1": ("checkerboard", dict(kind="wavelet", wavelet="haar", subband="LLL", level=2, boundary="mirror",
                                   rotation_invariant=True, pooling="average")),
    "7.a.2": ("checkerboard", dict(kind="wavelet", wavelet="haar", subband="HHH", level=2, boundary="mirror",
                                   rotation_invariant=True, pooling="average")),
    "8.a.1": ("checkerboard", dict(kind="simoncelli", level=1, boundary="periodic")),
    "8.a.2": ("checkerboard", dict(kind="simoncelli", level=2, boundary="periodic")),
    "8.a.3": ("checkerboard", dict(kind="simoncelli", level=3, boundary="periodic")),
    "9.a": ("impulse", dict(kind="riesz_log", sigma_mm=3.0, order=(1, 0, 0), boundary="zero")),
    "9.b.1": ("sphere", dict(kind="riesz_log", sigma_mm=3.0, order=(0, 2, 0), boundary="zero")),
    "10.b.1": ("pattern_1", dict(kind="riesz_simoncelli", level=1, order=(0, 2, 0), boundary="nearest", pad_width=32)),
}

# phase 2: filter id (1-9) -> configuration -> filter specification (None: no filter)
PHASE2_FILTERS: dict[str, dict[str, dict | None]] = {
    "1": {"A": None, "B": None},
    "2": {"A": dict(kind="mean", support=5, dims="2D"), "B": dict(kind="mean", support=5)},
    "3": {"A": dict(kind="log", sigma_mm=1.5, dims="2D"), "B": dict(kind="log", sigma_mm=1.5)},
    "4": {"A": dict(kind="laws", kernel="L5E5", dims="2D", rotation_invariant=True, pooling="max", energy_distance=7),
          "B": dict(kind="laws", kernel="L5E5E5", rotation_invariant=True, pooling="max", energy_distance=7)},
    "5": {"A": dict(kind="gabor", sigma_mm=5.0, lambda_mm=2.0, gamma=1.5, theta_step=PI / 8, dims="2D"),
          "B": dict(kind="gabor", sigma_mm=5.0, lambda_mm=2.0, gamma=1.5, theta_step=PI / 8, dims="2D",
                    orthogonal_planes=True)},
    "6": {"A": dict(kind="wavelet", wavelet="db3", subband="LH", level=1, dims="2D", rotation_invariant=True),
          "B": dict(kind="wavelet", wavelet="db3", subband="LLH", level=1, rotation_invariant=True)},
    "7": {"A": dict(kind="wavelet", wavelet="db3", subband="HH", level=2, dims="2D", rotation_invariant=True),
          "B": dict(kind="wavelet", wavelet="db3", subband="HHH", level=2, rotation_invariant=True)},
    "8": {"A": dict(kind="simoncelli", level=1, dims="2D", boundary="mirror"),
          "B": dict(kind="simoncelli", level=1, boundary="mirror")},
    "9": {"A": dict(kind="simoncelli", level=2, dims="2D", boundary="mirror"),
          "B": dict(kind="simoncelli", level=2, boundary="mirror")},
}
PHASE2_LABELS = {"1": "none", "2": "mean", "3": "LoG", "4": "Laws", "5": "Gabor", "6": "wavelet db3 L1",
                 "7": "wavelet db3 L2", "8": "Simoncelli L1", "9": "Simoncelli L2"}
PHASE1_LABELS = {"1": "mean", "2": "LoG", "3": "Laws", "4": "Gabor", "5": "wavelet db2", "6": "wavelet coif1",
                 "7": "wavelet haar L2", "8": "Simoncelli", "9": "Riesz-LoG", "10": "Riesz-Simoncelli"}

# configuration -> processing before filtering (IBSI 2 phase 2, configuration table)
_CT = dict(reseg_range=[-1000, 400], discretisation="fbn", bin_count=32)
CONFIGURATIONS = {
    "A": dict(**_CT),
    "B": dict(**_CT, spacing=[1.0, 1.0, 1.0], interpolator="cubic", mask_interpolator="linear", mask_threshold=0.5,
              intensity_rounding=1.0),
}
DATASETS = ("phase1", "A", "B")
CT_IMAGE = ("ibsi1/ct_phantom/image/phantom.nii.gz", "ibsi1/ct_phantom/mask/mask.nii.gz")
PHASE2_REFERENCE = "ibsi2/reference_values/reference_values.csv"


def phantom_path(name: str) -> str:
    return f"ibsi2/digital_phantoms/{name}/image/{name}.nii.gz"


def reference_map_path(test_id: str) -> str:
    return f"ibsi2/reference_response_maps/{test_id.replace('.', '_')}-ValidCRM.nii"


def settings_for(configuration: str, filter_id: str) -> Settings:
    """Processing settings of phase 2 ``configuration`` (A or B) with the filter of ``filter_id``."""
    return Settings(**CONFIGURATIONS[configuration], filter=PHASE2_FILTERS[filter_id][configuration],
                    source=f"IBSI 2 phase 2 {filter_id}.{configuration}")


def select(dataset: str) -> tuple[str, ...]:
    """Parts named by ``--dataset``: ``phase1``, ``A``, ``B`` or ``all``."""
    if dataset == "all":
        return DATASETS
    if dataset not in DATASETS:
        raise SettingsError(f"unknown IBSI 2 data set '{dataset}'", "use one of: " + ", ".join(DATASETS) + ", all")
    return (dataset,)


def _read_array(path: Path) -> tuple[np.ndarray, tuple[float, float, float]]:
    import SimpleITK as sitk

    img = sitk.ReadImage(str(path))
    return sitk.GetArrayFromImage(img).astype(np.float64), tuple(float(s) for s in img.GetSpacing())


def response_map(root: Path, test_id: str) -> np.ndarray:
    """The computed phase 1 response map of ``test_id``, ``(z, y, x)`` like the reference map."""
    from radrepro.filters import apply_filter

    phantom, spec = PHASE1_TESTS[test_id]
    image, spacing = _read_array(root / phantom_path(phantom))
    return apply_filter(image, spacing, spec)


def check_response_map(computed: np.ndarray, reference: np.ndarray) -> tuple[float, float]:
    """``(max |computed - reference|, tolerance = 0.01 x reference range)``."""
    if computed.shape != reference.shape:
        return math.inf, 0.01 * float(reference.max() - reference.min())
    return float(np.max(np.abs(computed - reference))), 0.01 * float(reference.max() - reference.min())


def run_phase1(root: Path, tests: list[str] | None = None) -> pd.DataFrame:
    """One row per phase 1 test: value = largest voxel difference, tolerance = 1 % of the reference range."""
    rows = []
    for test_id in tests or list(PHASE1_TESTS):
        reference, _ = _read_array(root / reference_map_path(test_id))
        diff, tol = check_response_map(response_map(root, test_id), reference)
        rows.append({"dataset": "phase1", "tag": test_id, "value": diff, "reference": 0.0, "tolerance": tol,
                     "verdict": MATCH if diff <= tol else NO_MATCH,
                     "family": PHASE1_LABELS[test_id.split(".")[0]], "kind": STANDARDISED})
    return pd.DataFrame(rows)


def load_reference(path: Path) -> pd.DataFrame:
    """The phase 2 reference values: filter_id, configuration, tag, reference, tolerance (rows with a value)."""
    rows = []
    with open(path, newline="", encoding="utf-8") as fh:
        for r in csv.DictReader(fh, delimiter=";"):
            if r["consensus_value"].strip() == "" or r["tolerance"].strip() == "":
                continue
            fid, conf = r["filter_id"].split(".")
            rows.append({"filter_id": fid, "configuration": conf, "tag": r["feature_tag"],
                         "reference": float(r["consensus_value"]), "tolerance": float(r["tolerance"])})
    return pd.DataFrame(rows)


def phase2_statistics(image, mask, configuration: str, filter_id: str) -> dict[str, float]:
    """The 18 intensity statistics of the filtered CT phantom (``image``, ``mask``: SimpleITK images)."""
    from radrepro.features.statistics import intensity_statistics
    from radrepro.processing import prepare

    roi = prepare(image, mask, settings_for(configuration, filter_id))
    return intensity_statistics(roi.values)


def phase2_verdict(value: float | None, reference: float, tolerance: float) -> str:
    """IBSI 2 phase 2 rule: ``match`` when ``|value - reference| <= tolerance``."""
    if value is None:
        return MISSING
    if not math.isfinite(value):
        return NO_MATCH
    return MATCH if abs(value - reference) <= tolerance else NO_MATCH


def run_phase2(root: Path, configuration: str, filters: list[str] | None = None, loaded=None) -> pd.DataFrame:
    """One row per phase 2 reference value of ``configuration`` (A or B)."""
    from radrepro.case import load_pair

    reference = load_reference(root / PHASE2_REFERENCE)
    image, mask = loaded or load_pair(root / CT_IMAGE[0], root / CT_IMAGE[1])
    rows = []
    for fid in filters or list(PHASE2_FILTERS):
        values = phase2_statistics(image, mask, configuration, fid)
        ref = reference[(reference["filter_id"] == fid) & (reference["configuration"] == configuration)]
        for r in ref.itertuples():
            v = values.get(r.tag)
            rows.append({"dataset": configuration, "tag": f"{fid}.{configuration} {r.tag}", "value": v,
                         "reference": r.reference, "tolerance": r.tolerance,
                         "verdict": phase2_verdict(v, r.reference, r.tolerance),
                         "family": PHASE2_LABELS[fid], "kind": STANDARDISED})
    return pd.DataFrame(rows)


def run(data_dir: str | Path | None = None, dataset: str = "all") -> ComplianceResult:
    """Run the IBSI 2 compliance check.

    Parameters
    ----------
    data_dir
        The IBSI data folder (with ``ibsi1/`` and ``ibsi2/``); default the data cache's ``ibsi``.
    dataset
        ``phase1`` (response maps), ``A`` or ``B`` (phase 2 configurations), or ``all``.

    Returns
    -------
    ComplianceResult
        One row per phase 1 test and per phase 2 reference value.
    """
    chosen = select(dataset)
    root = ibsi_data_dir(data_dir)
    needed = []
    if "phase1" in chosen:
        needed += sorted({phantom_path(p) for p, _ in PHASE1_TESTS.values()}) + [reference_map_path(t) for t in PHASE1_TESTS]
    if {"A", "B"} & set(chosen):
        needed += [PHASE2_REFERENCE, *CT_IMAGE]
    require_files(root, needed, explicit=data_dir is not None,
                  fetch_hint="get the IBSI 2 data (github.com/theibsi/ibsi_2_reference_data and theibsi/data_sets)")
    parts, seconds = [], {}
    loaded = None
    for ds in chosen:
        t0 = time.perf_counter()
        if ds == "phase1":
            parts.append(run_phase1(root))
        else:
            if loaded is None:
                from radrepro.case import load_pair

                loaded = load_pair(root / CT_IMAGE[0], root / CT_IMAGE[1])
            parts.append(run_phase2(root, ds, loaded=loaded))
        seconds[ds] = time.perf_counter() - t0
    table = pd.concat(parts, ignore_index=True)
    table = table[["dataset", "tag", "value", "reference", "tolerance", "verdict", "family", "kind"]]
    return ComplianceResult(table=table, seconds=seconds)


def print_summary(result: ComplianceResult, console=None) -> None:
    """Phase 1 pass/fail per test id, then the per-filter, per-configuration summary table."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    p1 = result.table[result.table["dataset"] == "phase1"]
    if len(p1):
        table = Table(title="IBSI 2 phase 1: response maps", caption="largest voxel difference, % of the reference range (limit 1 %)")
        for name, justify in (("test", "left"), ("filter", "left"), ("result", "left"), ("max |diff|", "right")):
            table.add_column(name, justify=justify, no_wrap=True)
        for r in p1.itertuples():
            ok = r.verdict == MATCH
            pct = r.value / r.tolerance if r.tolerance > 0 else math.inf  # tolerance = 1 % of the range
            table.add_row(r.tag, r.family, "[green]pass[/green]" if ok else "[red]FAIL[/red]", f"{pct:.3f} %")
        console.print(table)
    render_summary(result, "IBSI 2 compliance", {}, console=console)
