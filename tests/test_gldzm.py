"""GLDZM: distances from the morphological mask, hand-computed matrix, distance map against scipy."""

import numpy as np
import pytest
from _texture_refs import ref_edge_distance

from radrepro.features import _zones
from radrepro.features.gldzm import FEATURES, gldzm_ibsi, gldzm_matrices

# A 5 x 5 slice, all in the morphological mask: an outer ring of level 1, an inner ring of level 2,
# and the centre voxel removed from the intensity mask (as re-segmentation would).
LEVELS = np.array(
    [[[1, 1, 1, 1, 1], [1, 2, 2, 2, 1], [1, 2, 0, 2, 1], [1, 2, 2, 2, 1], [1, 1, 1, 1, 1]]], dtype=np.int32
)
MORPH = np.ones(LEVELS.shape, dtype=bool)


def test_distance_map_in_plane_and_3d():
    d2 = _zones.edge_distance(MORPH, in_plane=True)
    assert d2[0].tolist() == [[1, 1, 1, 1, 1], [1, 2, 2, 2, 1], [1, 2, 3, 2, 1], [1, 2, 2, 2, 1], [1, 1, 1, 1, 1]]
    # in 3D a single slice touches the outside above and below
    assert (_zones.edge_distance(MORPH) == 1).all()


def test_distances_come_from_the_morphological_mask():
    m, dist = gldzm_matrices(LEVELS, 2, MORPH, in_plane=True)
    assert dist.tolist() == [1, 2]
    assert m[0].tolist() == [[1, 0], [0, 1]]  # the inner ring keeps distance 2 despite the hole
    m_int, dist_int = gldzm_matrices(LEVELS, 2, LEVELS > 0, in_plane=True)
    assert dist_int.tolist() == [1] and m_int[0].tolist() == [[1], [1]]


def test_hand_computed_features():
    v = gldzm_ibsi(LEVELS, 2, MORPH, dims=("2D", "3D"))
    expected_2d = {
        "dzm_sde": (1 + 0.25) / 2, "dzm_lde": 2.5, "dzm_lgze": 0.625, "dzm_hgze": 2.5,
        "dzm_sdlge": (1 + 1 / 16) / 2, "dzm_sdhge": (1 + 1) / 2, "dzm_ldlge": (1 + 1) / 2, "dzm_ldhge": (1 + 16) / 2,
        "dzm_glnu": 1.0, "dzm_glnu_norm": 0.5, "dzm_zdnu": 1.0, "dzm_zdnu_norm": 0.5,
        "dzm_z_perc": 2 / 24, "dzm_gl_var": 0.25, "dzm_zd_var": 0.25, "dzm_zd_entr": 1.0,
    }
    for tag, ref in expected_2d.items():
        assert v[f"{tag}_2D"] == pytest.approx(ref, abs=1e-12), tag
    assert v["dzm_sde_3D"] == 1.0 and v["dzm_zd_var_3D"] == 0.0
    assert len(v) == 2 * len(FEATURES)


@pytest.mark.parametrize("in_plane", [False, True])
@pytest.mark.parametrize("seed", [0, 1])
def test_distance_map_matches_scipy(in_plane, seed):
    rng = np.random.default_rng(seed)
    mask = rng.random((6, 11, 12)) < 0.8
    got = _zones.edge_distance(mask, in_plane=in_plane)
    assert np.array_equal(got, ref_edge_distance(mask, in_plane))


def test_roi_outside_distance_mask_is_refused():
    with pytest.raises(ValueError, match="inside distance_mask"):
        gldzm_matrices(LEVELS, 2, np.zeros(LEVELS.shape, dtype=bool))
