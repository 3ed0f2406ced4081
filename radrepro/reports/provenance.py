"""Provenance (where the numbers came from) and how to cite them, from the run's record alone."""

from __future__ import annotations

import json
import re

import pandas as pd

from radrepro.reports.run_data import RunData

IBSI_BIB = """@article{zwanenburg2020ibsi,
  author  = {Zwanenburg, Alex and Valli{\\`e}res, Martin and others},
  title   = {The Image Biomarker Standardization Initiative: Standardized Quantitative Radiomics for High-Throughput Image-based Phenotyping},
  journal = {Radiology},
  volume  = {295},
  number  = {2},
  pages   = {328--338},
  year    = {2020},
  doi     = {10.1148/radiol.2020191145}
}"""

PYRADIOMICS_BIB = """@article{vangriethuysen2017pyradiomics,
  author  = {van Griethuysen, Joost J. M. and Fedorov, Andriy and Parmar, Chintan and others},
  title   = {Computational Radiomics System to Decode the Radiographic Phenotype},
  journal = {Cancer Research},
  volume  = {77},
  number  = {21},
  pages   = {e104--e107},
  year    = {2017},
  doi     = {10.1158/0008-5472.CAN-17-0339}
}"""

COMBAT_BIB = """@article{johnson2007combat,
  author  = {Johnson, W. Evan and Li, Cheng and Rabinovic, Ariel},
  title   = {Adjusting batch effects in microarray expression data using empirical {B}ayes methods},
  journal = {Biostatistics},
  volume  = {8},
  number  = {1},
  pages   = {118--127},
  year    = {2007},
  doi     = {10.1093/biostatistics/kxj037}
}"""

KOOLI_BIB = """@article{koo2016icc,
  author  = {Koo, Terry K. and Li, Mae Y.},
  title   = {A Guideline of Selecting and Reporting Intraclass Correlation Coefficients for Reliability Research},
  journal = {Journal of Chiropractic Medicine},
  volume  = {15},
  number  = {2},
  pages   = {155--163},
  year    = {2016},
  doi     = {10.1016/j.jcm.2016.02.012}
}"""


def radrepro_bib(version: str, commit: str) -> str:
    """radrepro's entry, as CITATION.cff describes it, with the run's version and commit."""
    note = f"version {version}" + (f", commit {commit}" if commit else "")
    return (
        "@software{radrepro,\n"
        "  author  = {{The radrepro developers}},\n"
        "  title   = {radrepro: a benchmark and reproducibility suite for radiomics},\n"
        f"  version = {{{version}}},\n"
        "  license = {BSD-3-Clause},\n"
        f"  note    = {{{note}; see CITATION.cff}}\n"
        "}"
    )


def _key(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "", text) or "dataset"


def datasets(run: RunData) -> pd.DataFrame:
    """Dataset cards the run used: name, title, DOI, card sha256 (from the run), citation, licence."""
    logged = run.provenance.get("datasets", {}) if isinstance(run.provenance.get("datasets"), dict) else {}
    names = sorted({k[len("dataset."):].rsplit(".", 1)[0] for k in run.tags if k.startswith("dataset.") and k.count(".") >= 2} | set(logged))
    rows = []
    for name in names:
        title = ""
        citation, licence = logged.get(name, {}).get("citation", ""), logged.get(name, {}).get("licence", "")
        try:
            from radrepro.datasets.cards import get_card

            card = get_card(name)
            title, citation, licence = card.title, citation or card.citation, licence or card.licence
            local = card.checksum
        except Exception:  # a card this installation does not ship: the run's record is enough
            local = ""
        sha = run.tags.get(f"dataset.{name}.sha256", "") or logged.get(name, {}).get("sha256", "")
        doi = run.tags.get(f"dataset.{name}.doi", "") or logged.get(name, {}).get("doi", "")
        rows.append({
            "dataset": name, "title": title, "doi": doi, "card sha256": sha,
            "citation": citation, "licence": licence,
            "card check": "" if not local else ("same card" if local == sha else "the local card differs from the run's"),
        })
    return pd.DataFrame(rows, columns=["dataset", "title", "doi", "card sha256", "citation", "licence", "card check"])


def dataset_bib(row: pd.Series) -> str:
    fields = [f"  title   = {{{row['title'] or row['dataset']}}}"]
    if row["doi"]:
        fields.append(f"  doi     = {{{row['doi']}}}")
    if row["citation"]:
        fields.append(f"  note    = {{{row['citation']}}}")
    return f"@misc{{{_key(row['dataset'])},\n" + ",\n".join(fields) + "\n}"


def bibtex(run: RunData) -> str:
    """Every entry of the "how to cite" section, one BibTeX file."""
    version = run.params.get("version.radrepro", "")
    entries = [radrepro_bib(version, run.tags.get("git_commit", "")), IBSI_BIB, PYRADIOMICS_BIB, COMBAT_BIB, KOOLI_BIB]
    entries += [dataset_bib(r) for _, r in datasets(run).iterrows()]
    return "\n\n".join(entries) + "\n"


def provenance(run: RunData) -> dict[str, pd.DataFrame]:
    """Provenance tables: run, versions, machine, settings, seeds."""
    start = run.start_time.strftime("%Y-%m-%d %H:%M:%S UTC") if run.start_time is not None else ""
    run_rows = [
        ("MLflow run id", run.run_id), ("run name", run.run_name), ("experiment", run.experiment), ("tracking URI", run.tracking_uri),
        ("started", start), ("status", run.status), ("radrepro version", run.params.get("version.radrepro", "")),
        ("git commit", run.tags.get("git_commit", "")), ("git dirty", run.tags.get("git_dirty", "")),
        ("suite", run.params.get("suite", "")), ("settings digest", run.params.get("settings_digest", "")),
    ]
    out = {"run": pd.DataFrame(run_rows, columns=["item", "value"])}
    out["versions"] = pd.DataFrame(sorted((k[len("version."):], v) for k, v in run.params.items() if k.startswith("version.")), columns=["package", "version"])
    out["machine"] = pd.DataFrame(sorted((k[len("machine."):], v) for k, v in run.tags.items() if k.startswith("machine.")), columns=["item", "value"])
    settings = []
    for k, v in sorted(run.params.items()):
        if k.startswith("settings."):
            try:
                v = json.dumps(json.loads(v))
            except (ValueError, TypeError):
                pass
            settings.append((k[len("settings."):], v))
    out["settings"] = pd.DataFrame(settings, columns=["setting", "value"])
    seeds = {k: v for k, v in {**run.params, **run.tags}.items() if "seed" in k.lower()}
    logged = run.provenance.get("seeds", {})
    if isinstance(logged, dict):
        seeds.update({f"seeds.{k}": str(v) for k, v in logged.items()})
    models = run.tables.get("models")
    if models is not None and "seed" in models.columns:
        seeds["models (CV splits, bootstrap, random forest)"] = ", ".join(sorted({str(v) for v in models["seed"].dropna()}))
    out["seeds"] = pd.DataFrame(sorted(seeds.items()), columns=["item", "value"])
    out["datasets"] = datasets(run)
    env = [line.split("==", 1) for line in run.environment.splitlines() if "==" in line]
    out["environment"] = pd.DataFrame(env, columns=["distribution", "version"])
    return {k: v for k, v in out.items() if not v.empty}
