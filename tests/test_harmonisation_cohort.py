"""ComBat on the synthetic multi-centre cohort (4 sites with acquisition effects by construction,
a biology label): the site effect goes, the label's signal stays. Also the suite step on its long table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from radrepro.harmonisation import ComBat, harmonisation_diagnostics, harmonise_results, load_recipe
from radrepro.results import long_rows


@pytest.fixture(autouse=True)
def _one_blas_thread():
    """Small matrices: on a shared 2-core machine, BLAS threads waiting for each other cost 10x."""
    with threadpool_limits(1):
        yield


pytestmark = pytest.mark.slow  # the cohort takes ~10 s to generate and extract, once per session

@pytest.fixture(scope="session")
def cohort(synthetic_features):
    """(features, metadata): one row per lesion; features from the intensity and texture families."""
    return synthetic_features


@pytest.fixture(scope="session")
def usable(cohort):
    """Features without missing values (texture features can be undefined for tiny ROIs)."""
    features, meta = cohort
    return features.loc[:, features.notna().all()], meta


def test_combat_removes_the_site_effect_and_keeps_the_label(usable):
    features, meta = usable
    assert features.shape[0] == 80 and features.shape[1] >= 18
    harmonised = ComBat().fit_transform(features, meta["site"], meta[["label"]])
    diag = harmonisation_diagnostics(features, harmonised, meta["site"], meta[["label"]])
    assert diag.attrs["batch_test"] == "kruskal" and diag.attrs["n_batches"] == 4
    before, after = diag["before"], diag["after"]
    # Kruskal-Wallis significant features: from most to few
    assert before["batch_significant_pct"] > 75
    assert after["batch_significant_pct"] < 15
    # a site classifier: well above chance before, not above chance after
    assert before["site_balanced_accuracy"] > 0.6
    assert after["site_balanced_accuracy"] <= after["site_chance"] + 0.1
    # the biology label's association with the features is kept (not erased)
    assert after["label_significant_pct"] >= 0.8 * before["label_significant_pct"]
    assert after["label_significant_pct"] > 30


def _long_table(features: pd.DataFrame) -> pd.DataFrame:
    parts = [
        long_rows(row, case=case, extractor="radrepro@test", convention="ibsi", settings="abc", seconds=0.1)
        for case, row in features.iterrows()
    ]
    return pd.concat(parts, ignore_index=True)


def test_harmonise_results_suite_step(cohort, usable):
    features, meta = cohort
    long = _long_table(features)
    metadata = meta.rename_axis("case").reset_index()
    harmonised, diag = harmonise_results(long, metadata, "combat-site")
    expected = ComBat().fit_transform(usable[0], meta["site"], meta[["label"]])
    assert list(harmonised.columns) == list(long.columns)
    got = harmonised.pivot(index="case", columns="feature", values="value").loc[expected.index, expected.columns]
    np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=1e-12)  # columns pivot sorted: sums in another order
    assert len(harmonised) == usable[0].size
    metrics = diag.set_index("metric")
    assert metrics.loc["n_cases", "after"] == 80
    assert metrics.loc["batch_significant_pct", "after"] < metrics.loc["batch_significant_pct", "before"]
    assert set(diag.columns) >= {"recipe", "perturbation", "extractor", "metric", "before", "after"}
    assert (diag["recipe"] == "combat-site").all()


@pytest.mark.parametrize("recipe", ["combat-site", "combat-site-reference", "mcombat-site", "combat-site-ls"])
def test_shipped_recipes_run_on_the_cohort(recipe, usable):
    features, meta = usable
    rec = load_recipe(recipe)
    out = rec.estimator().fit_transform(features, meta[rec.batch], meta[list(rec.covariates)] if rec.covariates else None)
    assert out.shape == features.shape and np.isfinite(out.to_numpy()).all()
    if rec.reference and not rec.mcombat:
        rows = meta[rec.batch] == rec.reference
        np.testing.assert_array_equal(out[rows].to_numpy(), features[rows].to_numpy())
