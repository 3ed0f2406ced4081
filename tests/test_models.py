"""Models: AUC CI against sklearn by hand, calibration, pipeline steps, and the synthetic cohort's ground truth.

The cohort tests use the real synthetic multi-centre cohort (4 sites x 10 lesions, features from
radrepro's engine): its biology label drives texture, so a model must find it; a permuted label
must not be found; leave-one-site-out must run. The leakage test uses a cohort built here whose
site is confounded with the outcome.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from threadpoolctl import threadpool_limits

from radrepro.errors import InputError
from radrepro.models import (
    IN_FOLD,
    LEAKY,
    NONE,
    FoldComBat,
    auc_ci,
    build_pipeline,
    calibration,
    compare_models,
    evaluate_cv,
    evaluate_loso,
    evaluate_variant,
    model_frame,
    stable_features,
)
from radrepro.models.metrics import balanced_accuracy, brier, stratified_bootstrap_indices
from radrepro.results import long_rows

FAST = {"n_repeats": 2, "n_boot": 500}


# ------------------------------------------------------------------------------------ metrics
def test_auc_and_bootstrap_ci_match_sklearn_by_hand():
    y = np.array([0, 0, 1, 1, 0, 1, 0, 1, 1, 0])
    s = np.array([0.1, 0.4, 0.35, 0.8, 0.4, 0.9, 0.2, 0.4, 0.7, 0.65])  # ties across classes at 0.4
    auc, low, high = auc_ci(y, s, n_boot=300, seed=3)
    assert auc == pytest.approx(roc_auc_score(y, s), abs=1e-15)
    # hand count: pairs (pos, neg) with pos > neg, ties one half
    pos, neg = s[y == 1], s[y == 0]
    by_hand = np.mean([(p > n) + 0.5 * (p == n) for p in pos for n in neg])
    assert auc == pytest.approx(by_hand, abs=1e-15)
    # the CI is the percentile interval of sklearn's AUC over the same stratified resamples
    idx = stratified_bootstrap_indices(y, 300, 3)
    boot = [roc_auc_score(y[i], s[i]) for i in idx]
    assert (low, high) == pytest.approx(tuple(np.quantile(boot, [0.025, 0.975])), abs=1e-12)
    assert all(y[i].sum() == y.sum() for i in idx)  # stratified: prevalence kept
    assert low < auc < high


def test_auc_ci_over_repeats_is_the_mean_of_sklearn_aucs():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 40)
    scores = rng.normal(size=(3, 40)) + y
    auc, low, high = auc_ci(y, scores, n_boot=200, seed=0)
    assert auc == pytest.approx(np.mean([roc_auc_score(y, r) for r in scores]), abs=1e-14)
    idx = stratified_bootstrap_indices(y, 200, 0)
    boot = [np.mean([roc_auc_score(y[i], r[i]) for r in scores]) for i in idx]
    assert (low, high) == pytest.approx(tuple(np.quantile(boot, [0.025, 0.975])), abs=1e-12)


def test_auc_needs_both_classes():
    with pytest.raises(InputError, match="binary outcome"):
        auc_ci([1, 1, 1], [0.1, 0.2, 0.3])


def test_calibration_slope_and_intercept():
    rng = np.random.default_rng(0)
    lp = rng.normal(0, 1.5, 20000)
    p = 1 / (1 + np.exp(-lp))
    y = (rng.random(lp.size) < p).astype(int)
    slope, intercept = calibration(y, p)
    assert slope == pytest.approx(1.0, abs=0.05) and intercept == pytest.approx(0.0, abs=0.05)
    # over-confident predictions (logit doubled) have slope 1/2; an independent fit agrees
    p2 = 1 / (1 + np.exp(-2 * lp))
    slope2, _ = calibration(y, p2)
    ref = LogisticRegression(C=np.inf, tol=1e-10, max_iter=1000).fit((2 * lp)[:, None], y).coef_[0, 0]
    assert slope2 == pytest.approx(ref, rel=1e-4) and slope2 == pytest.approx(0.5, abs=0.03)
    # risks under-estimated by a constant shift on the logit scale: intercept recovers it
    _, intercept3 = calibration(y, 1 / (1 + np.exp(-(lp - 0.7))))
    assert intercept3 == pytest.approx(0.7, abs=0.06)


def test_brier_and_balanced_accuracy_by_hand():
    y = [0, 0, 1, 1]
    p = [0.2, 0.6, 0.9, 0.4]
    assert brier(y, p) == pytest.approx((0.04 + 0.36 + 0.01 + 0.36) / 4)
    assert balanced_accuracy(y, p) == pytest.approx(0.5 * (0.5 + 0.5))


# ------------------------------------------------------------------------------------ pipeline
def test_stable_features_from_table_series_or_names():
    table = pd.DataFrame({"feature": ["a", "b", "c"], "icc_a_1": [0.95, 0.8, 0.3], "icc_a_1_low": [0.92, 0.7, 0.1]})
    assert stable_features(table, threshold=0.75) == {"a"}
    assert stable_features(table, threshold=0.5) == {"a", "b"}
    assert stable_features(table.set_index("feature")["icc_a_1_low"], threshold=0.05) == {"a", "b", "c"}
    assert stable_features(["x", "y"]) == {"x", "y"}
    with pytest.raises(InputError, match="_low"):
        stable_features(pd.DataFrame({"feature": ["a"], "icc": [0.9]}))


def _toy(n=60, n_feat=12, seed=0, shift=(0.0, 3.0, -2.0), scale=(1.0, 2.0, 0.5), effect=1.0, p_label=None):
    """Features with a label effect in the first 3 columns and a location/scale effect per site."""
    rng = np.random.default_rng(seed)
    site = np.repeat(np.arange(len(shift)), n // len(shift))
    prev = np.full(len(shift), 0.5) if p_label is None else np.asarray(p_label)
    y = (rng.random(site.size) < prev[site]).astype(int)
    x = rng.normal(size=(site.size, n_feat))
    x[:, :3] += effect * y[:, None]
    x = x * np.asarray(scale)[site][:, None] + np.asarray(shift)[site][:, None]
    X = pd.DataFrame(x, columns=[f"f{j:02d}" for j in range(n_feat)], index=[f"c{i:03d}" for i in range(site.size)])
    X["site"] = np.array(["S1", "S2", "S3", "S4"])[site]
    return X, pd.Series(y, index=X.index)


def test_pipeline_keeps_only_stable_features_and_drops_the_site():
    X, y = _toy()
    pipe = build_pipeline(stable_features={"f00", "f01", "f05", "absent"}, k=2).fit(X, y)
    assert list(pipe.named_steps["stable"].features_) == ["f00", "f01", "f05"]
    assert set(pipe.named_steps["select"].get_feature_names_out()) <= {"f00", "f01", "f05"}
    assert "site" not in pipe.named_steps["harmonise"].features_
    l1 = build_pipeline(selection="l1", k=3, classifier="random_forest").fit(X, y)
    assert len(l1.named_steps["select"].get_feature_names_out()) == 3
    with pytest.raises(InputError, match="none of the stable features"):
        build_pipeline(stable_features={"nope"}).fit(X, y)


def test_fold_combat_on_an_unseen_site_uses_only_that_sites_features():
    X, y = _toy(n=90)
    train, test = X[X["site"] != "S3"], X[X["site"] == "S3"]
    fc = FoldComBat("site").fit(train)
    out = fc.transform(test)
    cb = fc.combat_
    z = (test[list(cb.features_)].to_numpy() - cb.grand_mean_) / np.sqrt(cb.var_pooled_)
    expected = (z - z.mean(0)) / z.std(0, ddof=1) * np.sqrt(cb.var_pooled_) + cb.grand_mean_
    np.testing.assert_allclose(out.to_numpy(), expected, rtol=1e-12)
    # seen sites: exactly ComBat's transform, one sample at a time (no test statistics used)
    seen = X[X["site"] == "S1"].iloc[:5]
    np.testing.assert_allclose(fc.transform(seen).to_numpy(), cb.transform(seen).to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(fc.transform(seen.iloc[:1]).to_numpy(), cb.transform(seen).to_numpy()[:1], rtol=1e-12)


def test_evaluation_is_reproducible_and_thread_independent():
    X, y = _toy()
    pipe = build_pipeline(combat=True, classifier="random_forest").set_params(model__n_estimators=50)
    a = evaluate_cv(pipe, X, y, n_repeats=1, n_boot=200)
    with threadpool_limits(2):
        b = evaluate_cv(pipe, X, y, n_repeats=1, n_boot=200)
    assert np.isnan(a.pop("auc_repeat_sd")) and np.isnan(b.pop("auc_repeat_sd"))  # one repeat: no spread
    assert a == b


# ---------------------------------------------------------------------- confounded cohort: leak
def _as_long(X: pd.DataFrame, extractor: str = "toy@1") -> pd.DataFrame:
    feats = [c for c in X.columns if c != "site"]
    return pd.concat([long_rows(X.loc[c, feats].astype(float), case=c, extractor=extractor, convention="ibsi", settings="s", seconds=0.1)
                      for c in X.index], ignore_index=True)


def test_combat_on_all_data_is_optimistic_when_site_is_confounded_with_the_outcome():
    # site S1 is mostly controls, S3 mostly cases; the sites differ in location and scale
    kw = dict(n_feat=20, effect=0.6, p_label=(0.15, 0.5, 0.85), scale=(1.0, 1.3, 0.8), shift=(0.0, 1.5, -1.0))
    X, y = _toy(n=150, seed=5, **kw)
    meta = pd.DataFrame({"case": X.index, "site": X["site"], "label": y})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = compare_models(_as_long(X), meta, validations=("cv",), k=5, n_repeats=2, n_boot=200)
    auc = table.set_index("harmonisation")["auc"]
    optimism = table.set_index("harmonisation")["optimism"]
    # the truth: the deployable pipeline (ComBat fitted on the training cohort) on a large new cohort
    X_new, y_new = _toy(n=900, seed=105, **kw)
    true_auc = roc_auc_score(y_new, build_pipeline(combat=True, k=5).fit(X, y).predict_proba(X_new)[:, 1])
    assert abs(auc[IN_FOLD] - true_auc) < 0.03, (auc, true_auc)  # in-fold CV estimates it
    assert auc[LEAKY] > true_auc + 0.03 and auc[LEAKY] > auc[IN_FOLD] + 0.03, (auc, true_auc)  # the leak inflates it
    assert optimism[LEAKY] == pytest.approx(auc[LEAKY] - auc[IN_FOLD], abs=1e-12)
    assert np.isnan(optimism[IN_FOLD]) and np.isnan(optimism[NONE])


# ------------------------------------------------------------------------ the synthetic cohort
@pytest.fixture(scope="module")
def cohort():
    from radrepro.datasets.synthetic import synthetic_cohort
    from radrepro.extractors import get_extractor
    from radrepro.settings import Settings

    settings = Settings(reseg_range=(-1000.0, 400.0), discretisation="fbs", bin_width=25.0)
    ex = get_extractor("radrepro")
    cases = synthetic_cohort(4, 10, seed=0)
    rows = [long_rows(ex.extract(c, settings), case=c.id, extractor=ex.label, convention="ibsi", settings="s", seconds=0.0) for c in cases]
    meta = pd.DataFrame([{"case": c.id, "site": c.metadata["site"], "label": c.metadata["label"]} for c in cases])
    return pd.concat(rows, ignore_index=True), meta


def test_biology_label_is_found_with_in_fold_combat(cohort):
    results, meta = cohort
    X, y = model_frame(results, meta)
    assert X.shape[0] == 40 and "site" in X.columns
    row = evaluate_variant(X, y, harmonisation=IN_FOLD, **FAST)
    assert row["auc"] > 0.8 and row["auc_low"] > 0.6, row
    assert row["validation"] == "repeated CV" and row["n_cases"] == 40


def test_null_label_gives_chance_auc(cohort):
    results, meta = cohort
    X, _ = model_frame(results, meta)
    rng = np.random.default_rng(7)
    null = pd.Series(rng.permutation(np.r_[np.zeros(20, int), np.ones(20, int)]), index=X.index)
    row = evaluate_variant(X, null, harmonisation=IN_FOLD, **FAST)
    assert row["auc_low"] < 0.5 < row["auc_high"], row
    assert abs(row["auc"] - 0.5) < 0.2


def test_leave_one_site_out_runs_per_site(cohort):
    results, meta = cohort
    X, y = model_frame(results, meta)
    rows = {h: evaluate_variant(X, y, harmonisation=h, validation="loso", n_boot=500) for h in (NONE, IN_FOLD)}
    for row in rows.values():
        assert row["validation"] == "leave-one-site-out" and row["folds"] == 4
        assert set(row["site_auc"]) == {"A", "B", "C", "D"}
        assert 0 <= row["auc_low"] <= row["auc"] <= row["auc_high"] <= 1
    # the site effect makes scores incomparable across held-out sites; in-fold ComBat fixes that
    assert rows[IN_FOLD]["auc"] > rows[NONE]["auc"]


def test_loso_rejects_a_single_site(cohort):
    results, meta = cohort
    X, y = model_frame(results, meta)
    with pytest.raises(InputError, match="two sites"):
        evaluate_loso(build_pipeline(), X, y, ["A"] * len(X))


def test_suite_step_finds_stable_features_from_the_runs_perturbations():
    from radrepro.models import suite_step

    X, y = _toy(n=60, n_feat=6, seed=2)
    noisy = X.copy()
    rng = np.random.default_rng(0)
    noisy[["f03", "f04", "f05"]] += rng.normal(0, 5, (len(X), 3))  # unstable under the perturbation
    results = pd.concat([_as_long(X), _as_long(noisy).assign(perturbation="noise")], ignore_index=True)
    meta = pd.DataFrame({"case": X.index, "site": X["site"], "label": y})
    table, metrics = suite_step(results, meta, threshold=0.5, k=2, n_repeats=1, n_boot=100, validations=("cv",), harmonisations=(NONE,))
    assert list(table["features"]) == ["all", "stable (ICC low > 0.50)"]
    assert table["n_features"].tolist() == [6, 3]
    assert set(metrics) == {"auc.all.none.cv.logistic", "auc_low.all.none.cv.logistic", "auc_high.all.none.cv.logistic",
                            "auc.stable.none.cv.logistic", "auc_low.stable.none.cv.logistic", "auc_high.stable.none.cv.logistic"}
