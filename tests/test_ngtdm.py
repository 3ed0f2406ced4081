"""NGTDM: a hand-computed matrix, features against the IBSI formulas written as loops, kernel vs reference."""

import itertools

import numpy as np
import pytest
from _texture_refs import random_levels, ref_ngtdm

from radrepro.features import _texture
from radrepro.features.ngtdm import ngtdm_features, ngtdm_ibsi, ngtdm_isolated, ngtdm_matrices

PLUS = np.array([[[1, 2, 1], [2, 3, 2], [1, 2, 1]]], dtype=np.int32)


def test_hand_computed_matrix():
    s, n = ngtdm_matrices(PLUS, _texture.neighbourhood(1, True), 3)
    # corners: |1 - 7/3|; edges: |2 - 9/5|; centre: |3 - 12/8|
    np.testing.assert_allclose(s[0], [4 * 4 / 3, 4 * 0.2, 1.5])
    assert n[0].tolist() == [4, 4, 1]
    s3, n3 = ngtdm_matrices(PLUS, _texture.neighbourhood(1, False), 3)
    np.testing.assert_allclose(s3, s)  # one slice: the 3D neighbourhood has the same ROI voxels
    assert np.array_equal(n3, n)


def test_voxel_without_roi_neighbours_is_left_out():
    lv = np.zeros((1, 1, 5), dtype=np.int32)
    lv[0, 0, [0, 1, 4]] = [1, 2, 2]
    s, n = ngtdm_matrices(lv, _texture.neighbourhood(1, True), 2)
    assert n[0].tolist() == [1, 1]
    np.testing.assert_allclose(s[0], [1.0, 1.0])
    # the same with the isolated voxel counted apart (pyradiomics adds it to n)
    s1, n1, isolated = ngtdm_isolated(lv, _texture.neighbourhood(1, True), 2)
    np.testing.assert_array_equal(s1, s[0])
    assert n1.tolist() == [1, 1] and isolated.tolist() == [0, 1]


def _loop_features(s, n):
    """IBSI 1 section 3.10 formulas, literally."""
    ng = len(s)
    nvc = n.sum()
    p = n / nvc
    lv = range(ng)
    valid = [i for i in lv if p[i] > 0]
    ngp = len(valid)
    coarseness = 1 / sum(p[i] * s[i] for i in lv)
    contrast = sum(p[i] * p[j] * (i - j) ** 2 for i in lv for j in lv) / (ngp * (ngp - 1)) * s.sum() / nvc
    pairs = list(itertools.product(valid, valid))
    busyness = sum(p[i] * s[i] for i in lv) / sum(abs((i + 1) * p[i] - (j + 1) * p[j]) for i, j in pairs)
    complexity = sum(abs(i - j) * (p[i] * s[i] + p[j] * s[j]) / (p[i] + p[j]) for i, j in pairs) / nvc
    strength = sum((p[i] + p[j]) * (i - j) ** 2 for i, j in pairs) / s.sum()
    return [coarseness, contrast, busyness, complexity, strength]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_features_match_ibsi_formulas(seed):
    rng = np.random.default_rng(seed)
    lv = random_levels(rng, (4, 6, 7), 5, hole=0.2)
    lv[lv == 3] = 4  # a missing grey level: only levels present enter the pair sums
    s, n = ngtdm_matrices(lv, _texture.neighbourhood(1, False), 5)
    got = ngtdm_features(np.stack([s, n.astype(float)], axis=1))[0]
    np.testing.assert_allclose(got, _loop_features(s[0], n[0]), rtol=1e-12)


def test_hand_computed_features():
    v = ngtdm_ibsi(PLUS, 3, dims=("2D", "2.5D", "3D"))
    s = np.array([16 / 3, 0.8, 1.5])
    n = np.array([4, 4, 1])
    expected = _loop_features(s, n)
    for suffix in ("2D", "2_5D", "3D"):
        got = [v[f"ngt_{t}_{suffix}"] for t in ("coarseness", "contrast", "busyness", "complexity", "strength")]
        np.testing.assert_allclose(got, expected, rtol=1e-12)


@pytest.mark.parametrize("distance", [1, 2])
@pytest.mark.parametrize("in_plane", [False, True])
def test_kernel_matches_reference(distance, in_plane):
    rng = np.random.default_rng(distance + 2 * in_plane)
    lv = random_levels(rng, (4, 7, 6), 4, hole=0.3)
    off = _texture.neighbourhood(distance, in_plane)
    s, n = ngtdm_matrices(lv, off, 4, per_slice=in_plane)
    rs, rn = ref_ngtdm(lv, off, 4, in_plane)
    np.testing.assert_allclose(s, rs, rtol=1e-12)
    assert np.array_equal(n, rn)
