"""GLCM: a hand-computed matrix and its features, the kernel against a slow reference."""

import math

import numpy as np
import pytest
from _texture_refs import random_levels, ref_glcm

from radrepro.features import _texture
from radrepro.features.glcm import FEATURES, glcm_features, glcm_ibsi, glcm_matrices

# One row of three voxels, levels 1 2 2, with Ng = 3 (level 3 absent): only the x direction has
# pairs, (1,2) and (2,2); the symmetric matrix is [[0,1,0],[1,2,0],[0,0,0]] / 4.
ROW = np.array([[[1, 2, 2]]], dtype=np.int32)


def _hand_values():
    hx = -(0.25 * math.log2(0.25) + 0.75 * math.log2(0.75))
    hxy = 1.5
    hxy1 = -(2 * 0.25 * math.log2(0.25 * 0.75) + 0.5 * math.log2(0.75 * 0.75))
    hxy2 = -(
        0.25 * 0.25 * math.log2(0.0625) + 2 * 0.25 * 0.75 * math.log2(0.1875) + 0.75 * 0.75 * math.log2(0.5625)
    )
    return {
        "cm_joint_max": 0.5, "cm_joint_avg": 1.75, "cm_joint_var": 0.1875, "cm_joint_entr": hxy,
        "cm_diff_avg": 0.5, "cm_diff_var": 0.25, "cm_diff_entr": 1.0,
        "cm_sum_avg": 3.5, "cm_sum_var": 0.25, "cm_sum_entr": 1.0,
        "cm_energy": 0.375, "cm_contrast": 0.5, "cm_dissimilarity": 0.5,
        "cm_inv_diff": 0.75, "cm_inv_diff_norm": 0.5 + 0.5 / (1 + 1 / 3),
        "cm_inv_diff_mom": 0.75, "cm_inv_diff_mom_norm": 0.5 + 0.5 / (1 + 1 / 9),
        "cm_inv_var": 0.5, "cm_corr": -1 / 3, "cm_auto_corr": 3.0,
        "cm_clust_tend": 0.25, "cm_clust_shade": 0.0, "cm_clust_prom": 0.0625,
        "cm_info_corr1": (hxy - hxy1) / hx, "cm_info_corr2": math.sqrt(1 - math.exp(-2 * (hxy2 - hxy))),
    }


def test_hand_computed_matrix():
    m = glcm_matrices(ROW, _texture.directions(False), 3)
    assert m.shape == (1, 13, 3, 3)
    assert m[0, 0].tolist() == [[0, 1, 0], [0, 1, 0], [0, 0, 0]]
    assert m[0, 1:].sum() == 0  # no pairs along y, z or diagonals


def test_hand_computed_features_every_aggregation():
    values = glcm_ibsi(ROW, 3, dims=("2D", "2.5D", "3D"))
    expected = _hand_values()
    assert len(values) == 6 * len(FEATURES)
    for suffix in ("2D_avg", "2D_comb", "2_5D_avg", "2_5D_comb", "3D_avg", "3D_comb"):
        # empty directions are left out, so every aggregation sees the one matrix
        for tag, ref in expected.items():
            assert values[f"{tag}_{suffix}"] == pytest.approx(ref, abs=1e-12), (tag, suffix)


def test_averaging_over_directions_and_slices():
    rng = np.random.default_rng(5)
    lv = random_levels(rng, (3, 5, 6), 4)
    v = glcm_ibsi(lv, 4, dims=("2D", "2.5D", "3D"))
    per = ref_glcm(lv, _texture.directions(True), 4, per_slice=True)
    sym = per + per.swapaxes(-1, -2)
    slice_avg = np.mean([glcm_features(sym[z], 4)[:, 11].mean() for z in range(3)])
    assert v["cm_contrast_2D_avg"] == pytest.approx(glcm_features(sym.reshape(-1, 4, 4), 4)[:, 11].mean())
    assert v["cm_contrast_2D_comb"] == pytest.approx(glcm_features(sym.sum(axis=1), 4)[:, 11].mean())
    assert v["cm_contrast_2_5D_avg"] == pytest.approx(glcm_features(sym.sum(axis=0), 4)[:, 11].mean())
    assert v["cm_contrast_2D_avg"] == pytest.approx(slice_avg)  # all slices have all 4 directions


@pytest.mark.parametrize("shape", [(3, 5, 6), (1, 4, 7), (4, 1, 5), (2, 3, 1)])
@pytest.mark.parametrize("per_slice", [False, True])
def test_kernel_matches_reference(shape, per_slice):
    rng = np.random.default_rng(sum(shape))
    lv = random_levels(rng, shape, 5)
    offsets = np.concatenate([d * _texture.directions(False) for d in (1, 2)])
    assert np.array_equal(glcm_matrices(lv, offsets, 5, per_slice=per_slice), ref_glcm(lv, offsets, 5, per_slice))


def test_distances_are_summed_per_direction():
    rng = np.random.default_rng(11)
    lv = random_levels(rng, (4, 6, 6), 3)
    dirs = _texture.directions(False)
    m = ref_glcm(lv, dirs, 3)[0] + ref_glcm(lv, 2 * dirs, 3)[0]
    merged = m.sum(axis=0)
    expected = glcm_features((merged + merged.T)[None], 3)[0]
    v = glcm_ibsi(lv, 3, dims=("3D",), distances=(1, 2))
    got = [v[f"{f.tag}_3D_comb"] for f in FEATURES]
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="0..n_levels"):
        glcm_matrices(ROW, _texture.directions(True), 1)
    with pytest.raises(ValueError, match="zero vector"):
        glcm_matrices(ROW, np.zeros((1, 3)), 3)
    with pytest.raises(ValueError, match="distances"):
        glcm_ibsi(ROW, 3, distances=(0,))
