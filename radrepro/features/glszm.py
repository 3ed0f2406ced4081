"""Grey level size zone matrix features (IBSI 1, section 3.8; family 9SAK).

A zone is a set of connected ROI voxels with the same grey level: 26-connected in 3D,
8-connected within a slice in 2D. The GLSZM counts zones by grey level (rows) and size in voxels
(columns). Aggregations ``2D`` (per slice, averaged), ``2_5D`` (slice matrices merged) and ``3D``.
"""

from __future__ import annotations

import numpy as np

from radrepro.features import _texture, _zones
from radrepro.registry import Feature

FEATURES = (
    Feature("szm_sze", "5QRC", "Small zone emphasis", "szm", "glszm_SmallAreaEmphasis"),
    Feature("szm_lze", "48P8", "Large zone emphasis", "szm", "glszm_LargeAreaEmphasis"),
    Feature("szm_lgze", "XMSY", "Low grey level zone emphasis", "szm", "glszm_LowGrayLevelZoneEmphasis"),
    Feature("szm_hgze", "5GN9", "High grey level zone emphasis", "szm", "glszm_HighGrayLevelZoneEmphasis"),
    Feature("szm_szlge", "5RAI", "Small zone low grey level emphasis", "szm", "glszm_SmallAreaLowGrayLevelEmphasis"),
    Feature("szm_szhge", "HW1V", "Small zone high grey level emphasis", "szm", "glszm_SmallAreaHighGrayLevelEmphasis"),
    Feature("szm_lzlge", "YH51", "Large zone low grey level emphasis", "szm", "glszm_LargeAreaLowGrayLevelEmphasis"),
    Feature("szm_lzhge", "J17V", "Large zone high grey level emphasis", "szm", "glszm_LargeAreaHighGrayLevelEmphasis"),
    Feature("szm_glnu", "JNSA", "Grey level non-uniformity", "szm", "glszm_GrayLevelNonUniformity"),
    Feature("szm_glnu_norm", "Y1RO", "Normalised grey level non-uniformity", "szm", "glszm_GrayLevelNonUniformityNormalized"),
    Feature("szm_zsnu", "4JP3", "Zone size non-uniformity", "szm", "glszm_SizeZoneNonUniformity"),
    Feature("szm_zsnu_norm", "VB3A", "Normalised zone size non-uniformity", "szm", "glszm_SizeZoneNonUniformityNormalized"),
    Feature("szm_z_perc", "P30P", "Zone percentage", "szm", "glszm_ZonePercentage"),
    Feature("szm_gl_var", "BYLV", "Grey level variance", "szm", "glszm_GrayLevelVariance"),
    Feature("szm_zs_var", "3NSA", "Zone size variance", "szm", "glszm_ZoneVariance"),
    Feature("szm_zs_entr", "GU8N", "Zone size entropy", "szm", "glszm_ZoneEntropy"),
)


def glszm_matrices(
    levels: np.ndarray, n_levels: int, *, in_plane: bool = False, zone_list: tuple | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Size zone counts, in one pass over the ROI.

    Parameters
    ----------
    levels
        Grey levels ``(z, y, x)``: 1..``n_levels`` inside the ROI, 0 outside.
    n_levels
        Number of grey levels Ng (rows).
    in_plane
        Zones 8-connected within each slice, one matrix per slice (2D); otherwise 26-connected in
        3D, one matrix.
    zone_list
        The zones of ``levels`` for this connectivity when already computed
        (:func:`radrepro.features._zones.zones`).

    Returns
    -------
    matrices, sizes
        ``matrices[s, a-1, u]`` (int64, shape ``(n_slices or 1, Ng, U)``) = number of zones of
        level ``a`` and ``sizes[u]`` voxels; ``sizes`` holds the zone sizes present, ascending.
    """
    lv = _texture.check_levels(levels, n_levels, "glszm_matrices")
    level, size, _, sl = zone_list if zone_list is not None else _zones.zones(lv, _texture.directions(in_plane))
    if in_plane:
        return _zones.zone_matrices(level, size, sl, lv.shape[0], int(n_levels))
    return _zones.zone_matrices(level, size, np.zeros_like(sl), 1, int(n_levels))


def glszm_features(P: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """The 16 IBSI GLSZM features of each non-empty matrix ``(B, Ng, U)`` with column values ``sizes``.

    The number of voxels (zone percentage) is ``sum(size * count)``.
    """
    P = np.asarray(P, dtype=np.float64)
    nv = (P.sum(axis=1) * np.asarray(sizes, dtype=np.float64)).sum(axis=1)
    return _texture.zone_like_features(P, sizes, nv)[:, :16]


def glszm_ibsi(levels: np.ndarray, n_levels: int, dims=("3D",), zone_lists=None) -> dict[str, float]:
    """IBSI GLSZM features of a grey-level volume for the aggregations in ``dims``.

    ``zone_lists(in_plane)``, when given, returns the zones of ``levels`` already computed.
    """
    dims = tuple(d for d in ("2D", "2.5D", "3D") if d in dims)
    lv = _texture.check_levels(levels, n_levels, "glszm")
    if n_levels == 0 or not lv.any():
        return _texture.nan_result(FEATURES, dims, directional=False)
    values = {}
    if "2D" in dims or "2.5D" in dims:
        mats, sizes = glszm_matrices(lv, n_levels, in_plane=True, zone_list=zone_lists and zone_lists(True))
        values.update(_texture.aggregate_plain(mats, None, lambda m: glszm_features(m, sizes), len(FEATURES)))
    if "3D" in dims:
        mats, sizes = glszm_matrices(lv, n_levels, in_plane=False, zone_list=zone_lists and zone_lists(False))
        values.update(_texture.aggregate_plain(None, mats, lambda m: glszm_features(m, sizes), len(FEATURES)))
    return _texture.tagged(FEATURES, values, [_texture.SUFFIXES_PLAIN[d] for d in dims])


def compute(roi) -> dict[str, float]:
    """Family entry point: IBSI GLSZM features of the ROI for ``roi.settings.texture_dims``."""
    levels, dims = _texture.roi_arrays(roi)[0], _texture.texture_dims(roi)
    return glszm_ibsi(levels, roi.n_levels, dims, lambda in_plane: _zones.roi_zones(roi, in_plane))
