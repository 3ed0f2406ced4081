"""radrepro's ComBat against R: the neuroCombat outputs in the shared data ``combat_r`` (see its MANIFEST.md).

Input: 200 features x 10 samples (R's orientation), batch 1 = samples 1-5, batch 2 = samples 6-10,
covariate pheno = 1 for samples 1,3,5,7,9 ("adjusted"). Every output file must be matched to 1e-10.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from radrepro.harmonisation import ComBat


@pytest.fixture(autouse=True)
def _one_blas_thread():
    """Small matrices: on a shared 2-core machine, BLAS threads waiting for each other cost 10x."""
    with threadpool_limits(1):
        yield


TOL = 1e-10
BATCH = np.array([1] * 5 + [2] * 5)
PHENO = np.array([1, 0, 1, 0, 1, 0, 1, 0, 1, 0], dtype=float)


def _name(parametric: bool, adjusted: bool, noeb: bool, meanonly: bool, batchref: bool) -> str:
    parts = ["nonparametric" if not parametric else "parametric", "adjusted" if adjusted else "unadjusted"]
    parts += [p for p, on in (("noeb", noeb), ("meanonly", meanonly), ("batchref", batchref)) if on]
    return "testdata_combat_" + "_".join(parts) + "_r.csv"


# the 32 settings of MANIFEST.md, plus the upstream file misspelled "meanonl" (same settings as "meanonly")
CASES = {
    _name(*flags): dict(zip(("parametric", "adjusted", "noeb", "meanonly", "batchref"), flags))
    for flags in itertools.product((True, False), repeat=5)
}
CASES["testdata_combat_nonparametric_unadjusted_meanonl_batchref_r.csv"] = dict(
    parametric=False, adjusted=False, noeb=False, meanonly=True, batchref=True
)


@pytest.fixture(scope="module")
def testdata(combat_r_data):
    """Samples x features (the transpose of R's input)."""
    return pd.read_csv(combat_r_data / "testdata.csv").to_numpy().T


def test_every_r_output_is_covered(combat_r_data):
    files = {p.name for p in (combat_r_data / "outputData").glob("testdata_combat_*_r.csv")}
    assert files == set(CASES)


@pytest.mark.parametrize("filename", sorted(CASES))
def test_matches_r(filename, combat_r_data, testdata):
    case = CASES[filename]
    expected = pd.read_csv(combat_r_data / "outputData" / filename).to_numpy().T
    combat = ComBat(
        parametric=case["parametric"],
        eb=not case["noeb"],
        mean_only=case["meanonly"],
        ref_batch=1 if case["batchref"] else None,
    )
    got = combat.fit_transform(testdata, BATCH, PHENO if case["adjusted"] else None)
    assert got.shape == expected.shape == (10, 200)
    np.testing.assert_allclose(got, expected, rtol=0, atol=TOL)
    if case["batchref"]:
        np.testing.assert_array_equal(got[:5], testdata[:5])  # the reference batch is returned bit for bit


def test_new_samples_from_training_estimates_match_r(combat_r_data, testdata):
    """neuroCombatFromTraining, scenario 2: fitted with the covariate, applied to samples 1, 2, 6, 7
    without it, which R does by giving every new sample the training mean of the covariate effect."""
    expected = pd.read_csv(combat_r_data / "outputData" / "training_test_scenario2_r.csv").to_numpy().T
    combat = ComBat().fit(testdata, BATCH, PHENO)
    rows = [0, 1, 5, 6]
    got = combat.transform(testdata[rows], BATCH[rows], np.full(len(rows), PHENO.mean()))
    np.testing.assert_allclose(got, expected, rtol=0, atol=TOL)


def test_parametric_eb_iterates_as_r(testdata):
    """R's it.sol convergence rule gives 6 and 5 iterations for the two batches here; stopping one
    iteration earlier moves the result by ~3e-5 (measured), so the 1e-10 agreement above depends on it."""
    combat = ComBat().fit(testdata, BATCH, PHENO)
    assert combat.n_iter_.tolist() == [6, 5]
