"""Reports built from a real MLflow run (SQLite store in tmp_path) and nothing else.

The run is logged the way the suite runner logs one: parameters, tags, metrics, and as artifacts
the results and status tables, case metadata, stability, harmonisation and model tables, IBSI
compliance rows, provenance.json, environment.txt and the suite file.
"""

from __future__ import annotations

import json
import re
import warnings
from html.parser import HTMLParser
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from radrepro.cli import main
from radrepro.results import STATUS_COLUMNS, long_rows

FEATURES = ["stat_mean", "stat_var", "ih_entropy", "cm_joint_max_3D_avg", "cm_contrast_3D_avg", "rlm_sre_3D_avg", "szm_zs_entr_3D", "morph_vol_approx"]
TABLES = ["ibsi_compliance", "stability_by_family", "harmonisation_diagnostics", "model_performance", "radiogenomics_summary", "speed"]
FIGURES = ["icc_by_family", "combat_by_site", "auc_comparison", "radiogenomics_volcano", "speed_vs_roi"]


def _cohort(n_per_site: int = 8, seed: int = 0):
    """Feature values for 3 sites: a label effect in two features, site location/scale effects, two perturbations."""
    rng = np.random.default_rng(seed)
    rows, meta, status = [], [], []
    for s, (shift, scale) in enumerate([(0.0, 1.0), (20.0, 1.5), (-15.0, 0.7)]):
        for k in range(n_per_site):
            case = f"syn-{'ABC'[s]}-{k:02d}"
            label = int(k % 2)
            base = rng.normal(100, 10, len(FEATURES)) + 8 * label * (np.arange(len(FEATURES)) < 2)
            base[-1] = rng.uniform(500, 5000)  # ROI volume, mm^3
            for pert, noise in (("none", 0.0), ("noise-1", 1.0)):
                v = base * scale + shift + rng.normal(0, noise, base.size)
                v[-1] = base[-1]
                rows.append(long_rows(dict(zip(FEATURES, v)), case=case, extractor="radrepro@0.1.0", convention="ibsi",
                                      settings="abc", seconds=0.01 * base[-1] ** 0.5, perturbation=pert))
            meta.append({"case": case, "site": "ABC"[s], "label": label})
            status.append({"case": case, "perturbation": "none", "extractor": "radrepro@0.1.0", "status": "ok", "error": "",
                           "roi_voxels": int(base[-1]), "seconds": 0.01 * base[-1] ** 0.5})
    status.append({"case": "bad-case", "perturbation": "none", "extractor": "radrepro@0.1.0", "status": "failed",
                   "error": "mask is empty", "roi_voxels": pd.NA, "seconds": 0.001})
    return pd.concat(rows, ignore_index=True), pd.DataFrame(meta), pd.DataFrame(status).astype(STATUS_COLUMNS)


def _log_run(tmp_path: Path, artifacts: dict[str, object], name: str = "quick") -> tuple[str, str]:
    """A real MLflow run in a SQLite store, as the suite runner logs it."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    exp = mlflow.get_experiment_by_name(f"radrepro-{name}")
    exp_id = exp.experiment_id if exp else mlflow.create_experiment(f"radrepro-{name}", artifact_location=(tmp_path / "artifacts").as_uri())
    folder = tmp_path / f"out-{name}"
    folder.mkdir()
    with mlflow.start_run(experiment_id=exp_id, run_name=name) as run:
        mlflow.log_params({"version.radrepro": "0.1.0", "version.numpy": np.__version__, "seed": "7", "suite": name,
                           "settings.bin_width": "25", "settings.discretisation": '"fbs"', "settings_digest": "abc"})
        mlflow.set_tags({"git_commit": "0123456789abcdef", "git_dirty": "false", "machine.os": "Linux", "machine.cores": "2",
                         "dataset.synthetic-multicentre.sha256": "f" * 64, "dataset.lidc-idri.doi": "10.7937/K9/TCIA.2015.LO9QL9SX",
                         "dataset.lidc-idri.sha256": "e" * 64})
        mlflow.log_metrics({"cases": 24.0})
        for fname, obj in artifacts.items():
            path = folder / fname
            if isinstance(obj, pd.DataFrame):
                obj.to_parquet(path, index=False) if fname.endswith(".parquet") else obj.to_csv(path, index=False)
            else:
                path.write_text(obj)
            mlflow.log_artifact(str(path))
        return run.info.run_id, uri


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """One MLflow SQLite store for the module (creating one costs seconds); each test its own experiment."""
    return tmp_path_factory.mktemp("store")


@pytest.fixture(scope="module")
def full_run(store):
    from radrepro.harmonisation import harmonise_results
    from radrepro.models import compare_models

    tmp = store
    results, meta, status = _cohort()
    stability = pd.DataFrame({"feature": FEATURES, "icc_a_1": np.linspace(0.2, 0.99, len(FEATURES)),
                              "icc_a_1_low": np.linspace(0.1, 0.95, len(FEATURES)), "icc_a_1_high": np.linspace(0.4, 1.0, len(FEATURES))})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        harmonised, diag = harmonise_results(results[results["perturbation"] == "none"], meta, {"name": "combat-site", "batch": "site"})
        models = compare_models(results, meta, stability=stability.set_index("feature")["icc_a_1_low"], threshold=0.5, k=3, n_repeats=2, n_boot=200)
        from radrepro.radiogenomics import features_from_results, radiogenomics

        wide = features_from_results(results)
        # a molecular variable that follows the first feature's deviation within its site: linked, whatever the site
        site = meta.set_index("case")["site"].reindex(wide.index)
        within = wide[FEATURES[0]].groupby(site).transform(lambda v: (v - v.mean()) / v.std())
        mol = meta.set_index("case").assign(mol_expr=within + np.random.default_rng(1).normal(0, 0.1, len(meta)))
        rg = radiogenomics(wide, mol[["mol_expr"]], site=mol["site"], predict=False)
    ibsi = pd.DataFrame({"dataset": ["phantom", "phantom", "A", "A", "A"], "tag": ["stat_mean", "cm_joint_max_3D_avg", "stat_mean", "stat_var", "ih_entropy"],
                         "family": ["stat", "cm", "stat", "stat", "ih"], "kind": "standardised",
                         "verdict": ["match", "match", "match", "no match", "match"], "value": 1.0, "reference": 1.0, "tolerance": 0.0})
    prov = {"datasets": {"synthetic-multicentre": {"sha256": "f" * 64, "doi": "", "citation": "radrepro synthetic cohort", "licence": "CC0"}},
            "seeds": {"perturbations": 7}}
    artifacts = {"results.parquet": results, "status.parquet": status, "cases.csv": meta, "stability.csv": stability,
                 "harmonised.parquet": harmonised, "harmonisation.csv": diag, "models.csv": models, "ibsi.csv": ibsi,
                 "radiogenomics_summary.csv": rg.summary, "radiogenomics_survival.csv": rg.survival,
                 "radiogenomics_associations.csv": rg.associations,
                 "provenance.json": json.dumps(prov), "environment.txt": "numpy==2.2.6\nscikit-learn==1.9.1\n",
                 "quick.toml": 'name = "quick"\n'}
    run_id, uri = _log_run(tmp, artifacts)
    out = tmp / "report-full"
    assert main(["report", run_id, "-o", str(out), "--tracking-uri", uri]) == 0
    return out, models, run_id


class _Refs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs, self.tables, self.images = [], 0, 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tables += tag == "table"
        for key in ("href", "src"):
            if key in a:
                self.refs.append(a[key])
        if tag == "img" and a.get("src", "").startswith("data:image/png;base64,"):
            self.images += 1


def test_every_table_and_figure_file_exists(full_run):
    out, _, _ = full_run
    for name in TABLES:
        for ext in ("csv", "md", "tex"):
            path = out / "tables" / f"{name}.{ext}"
            assert path.is_file() and path.stat().st_size > 0, path
    for name in FIGURES:
        png, svg = out / "figures" / f"{name}.png", out / "figures" / f"{name}.svg"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000, png
        assert "<svg" in svg.read_text()[:2000]
    for name in ("report.html", "citations.bib", "provenance.md"):
        assert (out / name).stat().st_size > 0


def test_html_is_self_contained_and_shows_the_tables(full_run):
    out, models, run_id = full_run
    text = (out / "report.html").read_text()
    parser = _Refs()
    parser.feed(text)
    assert parser.images == len(FIGURES)  # every figure inlined
    for ref in parser.refs:  # every other reference is an anchor or a file of the report
        if ref.startswith(("data:", "#")):
            continue
        assert not re.match(r"^[a-z]+://", ref) and (out / ref).is_file(), ref
    assert parser.tables >= len(TABLES)
    row = models.iloc[0]
    assert f"{row['auc']:.3f} [{row['auc_low']:.3f}, {row['auc_high']:.3f}]" in text
    assert "4/5" in text and "2/3" in text  # IBSI matches: all data sets, configuration A
    assert run_id in text and "0123456789abcdef" in text and "10.7937/K9/TCIA.2015.LO9QL9SX" in text
    assert "omitted" not in text
    assert "mol_expr" in text and "linked" in text


def _unescaped(line: str, ch: str) -> int:
    return len(re.findall(r"(?<!\\)" + re.escape(ch), line))


def test_latex_tables_are_booktabs_and_escaped(full_run):
    out, _, _ = full_run
    for tex in sorted((out / "tables").glob("*.tex")):
        text = tex.read_text()
        assert "\\toprule" in text and "\\midrule" in text and "\\bottomrule" in text, tex
        cols = len(re.search(r"\\begin\{tabular\}\{([^}]*)\}", text).group(1))
        body = text.split("\\toprule", 1)[1].split("\\bottomrule", 1)[0]
        for line in body.splitlines():
            if not line.strip() or line.strip().startswith("\\midrule"):
                continue
            assert line.rstrip().endswith("\\\\"), (tex, line)
            cells = line.rstrip()[:-2]
            assert _unescaped(cells, "&") == cols - 1, (tex, line)
            for ch in "%$#_^~":
                assert _unescaped(cells, ch) == 0, (tex, ch, line)
            assert cells.count("{") == cells.count("}"), (tex, line)
    perf = (out / "tables" / "model_performance.tex").read_text()
    assert "ComBat on all data (leaky)" in perf and "\\caption{" in perf


def test_provenance_and_citations(full_run):
    out, _, run_id = full_run
    bib = (out / "citations.bib").read_text()
    for key in ("@software{radrepro", "10.1148/radiol.2020191145", "10.1158/0008-5472.CAN-17-0339", "10.1093/biostatistics/kxj037",
                "@misc{syntheticmulticentre", "@misc{lidcidri", "10.7937/K9/TCIA.2015.LO9QL9SX"):
        assert key in bib, key
    assert bib.count("{") == bib.count("}")
    prov = (out / "provenance.md").read_text()
    assert run_id in prov and "scikit-learn" in prov and "seeds.perturbations" in prov and "bin_width" in prov


def test_a_run_missing_sections_still_builds(store, tmp_path):
    _, _, status = _cohort(n_per_site=3)
    run_id, uri = _log_run(store, {"status.parquet": status}, name="bare")
    out = tmp_path / "report"
    assert main(["report", run_id, "-o", str(out), "--tracking-uri", uri]) == 0
    text = (out / "report.html").read_text()
    for section in ("IBSI compliance: omitted", "Stability: omitted", "Harmonisation: omitted", "Model performance: omitted",
                    "Radiogenomics: omitted"):
        assert section in text
    assert (out / "tables" / "speed.tex").is_file() and (out / "figures" / "speed_vs_roi.png").is_file()
    assert not (out / "tables" / "model_performance.csv").exists()
    # a run with no artifacts at all: provenance only
    empty_id, _ = _log_run(store, {}, name="empty")
    assert main(["report", "latest", "-o", str(tmp_path / "r2"), "--tracking-uri", uri]) == 0
    assert empty_id in (tmp_path / "r2" / "report.html").read_text()


def test_unknown_run_is_a_one_line_error(store, tmp_path, capsys):
    _, uri = _log_run(store, {}, name="any")
    assert main(["report", "0" * 32, "--tracking-uri", uri, "-o", str(tmp_path / "x")]) == 2
    assert "no MLflow run" in capsys.readouterr().err


def test_latest_is_the_newest_suite_run_not_its_nested_runs(store):
    from radrepro.reports.run_data import resolve_run_id

    run_id, uri = _log_run(store, {}, name="parent")
    mlflow.set_tracking_uri(uri)
    with mlflow.start_run(run_id=run_id):
        with mlflow.start_run(run_name="radrepro@0.1.0", nested=True) as child:
            pass
    assert child.info.run_id != run_id
    assert resolve_run_id("latest", uri) == run_id
