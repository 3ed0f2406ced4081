"""The IBSI 1 compliance check: the digital phantom and the CT phantom in configurations A-E.

Every data set is processed once with the settings IBSI prescribes for it (:data:`CONFIGURATIONS`),
every implemented feature family is computed on that one ROI, and each value is scored against the
IBSI 1 reference table with the workbook's rule (:mod:`radrepro.ibsi.scoring`).

The configurations (IBSI reference manual, arXiv:1612.07003, table of benchmark configurations):

===  ==================================  ======================  ===========  ==========  ==========
set  interpolation                       re-segmentation         texture      IVH         dims
===  ==================================  ======================  ===========  ==========  ==========
A    none                                [-500, 400] HU          FBS 25 HU    none (1 HU) 2D, 2.5D
B    2D (in-plane) 2 x 2 mm, bilinear    [-500, 400] HU          FBN 32       none (1 HU) 2D, 2.5D
C    3D 2 x 2 x 2 mm, trilinear          [-1000, 400] HU         FBS 25 HU    FBS 2.5 HU  3D
D    3D 2 x 2 x 2 mm, trilinear          mean +- 3 sd            FBN 32       none (1 HU) 3D
E    3D 2 x 2 x 2 mm, tricubic spline    [-1000, 400] and 3 sd   FBN 32       FBN 1000    3D
===  ==================================  ======================  ===========  ==========  ==========

For the CT phantom, intensities are rounded to integer HU after interpolation, and the mask is
interpolated (tri/bi)linearly with a partial-volume threshold of 0.5. The digital phantom is used
as it is: no interpolation or re-segmentation, and grey levels equal to its intensities (fixed bin
size 1 from its minimum, 1); texture in 2D, 2.5D and 3D.
"""

from __future__ import annotations

import csv
import math
import time
from pathlib import Path

import pandas as pd

from radrepro.errors import SettingsError
from radrepro.ibsi.data import ibsi_data_dir, require_files
from radrepro.ibsi.result import DIAGNOSTIC, STANDARDISED, ComplianceResult, render_summary
from radrepro.ibsi.scoring import NOT_STANDARDISED, verdict
from radrepro.settings import Settings

_CT = dict(intensity_rounding=1.0, mask_interpolator="linear", mask_threshold=0.5)

# data set -> settings, as plain data
CONFIGURATIONS: dict[str, dict] = {
    "phantom": dict(discretisation="fbs", bin_width=1.0, ivh_discretisation="none",
                    texture_dims=["2D", "2.5D", "3D"]),
    "A": dict(**_CT, reseg_range=[-500, 400], discretisation="fbs", bin_width=25.0,
              ivh_discretisation="none", texture_dims=["2D", "2.5D"]),
    "B": dict(**_CT, spacing=[2.0, 2.0, 0.0], interpolation_2d=True, interpolator="linear",
              reseg_range=[-500, 400], discretisation="fbn", bin_count=32,
              ivh_discretisation="none", texture_dims=["2D", "2.5D"]),
    "C": dict(**_CT, spacing=[2.0, 2.0, 2.0], interpolator="linear", reseg_range=[-1000, 400],
              discretisation="fbs", bin_width=25.0, ivh_discretisation="fbs", ivh_bin_width=2.5,
              texture_dims=["3D"]),
    "D": dict(**_CT, spacing=[2.0, 2.0, 2.0], interpolator="linear", outlier_sigma=3.0,
              discretisation="fbn", bin_count=32, ivh_discretisation="none", texture_dims=["3D"]),
    "E": dict(**_CT, spacing=[2.0, 2.0, 2.0], interpolator="cubic", reseg_range=[-1000, 400],
              outlier_sigma=3.0, discretisation="fbn", bin_count=32, ivh_discretisation="fbn",
              ivh_bin_count=1000, texture_dims=["3D"]),
}
DATASETS = tuple(CONFIGURATIONS)

# data set -> (image, mask), relative to the IBSI data folder
IMAGES = {
    "phantom": ("ibsi1/digital_phantom/image/phantom.nii.gz", "ibsi1/digital_phantom/mask/mask.nii.gz"),
    **{c: ("ibsi1/ct_phantom/image/phantom.nii.gz", "ibsi1/ct_phantom/mask/mask.nii.gz") for c in "ABCDE"},
}
REFERENCE = "ibsi1/reference_values/ibsi1_reference_values.csv"
# names of the data sets in the reference table
REFERENCE_NAMES = {"phantom": "digital phantom", **{c: f"configuration {c}" for c in "ABCDE"}}
# short family labels for the summary table
FAMILY_LABELS = {
    "morph": "morphology", "loc": "local intensity", "stat": "statistics", "ih": "intensity histogram",
    "ivh": "IVH", "cm": "GLCM", "rlm": "GLRLM", "szm": "GLSZM", "dzm": "GLDZM", "ngt": "NGTDM", "ngl": "NGLDM",
}


def settings_for(dataset: str) -> Settings:
    """The processing and feature settings IBSI prescribes for ``dataset`` (``phantom``, ``A``-``E``)."""
    return Settings(**CONFIGURATIONS[dataset], source=f"IBSI 1 {REFERENCE_NAMES[dataset]}")


def select(dataset: str) -> tuple[str, ...]:
    """Data sets named by ``--dataset``: one of :data:`DATASETS` or ``all``."""
    if dataset == "all":
        return DATASETS
    if dataset not in DATASETS:
        raise SettingsError(f"unknown IBSI 1 data set '{dataset}'", "use one of: " + ", ".join(DATASETS) + ", all")
    return (dataset,)


def load_reference(path: Path) -> pd.DataFrame:
    """The IBSI 1 reference table: dataset (short name), tag, reference, tolerance, kind."""
    by_name = {v: k for k, v in REFERENCE_NAMES.items()}
    rows = []
    with open(path, newline="", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            if r["dataset"] not in by_name:
                continue
            diagnostic = r["family"].startswith("Diagnostics")
            has_ref = r["reference_value"] != "" and r["tolerance"] != ""
            kind = DIAGNOSTIC if diagnostic else (STANDARDISED if has_ref else NOT_STANDARDISED)
            rows.append({
                "dataset": by_name[r["dataset"]],
                "tag": r["tag"],
                "reference": float(r["reference_value"]) if r["reference_value"] != "" else math.nan,
                "tolerance": float(r["tolerance"]) if r["tolerance"] != "" else math.nan,
                "kind": kind,
                "family": "diag" if diagnostic else r["tag"].split("_", 1)[0],
            })
    return pd.DataFrame(rows)


def compute_dataset(image, mask, settings: Settings, warnings: list[str] | None = None) -> dict[str, float]:
    """Diagnostics and every implemented family's features of one data set, by reference tag.

    A family that raises is left out (its values are then ``missing``) and named in ``warnings``.
    """
    from radrepro.processing import prepare
    from radrepro.registry import family_module, implemented_families

    roi = prepare(image, mask, settings, diagnostics=True)
    values = dict(roi.diagnostics)
    for fam in implemented_families():
        try:
            values.update(family_module(fam).compute(roi))
        except Exception as exc:  # a family's bug must not hide the others' results
            if warnings is None:
                raise
            warnings.append(f"{settings.source}: family '{fam}' failed ({type(exc).__name__}: {exc})"[:300])
    return values


def run(data_dir: str | Path | None = None, dataset: str = "all") -> ComplianceResult:
    """Run the IBSI 1 compliance check.

    Parameters
    ----------
    data_dir
        The IBSI data folder (see :mod:`radrepro.ibsi.data`); default the data cache's ``ibsi``.
    dataset
        ``phantom``, ``A`` ... ``E`` or ``all``.

    Returns
    -------
    ComplianceResult
        One row per reference value of the selected data sets.

    Raises
    ------
    radrepro.errors.DataUnavailableError
        When the IBSI data is not there.
    """
    from radrepro.case import load_pair

    chosen = select(dataset)
    root = ibsi_data_dir(data_dir)
    needed = [REFERENCE] + sorted({p for ds in chosen for p in IMAGES[ds]})
    require_files(root, needed, explicit=data_dir is not None)
    reference = load_reference(root / REFERENCE)
    loaded: dict[tuple[str, str], tuple] = {}
    parts, seconds, warnings = [], {}, []
    for ds in chosen:
        t0 = time.perf_counter()
        if IMAGES[ds] not in loaded:
            loaded[IMAGES[ds]] = load_pair(root / IMAGES[ds][0], root / IMAGES[ds][1])
        values = compute_dataset(*loaded[IMAGES[ds]], settings_for(ds), warnings)
        seconds[ds] = time.perf_counter() - t0
        ref = reference[reference["dataset"] == ds].copy()
        ref["value"] = [values.get(tag, math.nan) for tag in ref["tag"]]
        ref["verdict"] = [
            NOT_STANDARDISED if kind == NOT_STANDARDISED else verdict(values.get(tag), r, tol)
            for tag, r, tol, kind in zip(ref["tag"], ref["reference"], ref["tolerance"], ref["kind"])
        ]
        parts.append(ref)
    table = pd.concat(parts, ignore_index=True)
    table = table[["dataset", "tag", "value", "reference", "tolerance", "verdict", "family", "kind"]]
    return ComplianceResult(table=table, seconds=seconds, warnings=warnings)


def print_summary(result: ComplianceResult, console=None) -> None:
    """The per-family, per-data-set summary table of an IBSI 1 run."""
    render_summary(result, "IBSI 1 compliance", FAMILY_LABELS, console=console)
