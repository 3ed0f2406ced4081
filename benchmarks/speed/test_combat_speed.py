"""ComBat speed: 1000 features x 1000 samples in 5 batches (pytest-benchmark).

Goals (issue 6): parametric empirical Bayes well under a second, non-parametric under a minute.
Run with ``.venv/bin/python -m pytest benchmarks/speed/test_combat_speed.py --benchmark-only``
(see benchmarks/README.md).
"""

from __future__ import annotations

import numpy as np
import pytest

from radrepro.harmonisation import ComBat

N_SAMPLES, N_FEATURES, N_BATCHES = 1000, 1000, 5


@pytest.fixture(scope="module")
def cohort():
    rng = np.random.default_rng(0)
    batch = np.repeat(np.arange(N_BATCHES), N_SAMPLES // N_BATCHES)
    covariate = rng.integers(0, 2, N_SAMPLES).astype(float)
    x = rng.normal(0, 1, (N_SAMPLES, N_FEATURES)) + covariate[:, None] * rng.normal(0.5, 0.2, N_FEATURES)
    x = x * rng.uniform(0.7, 1.5, (N_BATCHES, N_FEATURES))[batch] + rng.normal(0, 1, (N_BATCHES, N_FEATURES))[batch]
    return x, batch, covariate


@pytest.mark.parametrize(
    "name, params",
    [
        ("parametric", dict()),
        ("nonparametric", dict(parametric=False)),
        ("no_eb", dict(eb=False)),
        ("parametric_reference", dict(ref_batch=0)),
    ],
)
def test_combat_fit_transform(benchmark, cohort, name, params):
    x, batch, covariate = cohort
    benchmark.group = "combat 1000 samples x 1000 features, 5 batches"
    rounds = 3 if name == "nonparametric" else 10
    out = benchmark.pedantic(lambda: ComBat(**params).fit_transform(x, batch, covariate), rounds=rounds, iterations=1, warmup_rounds=1)
    assert out.shape == x.shape and np.isfinite(out).all()


def test_combat_transform_only(benchmark, cohort):
    """Applying fitted estimates to new samples (what a Pipeline does at predict time)."""
    x, batch, covariate = cohort
    combat = ComBat().fit(x, batch, covariate)
    benchmark.group = "combat 1000 samples x 1000 features, 5 batches"
    out = benchmark(combat.transform, x, batch, covariate)
    assert out.shape == x.shape
