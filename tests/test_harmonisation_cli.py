"""``radrepro harmonise`` and the harmonisation recipes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from radrepro.cli import main
from radrepro.errors import InputError, SettingsError
from radrepro.harmonisation import ComBat, harmonise_results, load_recipe
from radrepro.harmonisation.recipes import available_recipes
from radrepro.results import long_rows


@pytest.fixture(autouse=True)
def _one_blas_thread():
    """Small matrices: on a shared 2-core machine, BLAS threads waiting for each other cost 10x."""
    with threadpool_limits(1):
        yield


def make_table(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 45
    site = np.repeat(["1", "2", "3"], 15)
    label = rng.integers(0, 2, n)
    feats = rng.normal(0, 1, (n, 12)) + label[:, None] + np.repeat(rng.normal(0, 2, (3, 12)), 15, axis=0)
    table = pd.DataFrame(feats, columns=[f"feature_{j}" for j in range(12)])
    table.insert(0, "case", [f"c{i:02d}" for i in range(n)])
    table.insert(1, "site", site)
    table.insert(2, "label", label)
    table.insert(3, "outcome", rng.normal(size=n))
    return table


@pytest.fixture
def table_csv(tmp_path):
    path = tmp_path / "features.csv"
    make_table().to_csv(path, index=False)
    return path


def test_cli_harmonises_and_passes_metadata_through(table_csv, tmp_path, capsys):
    out = tmp_path / "out.csv"
    diag = tmp_path / "diag.csv"
    code = main(["harmonise", str(table_csv), "--batch", "site", "--covariates", "label", "--keep", "outcome",
                 "--reference", "2", "--nonparametric", "-o", str(out), "--diagnostics", str(diag)])
    assert code == 0
    table = pd.read_csv(table_csv, dtype={"site": str})
    got = pd.read_csv(out, dtype={"site": str})
    assert list(got.columns) == list(table.columns)
    for col in ("case", "site", "label", "outcome"):
        pd.testing.assert_series_equal(got[col], table[col])
    feats = [c for c in table.columns if c.startswith("feature_")]
    expected = ComBat(parametric=False, ref_batch="2").fit_transform(table[feats], table["site"], table[["label"]])
    np.testing.assert_allclose(got[feats].to_numpy(), expected.to_numpy(), rtol=0, atol=1e-12)
    np.testing.assert_array_equal(got.loc[table["site"] == "2", feats].to_numpy(), table.loc[table["site"] == "2", feats].to_numpy())
    d = pd.read_csv(diag, index_col="metric")
    assert d.loc["batch_significant_pct", "after"] < d.loc["batch_significant_pct", "before"]
    err = capsys.readouterr().err
    assert "12 features of 45 samples in 3 batches harmonised" in err and "batch_significant_pct" in err


@pytest.mark.parametrize(
    "flags, kwargs",
    [([], {}), (["--mean-only"], dict(mean_only=True)), (["--no-eb"], dict(eb=False)),
     (["--reference", "1", "--mcombat"], dict(ref_batch="1", mcombat=True))],
)
def test_cli_options_reach_combat(flags, kwargs, table_csv, tmp_path):
    out = tmp_path / "out.csv"
    assert main(["harmonise", str(table_csv), "--batch", "site", "--keep", "label,outcome", *flags, "-o", str(out)]) == 0
    table = pd.read_csv(table_csv, dtype={"site": str})
    feats = [c for c in table.columns if c.startswith("feature_")]
    expected = ComBat(**kwargs).fit_transform(table[feats], table["site"])
    np.testing.assert_allclose(pd.read_csv(out)[feats].to_numpy(), expected.to_numpy(), rtol=0, atol=1e-12)


def test_cli_errors_are_one_line(table_csv, tmp_path, capsys):
    assert main(["harmonise", str(table_csv), "--batch", "scanner", "-o", str(tmp_path / "o.csv")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("radrepro harmonise: error:") and "no column(s) scanner" in err and "\n" not in err
    assert main(["harmonise", str(table_csv), "--batch", "site", "--reference", "9"]) == 2
    assert "reference batch '9' is not one of the batches" in capsys.readouterr().err
    assert main(["harmonise", str(tmp_path / "missing.csv"), "--batch", "site"]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_shipped_recipes_load():
    names = available_recipes()
    assert {"combat-site", "combat-site-reference", "mcombat-site", "combat-site-ls"} <= set(names)
    for name in names:
        rec = load_recipe(name)
        assert rec.name == name and rec.batch == "site"
        assert isinstance(rec.estimator(), ComBat)
    ref = load_recipe("combat-site-reference")
    assert ref.reference == "A" and ref.covariates == ("label",) and ref.parametric and not ref.mcombat


@pytest.mark.parametrize(
    "raw, match",
    [
        ({"batch": "site", "colour": "red"}, "unknown keys: colour"),
        ({"covariates": ["label"]}, "needs batch"),
        ({"batch": "site", "eb": "yes"}, "eb must be true or false"),
        ({"batch": "site", "mcombat": True}, "needs a reference"),
        ({"batch": "site", "covariates": ["site"]}, "also a covariate"),
    ],
)
def test_bad_recipes_are_settings_errors(raw, match):
    with pytest.raises(SettingsError, match=match):
        load_recipe(raw)
    with pytest.raises(SettingsError, match="no harmonisation recipe 'nope'"):
        load_recipe("nope")


def test_recipe_file_by_path(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text('batch = "scanner"\nparametric = false\n')
    rec = load_recipe(path)
    assert rec.name == "mine" and rec.batch == "scanner" and rec.parametric is False


def _long(table: pd.DataFrame, perturbations=("none",)) -> pd.DataFrame:
    feats = [c for c in table.columns if c.startswith("feature_")]
    parts = []
    for pert in perturbations:
        shift = 0.0 if pert == "none" else 0.5
        for _, row in table.iterrows():
            parts.append(long_rows(row[feats].astype(float) + shift, case=row["case"], extractor="radrepro@t",
                                   convention="ibsi", settings="s", seconds=0.0, perturbation=pert))
    return pd.concat(parts, ignore_index=True)


def test_harmonise_results_per_perturbation_and_missing_features():
    table = make_table()
    long = _long(table, perturbations=("none", "noise-1"))
    # one feature missing for one case in one perturbation: dropped there only
    hole = (long["perturbation"] == "noise-1") & (long["feature"] == "feature_3") & (long["case"] == "c05")
    long.loc[hole, "value"] = np.nan
    meta = table[["case", "site", "label"]]
    with pytest.warns(UserWarning, match="1 feature\\(s\\) with missing values dropped for perturbation 'noise-1'"):
        out, diag = harmonise_results(long, meta, {"name": "t", "batch": "site", "covariates": ["label"]}, diagnostics=False)
    assert len(out) == len(long) - 45
    assert set(out.loc[out["perturbation"] == "noise-1", "feature"]) == {f"feature_{j}" for j in range(12)} - {"feature_3"}
    feats = [c for c in table.columns if c.startswith("feature_")]
    expected = ComBat().fit_transform(table[feats].set_index(table["case"]), table["site"].to_numpy(), table[["label"]])
    none = out[out["perturbation"] == "none"].pivot(index="case", columns="feature", values="value")
    np.testing.assert_allclose(none.loc[expected.index, expected.columns].to_numpy(), expected.to_numpy(), rtol=1e-12)
    d = diag.set_index(["perturbation", "metric"])["after"]
    assert d[("noise-1", "n_features_dropped_missing")] == 1 and d[("none", "n_features_dropped_missing")] == 0
    assert set(diag["perturbation"]) == {"none", "noise-1"}


def test_harmonise_results_needs_metadata_for_every_case():
    table = make_table()
    with pytest.raises(InputError, match="1 case\\(s\\) of the results have no metadata: c44"):
        harmonise_results(_long(table), table[["case", "site", "label"]].iloc[:-1], "combat-site")
    with pytest.raises(InputError, match="metadata lacks the column\\(s\\) label"):
        harmonise_results(_long(table), table[["case", "site"]], "combat-site")
