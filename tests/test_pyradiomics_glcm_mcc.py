"""MCC of the pyradiomics convention against pyradiomics' own expression.

radrepro takes MCC's second largest eigenvalue from a symmetric matrix similar to pyradiomics' Q
(``eigvalsh``, about 3x cheaper than ``eigvals``) and falls back to pyradiomics' expression when
that eigenvalue is near 0 on some angle. The reference here is pyradiomics 3.0.1's
``getMCCFeatureValue``, copied statement for statement and run on the same normalised matrices.
"""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk

from radrepro.conventions._pyradiomics import glcm, processing
from radrepro.conventions._pyradiomics.common import EPS, ClassInput
from radrepro.settings import Settings


def pyradiomics_mcc(P: np.ndarray) -> float:
    """pyradiomics 3.0.1 ``RadiomicsGLCM.getMCCFeatureValue`` on ``P`` ``(G, G, A)`` (its layout plus a case axis)."""
    P_glcm = P[None]
    px = P_glcm.sum(2, keepdims=True)
    py = P_glcm.sum(1, keepdims=True)
    if P_glcm.shape[1] < 2:
        return 1.0
    Q = (P_glcm[:, :, None, 0, :] * P_glcm[:, None, :, 0, :]) / (px[:, :, None, 0, :] * py[:, None, :, 0, :] + EPS)
    for gl in range(1, P_glcm.shape[1]):
        Q += (P_glcm[:, :, None, gl, :] * P_glcm[:, None, :, gl, :]) / (px[:, :, None, 0, :] * py[:, None, :, gl, :] + EPS)
    Q_eigenValue = np.linalg.eigvals(Q.transpose((0, 3, 1, 2)))
    Q_eigenValue.sort()
    with np.errstate(invalid="ignore"):
        MCC = np.sqrt(Q_eigenValue[:, :, -2])
        return float(np.nanmean(MCC, 1).real[0])


def _mcc(P: np.ndarray) -> float:
    return glcm._mcc(P, np.ascontiguousarray(P.sum(1)), np.ascontiguousarray(P.sum(0)))


@pytest.mark.parametrize("case", ["lung1", "lung2", "brain1", "breast1"])
@pytest.mark.parametrize("settings", [{}, {"bin_count": 8, "discretisation": "fbn"}, {"spacing": (2.0, 2.0, 2.0)}])
def test_mcc_equals_pyradiomics_on_real_cases(pyradiomics_data, case, settings):
    folder = pyradiomics_data / "data"
    img = sitk.ReadImage(str(folder / f"{case}_image.nrrd"))
    msk = sitk.ReadImage(str(folder / f"{case}_label.nrrd"))
    s = Settings().replace(**settings)
    P = glcm.matrices(ClassInput(processing.prepare(img, msk, s), s))
    ref = pyradiomics_mcc(P)
    ours = _mcc(P)
    assert 0 < ref < 1
    assert ours == pytest.approx(ref, rel=1e-13, abs=0)


def test_mcc_falls_back_to_pyradiomics_expression_when_an_eigenvalue_is_near_zero():
    # angle 0: independent neighbours (an outer product: second eigenvalue 0, whose sign and so
    # NaN-or-0 depends on the last bits); angle 1: a correlated matrix
    p = np.array([0.5, 0.3, 0.2])
    P = np.stack([np.outer(p, p), np.array([[0.4, 0.05, 0.0], [0.05, 0.2, 0.05], [0.0, 0.05, 0.2]])], axis=2)
    P = np.ascontiguousarray(P)
    assert _mcc(P) == pyradiomics_mcc(P) or (np.isnan(_mcc(P)) and np.isnan(pyradiomics_mcc(P)))


def test_mcc_of_a_single_grey_level_is_one():
    assert _mcc(np.ones((1, 1, 13))) == 1.0


@pytest.mark.parametrize("seed", range(6))
def test_mcc_equals_pyradiomics_on_random_matrices(seed):
    rng = np.random.default_rng(seed)
    g = int(rng.integers(2, 40))
    counts = rng.poisson(rng.uniform(0.05, 5.0), size=(g, g, 13)).astype(np.float64)
    counts += counts.transpose(1, 0, 2)  # symmetrical GLCM
    counts[:, :, counts.sum((0, 1)) == 0] = 1.0
    P = np.ascontiguousarray(counts / counts.sum((0, 1)))
    assert _mcc(P) == pytest.approx(pyradiomics_mcc(P), rel=1e-12, abs=1e-14)
