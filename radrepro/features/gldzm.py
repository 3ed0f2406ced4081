"""Grey level distance zone matrix features (IBSI 1, section 3.9; family VMDZ).

Zones are those of the GLSZM (26-connected in 3D, 8-connected within a slice in 2D). A zone's
distance is the smallest distance to the ROI edge of its voxels, where the distance map is the
city-block distance (6-connected steps in 3D, 4-connected in-plane in 2D) to the nearest voxel
outside the *morphological* mask (IBSI: the distance map uses the mask before re-segmentation);
edge voxels have distance 1. The GLDZM counts zones by grey level and distance. The zone percentage
divides by the number of voxels of the intensity mask.
"""

from __future__ import annotations

import numpy as np

from radrepro.features import _texture, _zones
from radrepro.registry import Feature

FEATURES = (
    Feature("dzm_sde", "0GBI", "Small distance emphasis", "dzm"),
    Feature("dzm_lde", "MB4I", "Large distance emphasis", "dzm"),
    Feature("dzm_lgze", "S1RA", "Low grey level zone emphasis", "dzm"),
    Feature("dzm_hgze", "K26C", "High grey level zone emphasis", "dzm"),
    Feature("dzm_sdlge", "RUVG", "Small distance low grey level emphasis", "dzm"),
    Feature("dzm_sdhge", "DKNJ", "Small distance high grey level emphasis", "dzm"),
    Feature("dzm_ldlge", "A7WM", "Large distance low grey level emphasis", "dzm"),
    Feature("dzm_ldhge", "KLTH", "Large distance high grey level emphasis", "dzm"),
    Feature("dzm_glnu", "VFT7", "Grey level non-uniformity", "dzm"),
    Feature("dzm_glnu_norm", "7HP3", "Normalised grey level non-uniformity", "dzm"),
    Feature("dzm_zdnu", "V294", "Zone distance non-uniformity", "dzm"),
    Feature("dzm_zdnu_norm", "IATH", "Normalised zone distance non-uniformity", "dzm"),
    Feature("dzm_z_perc", "VIWW", "Zone percentage", "dzm"),
    Feature("dzm_gl_var", "QK93", "Grey level variance", "dzm"),
    Feature("dzm_zd_var", "7WT1", "Zone distance variance", "dzm"),
    Feature("dzm_zd_entr", "GBDU", "Zone distance entropy", "dzm"),
)


def gldzm_matrices(
    levels: np.ndarray,
    n_levels: int,
    distance_mask: np.ndarray,
    *,
    in_plane: bool = False,
    zone_list: tuple | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Distance zone counts, in one pass over the ROI (plus the distance transform).

    Parameters
    ----------
    levels
        Grey levels ``(z, y, x)``: 1..``n_levels`` inside the ROI (intensity mask), 0 outside.
    n_levels
        Number of grey levels Ng (rows).
    distance_mask
        Mask whose edge distances are measured (IBSI: the morphological mask); must contain every
        voxel with a level > 0.
    in_plane
        2D: zones 8-connected and distances 4-connected within each slice, one matrix per slice.
        Otherwise 3D: 26-connected zones, 6-connected distances, one matrix.
    zone_list
        The zones of ``levels`` with their edge distances in ``distance_mask`` for this
        connectivity, when already computed (:func:`radrepro.features._zones.roi_zones`).

    Returns
    -------
    matrices, distances
        ``matrices[s, a-1, u]`` (int64, shape ``(n_slices or 1, Ng, U)``) = number of zones of
        level ``a`` whose smallest edge distance is ``distances[u]`` (ascending, values present).
    """
    lv = _texture.check_levels(levels, n_levels, "gldzm_matrices")
    dmask = np.asarray(distance_mask, dtype=bool)
    if dmask.shape != lv.shape:
        raise ValueError(f"gldzm_matrices: distance_mask shape {dmask.shape} differs from levels shape {lv.shape}")
    if (lv > 0).any() and not dmask[lv > 0].all():
        raise ValueError("gldzm_matrices: every ROI voxel (level > 0) must lie inside distance_mask")
    if zone_list is None:
        zone_list = _zones.zones(lv, _texture.directions(in_plane), _zones.edge_distance(dmask, in_plane=in_plane))
    level, _, zdist, sl = zone_list
    if in_plane:
        return _zones.zone_matrices(level, zdist, sl, lv.shape[0], int(n_levels))
    return _zones.zone_matrices(level, zdist, np.zeros_like(sl), 1, int(n_levels))


def gldzm_features(P: np.ndarray, distances: np.ndarray, nv: np.ndarray) -> np.ndarray:
    """The 16 IBSI GLDZM features of each non-empty matrix ``(B, Ng, U)``; ``nv`` voxels per matrix."""
    return _texture.zone_like_features(P, distances, nv)[:, :16]


def gldzm_ibsi(
    levels: np.ndarray, n_levels: int, morph_mask: np.ndarray, dims=("3D",), zone_lists=None
) -> dict[str, float]:
    """IBSI GLDZM features for the aggregations in ``dims``; distances from ``morph_mask``.

    ``zone_lists(in_plane)``, when given, returns the zones with their distances already computed.
    """
    dims = tuple(d for d in ("2D", "2.5D", "3D") if d in dims)
    lv = _texture.check_levels(levels, n_levels, "gldzm")
    if n_levels == 0 or not lv.any():
        return _texture.nan_result(FEATURES, dims, directional=False)
    nv_slices = (lv > 0).sum(axis=(1, 2))
    values = {}
    if "2D" in dims or "2.5D" in dims:
        mats, dist = gldzm_matrices(lv, n_levels, morph_mask, in_plane=True, zone_list=zone_lists and zone_lists(True))
        values.update(
            _texture.aggregate_plain(mats, None, lambda m, nv: gldzm_features(m, dist, nv), len(FEATURES), nv_2d=nv_slices)
        )
    if "3D" in dims:
        zone_list = zone_lists and zone_lists(False)
        mats, dist = gldzm_matrices(lv, n_levels, morph_mask, in_plane=False, zone_list=zone_list)
        values.update(
            _texture.aggregate_plain(
                None, mats, lambda m, nv: gldzm_features(m, dist, nv), len(FEATURES), nv_3d=np.array([nv_slices.sum()])
            )
        )
    return _texture.tagged(FEATURES, values, [_texture.SUFFIXES_PLAIN[d] for d in dims])


def compute(roi) -> dict[str, float]:
    """Family entry point: IBSI GLDZM features of the ROI for ``roi.settings.texture_dims``."""
    levels, morph_mask = _texture.roi_arrays(roi)
    dims = _texture.texture_dims(roi)
    return gldzm_ibsi(levels, roi.n_levels, morph_mask, dims, lambda in_plane: _zones.roi_zones(roi, in_plane))
