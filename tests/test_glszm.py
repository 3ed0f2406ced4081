"""GLSZM: hand-computed zones (8- vs 26-connectivity) and features, zone labelling against scipy."""

import numpy as np
import pytest
from _texture_refs import random_levels, ref_zones

from radrepro.features import _texture, _zones
from radrepro.features.glszm import FEATURES, glszm_ibsi, glszm_matrices

# Slice 0: the three 1s touch only at corners (one zone with 8-connectivity), two 2s in a row.
# Slice 1: a 2 touching slice 0's second 2 diagonally across slices (one zone in 3D).
TWO_SLICES = np.array(
    [
        [[1, 0, 1], [0, 1, 0], [2, 2, 0]],
        [[0, 0, 0], [0, 0, 0], [0, 0, 2]],
    ],
    dtype=np.int32,
)


def test_hand_computed_matrices():
    m2, sizes2 = glszm_matrices(TWO_SLICES, 2, in_plane=True)
    assert sizes2.tolist() == [1, 2, 3]
    assert m2[0].tolist() == [[0, 0, 1], [0, 1, 0]]
    assert m2[1].tolist() == [[0, 0, 0], [1, 0, 0]]
    m3, sizes3 = glszm_matrices(TWO_SLICES, 2)
    assert sizes3.tolist() == [3]
    assert m3.tolist() == [[[1], [1]]]


def test_hand_computed_features():
    v = glszm_ibsi(TWO_SLICES, 2, dims=("2D", "2.5D", "3D"))
    expected_3d = {
        "szm_sze": 1 / 9, "szm_lze": 9.0, "szm_lgze": (1 + 0.25) / 2, "szm_hgze": 2.5,
        "szm_szlge": (1 / 9 + 1 / 36) / 2, "szm_lzhge": (9 + 36) / 2,
        "szm_glnu": 1.0, "szm_glnu_norm": 0.5, "szm_zsnu": 2.0, "szm_zsnu_norm": 1.0,
        "szm_z_perc": 2 / 6, "szm_gl_var": 0.25, "szm_zs_var": 0.0, "szm_zs_entr": 1.0,
    }
    for tag, ref in expected_3d.items():
        assert v[f"{tag}_3D"] == pytest.approx(ref, abs=1e-12), tag
    # 2D: slice 0 has zones of sizes 3 and 2 (5 voxels), slice 1 one zone of size 1
    assert v["szm_z_perc_2D"] == pytest.approx((2 / 5 + 1) / 2)
    assert v["szm_sze_2D"] == pytest.approx(((1 / 9 + 1 / 4) / 2 + 1) / 2)
    # 2.5D: the two slice matrices merged: three zones over six voxels
    assert v["szm_z_perc_2_5D"] == pytest.approx(3 / 6)
    assert v["szm_sze_2_5D"] == pytest.approx((1 / 9 + 1 / 4 + 1) / 3)
    assert len(v) == 3 * len(FEATURES)


@pytest.mark.parametrize("in_plane", [False, True])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_zones_match_scipy_labelling(in_plane, seed):
    rng = np.random.default_rng(seed)
    lv = random_levels(rng, (5, 8, 9), 3, hole=0.2)
    dist = rng.integers(1, 6, size=lv.shape)
    level, size, zdist, sl = _zones.zones(lv, _texture.directions(in_plane), dist)
    got = sorted(zip((sl if in_plane else 0 * sl).tolist(), level.tolist(), size.tolist(), zdist.tolist()))
    assert got == ref_zones(lv, in_plane, dist)
    assert size.sum() == (lv > 0).sum()


def test_one_large_zone():
    lv = np.ones((4, 30, 30), dtype=np.int32)
    m, sizes = glszm_matrices(lv, 1)
    assert sizes.tolist() == [3600] and m.sum() == 1
