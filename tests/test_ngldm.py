"""NGLDM: hand-computed matrices (alpha 0 and 1), features, kernel against a slow reference."""

import numpy as np
import pytest
from _texture_refs import random_levels, ref_ngldm

from radrepro.features import _texture
from radrepro.features.ngldm import FEATURES, ngldm_ibsi, ngldm_matrices

PLUS = np.array([[[1, 2, 1], [2, 3, 2], [1, 2, 1]]], dtype=np.int32)


def test_hand_computed_matrices():
    off = _texture.neighbourhood(1, True)
    m0 = ngldm_matrices(PLUS, off, 3, 0)[0]
    assert m0.shape == (3, 9)
    assert m0[:, :6].tolist() == [[4, 0, 0, 0, 0, 0], [0, 0, 4, 0, 0, 0], [1, 0, 0, 0, 0, 0]]
    m1 = ngldm_matrices(PLUS, off, 3, 1)[0]
    # corners see two 2s, edges all five neighbours, the centre its four 2s
    assert m1[0, 2] == 4 and m1[1, 5] == 4 and m1[2, 4] == 1 and m1.sum() == 9


def test_hand_computed_features():
    v = ngldm_ibsi(PLUS, 3, dims=("2D", "3D"), alpha=0)
    expected = {
        "ngl_lde": (5 + 4 / 9) / 9, "ngl_hde": (5 + 4 * 9) / 9,
        "ngl_lgce": (4 + 4 / 4 + 1 / 9) / 9, "ngl_hgce": (4 + 16 + 9) / 9,
        "ngl_glnu": (16 + 16 + 1) / 9, "ngl_dcnu": (25 + 16) / 9, "ngl_dcnu_norm": 41 / 81,
        "ngl_dc_perc": 1.0, "ngl_dc_energy": (16 + 16 + 1) / 81,
    }
    for tag, ref in expected.items():
        assert v[f"{tag}_2D"] == pytest.approx(ref, abs=1e-12), tag
        assert v[f"{tag}_3D"] == pytest.approx(ref, abs=1e-12), tag  # one slice: same neighbours
    assert len(v) == 2 * len(FEATURES)


@pytest.mark.parametrize("alpha", [0, 1])
@pytest.mark.parametrize("distance", [1, 2])
@pytest.mark.parametrize("in_plane", [False, True])
def test_kernel_matches_reference(alpha, distance, in_plane):
    rng = np.random.default_rng(alpha + 2 * distance + 4 * in_plane)
    lv = random_levels(rng, (4, 6, 7), 4, hole=0.3)
    off = _texture.neighbourhood(distance, in_plane)
    got = ngldm_matrices(lv, off, 4, alpha, per_slice=in_plane)
    assert np.array_equal(got, ref_ngldm(lv, off, 4, alpha, in_plane))
