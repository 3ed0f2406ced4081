"""Radiogenomics: the synthetic cohort's known ground truth, statistics against independent
implementations (numpy, scikit-learn, pingouin, statsmodels, scipy's own FDR), bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from threadpoolctl import threadpool_limits

from radrepro.cli import main
from radrepro.errors import InputError
from radrepro.radiogenomics import associate, cross_fitted_combat, radiogenomics, variable_kind
from radrepro.radiogenomics.associations import _auc_ci
from radrepro.results import long_rows, write_results

MOLECULAR = ["mol_texture", "mol_null", "mol_site"]


@pytest.fixture(autouse=True)
def _one_blas_thread():
    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def cohort_result(synthetic_features):
    features, meta = synthetic_features
    return radiogenomics(features, meta[MOLECULAR], site=meta["site"])


@pytest.mark.slow
def test_linked_variable_is_found(cohort_result):
    summary = cohort_result.summary.set_index("variable")
    assert summary.loc["mol_texture", "verdict"] == "linked"
    assoc = cohort_result.associations
    texture = assoc[(assoc["variable"] == "mol_texture") & (assoc["stage"] == "all")]
    assert texture["q"].min() < 0.05
    # the link is to texture (the simulated correlation length), not only to intensity statistics
    hits = texture.loc[texture["q"] < 0.05, "feature"]
    assert hits.str.match(r"(cm|rlm|szm|dzm|ngt|ngl)_").any()


@pytest.mark.slow
def test_null_variable_is_rejected_in_every_stage(cohort_result):
    summary = cohort_result.summary.set_index("variable")
    assert summary.loc["mol_null", "verdict"] == "not associated"
    assert all(summary.loc["mol_null", f"significant_{s}"] == 0 for s in ("all", "harmonised", "site_adjusted"))


@pytest.mark.slow
def test_site_confounded_variable_disappears_once_site_is_accounted_for(cohort_result):
    summary = cohort_result.summary.set_index("variable")
    row = summary.loc["mol_site"]
    assert row["significant_all"] >= 10  # looks like a strong radiogenomic signal ...
    assert row["significant_harmonised"] == 0  # ... that in-fold ComBat removes
    assert row["significant_site_adjusted"] == 0  # ... and site adjustment too
    assert row["verdict"] == "site-confounded"
    flagged = cohort_result.survival.query("variable == 'mol_site'")["verdict"]
    assert (flagged == "site-confounded").sum() == row["significant_all"]


@pytest.mark.slow
def test_site_confounded_mutation_is_predicted_only_without_harmonisation(cohort_result):
    pred = cohort_result.prediction.set_index("harmonisation")
    assert set(pred["variable"]) == {"mol_site"}  # the only binary molecular variable
    raw, combat = pred.loc["none"], pred.loc["ComBat in fold"]
    assert raw["auc_low"] > 0.5  # the features "predict" the mutation through the site ...
    assert combat["auc_low"] < 0.5 < combat["auc_high"]  # ... and not once the site effect is removed in fold
    assert raw["n_cases"] == 80


@pytest.mark.slow
def test_stable_stage_restricts_the_features(synthetic_features):
    features, meta = synthetic_features
    stable = [c for c in features.columns if c.startswith("stat_")]
    result = radiogenomics(features, meta[["mol_texture"]], stable_features=stable, predict=False)
    part = result.associations.query("stage == 'stable'")
    assert set(part["feature"]) == set(stable) - {c for c in stable if features[c].nunique() < 2}
    # fewer tests, its own FDR correction
    assert result.summary.loc[0, "tested_stable"] < result.summary.loc[0, "tested_all"]


# --- statistics against independent implementations -------------------------------------------


@pytest.fixture(scope="module")
def random_data():
    rng = np.random.default_rng(7)
    n = 60
    site = pd.Series(np.repeat(["s1", "s2", "s3"], n // 3), index=[f"c{i}" for i in range(n)])
    X = pd.DataFrame(rng.normal(size=(n, 25)), index=site.index, columns=[f"f{j}" for j in range(25)])
    X["f0"] += (site == "s2") * 1.5
    mol = pd.DataFrame({
        "expr": X["f1"] * 0.5 + rng.normal(size=n),
        "mut": (rng.random(n) < 0.4).astype(int),
        "subtype": rng.choice(["a", "b", "c"], size=n),
    }, index=site.index)
    return X, mol, site


def test_marginal_statistics_equal_independent_implementations(random_data):
    from sklearn.metrics import roc_auc_score

    X, mol, _ = random_data
    table = associate(X, mol).set_index(["feature", "variable"])
    for f in X.columns:
        rho = np.corrcoef(stats.rankdata(X[f]), stats.rankdata(mol["expr"]))[0, 1]
        assert table.loc[(f, "expr"), "effect"] == pytest.approx(rho, abs=1e-12)
        t = rho * np.sqrt((len(X) - 2) / (1 - rho**2))
        assert table.loc[(f, "expr"), "p"] == pytest.approx(2 * stats.t.sf(abs(t), len(X) - 2), rel=1e-9)
        auc = roc_auc_score(mol["mut"], X[f])
        assert table.loc[(f, "mut"), "effect"] == pytest.approx(auc, abs=1e-12)
        assert table.loc[(f, "mut"), "statistic"] == pytest.approx(auc * mol["mut"].sum() * (1 - mol["mut"]).sum())
        assert table.loc[(f, "mut"), "p"] == pytest.approx(stats.mannwhitneyu(
            X[f][mol["mut"] == 1], X[f][mol["mut"] == 0]).pvalue, rel=1e-12)
        h = stats.kruskal(*[X[f][mol["subtype"] == g] for g in "abc"]).statistic
        assert table.loc[(f, "subtype"), "effect"] == pytest.approx(h / (len(X) - 1))
    assert (table["kind"].groupby(level="variable").first() == pd.Series(
        {"expr": "continuous", "mut": "binary", "subtype": "categorical"})).all()


def test_site_adjusted_statistics_equal_statsmodels_and_pingouin(random_data):
    import pingouin as pg
    import statsmodels.formula.api as smf

    X, mol, site = random_data
    table = associate(X, mol, adjust_for=site).set_index(["feature", "variable"])
    df = X.assign(expr=mol["expr"], mut=mol["mut"], site=site)
    for f in ("f0", "f1", "f7"):
        ranks = df.assign(rf=stats.rankdata(df[f]), ry=stats.rankdata(df["expr"]))
        ols = smf.ols("ry ~ rf + C(site)", data=ranks).fit()
        assert table.loc[(f, "expr"), "p"] == pytest.approx(ols.pvalues["rf"], rel=1e-8)
        dummies = pd.get_dummies(site, drop_first=True, dtype=float).add_prefix("d_")
        pc = pg.partial_corr(data=pd.concat([df[[f, "expr"]], dummies], axis=1), x=f, y="expr",
                             covar=list(dummies.columns), method="spearman")
        assert table.loc[(f, "expr"), "effect"] == pytest.approx(pc["r"].iloc[0], abs=1e-10)
        z = df.assign(z=(df[f] - df[f].mean()) / df[f].std())
        logit = smf.logit("mut ~ z + C(site)", data=z).fit(disp=0)
        assert table.loc[(f, "mut"), "effect"] == pytest.approx(np.exp(logit.params["z"]), rel=1e-6)
        assert table.loc[(f, "mut"), "p"] == pytest.approx(logit.pvalues["z"], rel=1e-5)
        lo, hi = np.exp(logit.conf_int().loc["z"])
        assert (table.loc[(f, "mut"), "ci_low"], table.loc[(f, "mut"), "ci_high"]) == pytest.approx((lo, hi), rel=1e-5)
    assert table.xs("subtype", level="variable")["note"].str.contains("categorical").all()


def test_fdr_equals_scipy(random_data):
    X, mol, _ = random_data
    result = radiogenomics(X, mol[["expr", "mut"]], predict=False)
    tested = result.associations.query("stage == 'all'")
    assert np.allclose(tested["q"], stats.false_discovery_control(tested["p"], method="bh"), rtol=1e-12)
    assert (tested["significant"] == (tested["q"] < 0.05)).all()


def test_auc_ci_matches_the_simulated_spread_of_the_auc():
    """Hanley & McNeil's SE against the spread of the empirical AUC over 4,000 simulated studies
    (exponential scores, the model their formula is exact for; true AUC 0.8)."""
    rng = np.random.default_rng(3)
    n1, n0, auc_true = 40, 60, 0.8
    pos = rng.exponential(auc_true / (1 - auc_true), size=(4000, n1))  # P(pos > neg) = 0.8 for Exp(1) negatives
    neg = rng.exponential(1.0, size=(4000, n0))
    aucs = (pos[:, :, None] > neg[:, None, :]).mean(axis=(1, 2))
    lo, hi = _auc_ci(auc_true, n1, n0, 1.0)
    assert aucs.mean() == pytest.approx(auc_true, abs=0.005)
    assert (hi - lo) / 2 == pytest.approx(aucs.std(), rel=0.05)


def test_spearman_ci_contains_rho_and_narrows_with_n(random_data):
    X, mol, _ = random_data
    row = associate(X[["f1"]], mol[["expr"]]).iloc[0]
    assert row["ci_low"] < row["effect"] < row["ci_high"]
    small = associate(X[["f1"]].iloc[:20], mol[["expr"]]).iloc[0]
    assert small["ci_high"] - small["ci_low"] > row["ci_high"] - row["ci_low"]


def test_variable_kinds():
    assert variable_kind(pd.Series([1, 1, 1, None])) == "constant"
    assert variable_kind(pd.Series(["wt", "mut", "wt"])) == "binary"
    assert variable_kind(pd.Series([0.1, 0.5, 2.0])) == "continuous"
    assert variable_kind(pd.Series(["a", "b", "c"])) == "categorical"


def test_cross_fitted_combat_removes_the_site_shift(random_data):
    X, _, site = random_data
    # every feature with its own site shift, as scanners do (one shifted feature among 25 would be
    # shrunk towards no shift by ComBat's empirical Bayes prior, in-sample too)
    offsets = np.random.default_rng(1).normal(0, 1, size=(3, X.shape[1]))
    X = X + offsets[pd.factorize(site, sort=True)[0]]
    H = cross_fitted_combat(X, site, folds=5)
    shift_before = X["f0"][site == "s2"].mean() - X["f0"][site == "s1"].mean()
    shift_after = H["f0"][site == "s2"].mean() - H["f0"][site == "s1"].mean()
    assert abs(shift_before) > 0.8 and abs(shift_after) < 0.2 * abs(shift_before)
    assert H.notna().all().all() and H.shape == X.shape


def test_cross_fitted_combat_holds_each_case_out(random_data):
    """A case's harmonised value comes from a ComBat that never saw it: moving the case moves its
    own harmonised value exactly linearly (the model is fixed), which in-sample ComBat would not."""
    X, _, site = random_data
    H0 = cross_fitted_combat(X, site)
    shifted = X.copy()
    deltas = (1.0, 2.0)
    H = [cross_fitted_combat(shifted.assign(f3=X["f3"].where(X.index != "c5", X.loc["c5", "f3"] + d)), site) for d in deltas]
    step1 = H[0].loc["c5", "f3"] - H0.loc["c5", "f3"]
    step2 = H[1].loc["c5", "f3"] - H0.loc["c5", "f3"]
    assert step2 == pytest.approx(2 * step1, rel=1e-9)


# --- bad input ----------------------------------------------------------------------------------


def test_case_ids_that_do_not_match_are_a_clear_error(random_data):
    X, mol, _ = random_data
    with pytest.raises(InputError, match="no case id is both"):
        radiogenomics(X, mol.set_axis([f"p{i}" for i in range(len(mol))]), predict=False)


def test_partial_mismatch_missing_values_and_constant_variables_are_reported(random_data):
    X, mol, _ = random_data
    mol = mol.iloc[5:].copy()
    mol.loc[mol.index[:4], "expr"] = np.nan
    mol["flat"] = 1
    result = radiogenomics(X, mol[["expr", "mut", "flat"]], predict=False)
    text = "\n".join(result.problems)
    assert "5 case(s) only in the results" in text
    assert "'expr' is missing for 4 case(s)" in text
    assert "'flat' has fewer than two distinct values" in text
    summary = result.summary.set_index("variable")
    assert summary.loc["flat", "verdict"] == "not tested (constant)"
    assert summary.loc["expr", "verdict"] == "linked"
    n_expr = result.associations.query("variable == 'expr' and stage == 'all'")["n"]
    assert (n_expr == 51).all()


def test_constant_feature_is_left_out(random_data):
    X, mol, _ = random_data
    result = radiogenomics(X.assign(flat=3.0), mol[["expr"]], predict=False)
    assert "flat" not in set(result.associations["feature"])
    assert any("constant over the cases" in p for p in result.problems)


# --- CLI and outputs ------------------------------------------------------------------------------


def test_cli_writes_tables_and_figures(tmp_path, random_data, capsys):
    X, mol, site = random_data
    rows = pd.concat([long_rows(X.loc[c], case=c, extractor="radrepro@test", convention="ibsi", settings="s",
                                seconds=0.1) for c in X.index])
    results = write_results(rows, tmp_path / "results.parquet")
    mol.assign(site=site).rename_axis("case").reset_index().to_csv(tmp_path / "mol.csv", index=False)
    out = tmp_path / "rg"
    code = main(["radiogenomics", str(results), str(tmp_path / "mol.csv"), "-o", str(out), "--site", "site",
                 "--variables", "expr,mut", "--no-predict"])
    assert code == 0
    for name in ("associations.csv", "survival.csv", "summary.csv", "surviving.md", "volcano.png", "volcano.svg"):
        assert (out / f"radiogenomics_{name}").stat().st_size > 0
    summary = pd.read_csv(out / "radiogenomics_summary.csv").set_index("variable")
    assert summary.loc["expr", "verdict"] == "linked"
    assert "f1" in (out / "radiogenomics_surviving.md").read_text()
    assert "linked" in capsys.readouterr().out


def test_cli_names_a_missing_id_column(tmp_path, random_data, capsys):
    X, mol, _ = random_data
    rows = long_rows(X.iloc[0], case="c0", extractor="radrepro@test", convention="ibsi", settings="s", seconds=0.1)
    results = write_results(rows, tmp_path / "results.parquet")
    mol.to_csv(tmp_path / "mol.csv", index=False)
    code = main(["radiogenomics", str(results), str(tmp_path / "mol.csv"), "-o", str(tmp_path / "o")])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "has no 'case' column" in err[0] and "--id-column" in err[0]


def test_suite_step_reads_mol_columns_and_writes_files(tmp_path, random_data):
    from radrepro.radiogenomics import suite_step

    X, mol, site = random_data
    rows = pd.concat([long_rows(X.loc[c], case=c, extractor="radrepro@test", convention="ibsi", settings="s",
                                seconds=0.1) for c in X.index])
    meta = mol.rename(columns={"expr": "mol_expr", "mut": "mol_mut"}).assign(site=site).rename_axis("case").reset_index()
    summary, metrics = suite_step(rows, meta, out_dir=tmp_path, predict=False)
    assert list(summary["variable"]) == ["mol_expr", "mol_mut"]
    assert metrics["radiogenomics.mol_expr.significant_all"] >= 1
    assert "radiogenomics.mol_mut.significant_site_adjusted" in metrics
    assert (tmp_path / "radiogenomics_volcano.png").exists()
    with pytest.raises(InputError, match="lacks the column"):
        suite_step(rows, meta.drop(columns="site"), predict=False)


def test_cases_without_a_site_are_left_out_with_a_note(random_data):
    X, mol, site = random_data
    site = site.astype(object)
    site.iloc[:3] = np.nan
    result = radiogenomics(X, mol[["expr"]], site=site, predict=False)
    assert any("3 case(s) without a site were left out" in p for p in result.problems)
    assert (result.associations.query("stage == 'all'")["n"] == len(X) - 3).all()
    with pytest.raises(InputError, match="no case has a site"):
        radiogenomics(X, mol[["expr"]], site=site.where(site.isna()), predict=False)
