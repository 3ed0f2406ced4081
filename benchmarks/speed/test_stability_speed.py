"""Stability statistics speed: 1000 features x 100 cases x 20 perturbations (pytest-benchmark).

Goal (issue 5): seconds, not minutes. Run with
``.venv/bin/python -m pytest benchmarks/speed/test_stability_speed.py --benchmark-only``
(see benchmarks/README.md).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from radrepro.stability import agreement, stability_table

N_FEATURES, N_CASES, N_PERTURBATIONS = 1000, 100, 20


@pytest.fixture(scope="module")
def values() -> np.ndarray:
    rng = np.random.default_rng(0)
    subject = rng.normal(0, 1, (N_FEATURES, N_CASES, 1))
    return subject + rng.normal(0, rng.uniform(0.05, 1, (N_FEATURES, 1, 1)), (N_FEATURES, N_CASES, N_PERTURBATIONS))


@pytest.fixture(scope="module")
def results(values) -> pd.DataFrame:
    f, n, k = values.shape
    fi, ci, pj = np.meshgrid(np.arange(f), np.arange(n), np.arange(k), indexing="ij")
    return pd.DataFrame({
        "case": pd.Series(np.array([f"case-{i:03d}" for i in range(n)])[ci.ravel()], dtype="string"),
        "perturbation": pd.Series(np.array([f"{j:016x}" for j in range(k)])[pj.ravel()], dtype="string"),
        "feature": pd.Series(np.array([f"stat_feature_{i}" for i in range(f)])[fi.ravel()], dtype="string"),
        "value": values.ravel(),
    })


def test_agreement_arrays(benchmark, values):
    """ICCs with intervals, CCC, wSD/RC/wCV on the (feature, case, perturbation) array."""
    benchmark.group = "stability 1000 features x 100 cases x 20 perturbations"
    out = benchmark.pedantic(agreement, args=(values,), rounds=5, iterations=1, warmup_rounds=1)
    assert np.isfinite(out["icc_a_1_low"]).all()


def test_stability_table_long(benchmark, results):
    """The whole table from the long results table (2 million rows): reshaping included."""
    benchmark.group = "stability 1000 features x 100 cases x 20 perturbations"
    table = benchmark.pedantic(stability_table, args=(results,), rounds=3, iterations=1, warmup_rounds=1)
    assert len(table) == N_FEATURES
