"""GLRLM: a hand-computed run length matrix and its features, the kernel against a slow reference."""

import math

import numpy as np
import pytest
from _texture_refs import random_levels, ref_glrlm

from radrepro.features import _texture
from radrepro.features.glrlm import FEATURES, glrlm_features, glrlm_ibsi, glrlm_matrices

# One row of four voxels, levels 1 1 2 1: along x the runs are (1, length 2), (2, 1), (1, 1);
# along every other direction each voxel is a run of length 1.
ROW = np.array([[[1, 1, 2, 1]]], dtype=np.int32)


def test_hand_computed_matrix():
    m = glrlm_matrices(ROW, _texture.directions(False), 2)
    assert m.shape == (1, 13, 2, 4)  # runs of up to 4 voxels along x
    assert m[0, 0].tolist() == [[1, 1, 0, 0], [1, 0, 0, 0]]
    for d in range(1, 13):
        assert m[0, d].tolist() == [[3, 0, 0, 0], [1, 0, 0, 0]]


def test_hand_computed_features():
    v = dict(zip((f.tag for f in FEATURES), glrlm_features(np.array([[[1, 1, 0, 0], [1, 0, 0, 0]]]))[0]))
    expected = {
        "rlm_sre": 0.75, "rlm_lre": 2.0, "rlm_lgre": 0.75, "rlm_hgre": 2.0,
        "rlm_srlge": (1 + 0.25 + 0.25) / 3, "rlm_srhge": (1 + 0.25 + 4) / 3,
        "rlm_lrlge": (1 + 4 + 0.25) / 3, "rlm_lrhge": (1 + 4 + 4) / 3,
        "rlm_glnu": 5 / 3, "rlm_glnu_norm": 5 / 9, "rlm_rlnu": 5 / 3, "rlm_rlnu_norm": 5 / 9,
        "rlm_r_perc": 0.75, "rlm_gl_var": 2 / 9, "rlm_rl_var": 2 / 9, "rlm_rl_entr": math.log2(3),
    }
    for tag, ref in expected.items():
        assert v[tag] == pytest.approx(ref, abs=1e-12), tag


def test_merged_matrix_counts_voxels_of_every_direction():
    v = glrlm_ibsi(ROW, 2, dims=("2D", "3D"))
    # 4 in-plane directions merged: 15 runs over 4 x 4 voxel memberships
    assert v["rlm_r_perc_2D_comb"] == pytest.approx(15 / 16)
    assert v["rlm_r_perc_2D_avg"] == pytest.approx((0.75 + 3) / 4)
    assert v["rlm_sre_3D_avg"] == pytest.approx((0.75 + 12) / 13)
    assert v["rlm_r_perc_3D_comb"] == pytest.approx((3 + 12 * 4) / 52)


@pytest.mark.parametrize("shape", [(3, 5, 6), (1, 4, 7), (4, 1, 5), (5, 2, 1)])
@pytest.mark.parametrize("per_slice", [False, True])
def test_kernel_matches_reference(shape, per_slice):
    rng = np.random.default_rng(sum(shape) + 1)
    lv = random_levels(rng, shape, 3, hole=0.2)
    dirs = _texture.directions(False)
    assert np.array_equal(glrlm_matrices(lv, dirs, 3, per_slice=per_slice), ref_glrlm(lv, dirs, 3, per_slice))


def test_every_voxel_is_in_one_run_per_direction():
    rng = np.random.default_rng(3)
    lv = random_levels(rng, (6, 7, 8), 2, hole=0.1)
    m = glrlm_matrices(lv, _texture.directions(False), 2)
    lengths = np.arange(1, m.shape[-1] + 1)
    assert ((m[0].sum(axis=1) * lengths).sum(axis=1) == (lv > 0).sum()).all()
