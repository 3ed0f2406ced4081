"""Harmonisation diagnostics on hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from radrepro.errors import InputError
from radrepro.harmonisation import feature_tests, harmonisation_diagnostics
from radrepro.harmonisation.diagnostics import association_test, group_test, site_classifier_score


@pytest.fixture(autouse=True)
def _one_blas_thread():
    with threadpool_limits(1):
        yield


def test_kruskal_wallis_by_hand():
    """Three separated groups of 3: ranks 1-3, 4-6, 7-9, H = 12/(9*10) * 3*((2-5)^2 + 0 + (8-5)^2) = 7.2;
    chi-square with 2 degrees of freedom: p = exp(-H/2)."""
    x = np.array([[1, 5], [2, 5], [3, 5], [4, 5], [5, 5], [6, 5], [7, 5], [8, 5], [9, 5]], dtype=float)
    p, test = group_test(x, ["a"] * 3 + ["b"] * 3 + ["c"] * 3)
    assert test == "kruskal"
    assert p[0] == pytest.approx(math.exp(-7.2 / 2), rel=1e-12)
    assert np.isnan(p[1])  # constant feature: no test


def test_mann_whitney_for_two_batches_by_hand():
    """Two separated groups of 3, no ties: exact two-sided p = 2 / C(6, 3) = 0.1."""
    p, test = group_test(np.array([[1.0], [2.0], [3.0], [4.0], [5.0], [6.0]]), [0, 0, 0, 1, 1, 1])
    assert test == "mannwhitneyu" and p[0] == pytest.approx(0.1)


def test_spearman_for_a_continuous_covariate():
    x = np.arange(10, dtype=float)[:, None] ** 3  # monotone in the covariate
    p, test = association_test(x, pd.Series(np.arange(10, dtype=float)))
    assert test == "spearman" and p[0] < 1e-6


def test_site_classifier_separable_and_noise():
    rng = np.random.default_rng(0)
    batch = np.repeat(["a", "b", "c"], 20)
    separable = rng.normal(0, 1, (60, 5)) + 10 * np.repeat(np.eye(3, 5), 20, axis=0)
    assert site_classifier_score(separable, batch) == 1.0
    noise = site_classifier_score(rng.normal(0, 1, (60, 5)), batch)
    assert 0.0 <= noise < 0.6
    assert math.isnan(site_classifier_score(separable[:41], batch[:40].tolist() + ["d"]))


def test_diagnostics_table():
    rng = np.random.default_rng(1)
    batch = np.repeat([1, 2, 3], 15)
    label = rng.integers(0, 2, 45)
    clean = rng.normal(0, 1, (45, 8)) + 2 * label[:, None]
    shifted = clean + 3 * np.repeat(rng.normal(0, 1, (3, 8)), 15, axis=0)
    diag = harmonisation_diagnostics(shifted, clean, batch, pd.DataFrame({"label": label}))
    assert list(diag.columns) == ["before", "after"]
    assert list(diag.index) == ["batch_significant_pct", "site_balanced_accuracy", "site_chance", "label_significant_pct"]
    assert diag.loc["batch_significant_pct", "before"] > diag.loc["batch_significant_pct", "after"]
    assert diag.loc["site_chance", "after"] == pytest.approx(1 / 3)
    assert diag.attrs == {"batch_test": "kruskal", "n_samples": 45, "n_features": 8, "n_batches": 3}
    per_feature = feature_tests(shifted, clean, batch, {"label": label})
    assert list(per_feature.columns) == ["batch_p_before", "batch_p_after", "label_p_before", "label_p_after"]
    assert (per_feature["label_p_after"] < 0.05).mean() * 100 == diag.loc["label_significant_pct", "after"]
    with pytest.raises(InputError, match="X_before has shape"):
        harmonisation_diagnostics(shifted, clean[:, :3], batch)
