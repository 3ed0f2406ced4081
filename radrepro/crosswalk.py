"""The crosswalk between pyradiomics feature names and IBSI identifiers, derived from the registry.

Each :class:`~radrepro.registry.Feature` carries its pyradiomics ``class_Feature`` name where
pyradiomics computes the same quantity; this module turns that into a two-way map and lines up
feature names across extractors and conventions:

- ``original_glcm_JointEnergy`` (pyradiomics) <-> ``cm_energy`` / ``8ZQL`` (IBSI), and in a results
  table the IBSI value that pyradiomics' number corresponds to, ``cm_energy_3D_avg`` (pyradiomics
  averages GLCM features over the 13 directions: IBSI "3D, averaged").
- Every link says how closely the definitions agree (``relation``) and why they may differ (``note``).

The registry follows pyradiomics' ``featuresDict_IBSIv7.tsv`` (pyradiomics/labs/pyradiomics-dcm,
BSD-3-Clause) with its errata corrected; ``tests/test_crosswalk.py`` checks the registry against that
file. Nothing here reads files at run time.

Relations
---------
``same``
    The same definition; on the same voxels and grey levels the values are equal to rounding.
``discretised``
    The same formula on discretised grey levels. pyradiomics' fixed bin width puts bin edges at
    multiples of ``binWidth`` (``floor(x / w) - floor(min / w) + 1``), IBSI's starts the first bin at
    the ROI minimum (or the re-segmentation lower bound): the values agree only when IBSI's first edge
    is pyradiomics' one, ``floor(ROI min / w) * w`` (e.g. an ROI minimum that is a multiple of the bin
    width). With a fixed bin count both use ``Ng`` equal bins on ``[min, max]`` and agree (measured:
    every link to 2e-13 on pyradiomics' test images, 3D and, with ``force2D``, 2.5D).
``offset``
    A fixed shift: pyradiomics' value = IBSI value + ``offset`` (kurtosis: pyradiomics reports
    kurtosis, IBSI excess kurtosis, so +3). :func:`align` applies it.
``differs``
    A related quantity that differs by a data-dependent factor (see the note).
``deprecated``
    The same definition, but pyradiomics 3.0.1 marks the feature deprecated and computes it only
    when it is enabled by name in ``featureClass``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import pandas as pd

from radrepro.registry import all_features, lookup, split_tag

PYRADIOMICS_CLASSES = ("firstorder", "shape", "shape2D", "glcm", "glrlm", "glszm", "gldm", "ngtdm")
_PYRADIOMICS_NAME = re.compile(r"^(?P<image>[^_]+)_(?P<cls>" + "|".join(PYRADIOMICS_CLASSES) + r")_(?P<feature>[A-Za-z0-9]+)$")

# IBSI aggregation of pyradiomics' numbers, per family: (3D extraction, force2D extraction)
PYRADIOMICS_AGGREGATION: dict[str, tuple[str, str]] = {
    "morph": ("", ""),
    "stat": ("", ""),
    "ih": ("", ""),
    "cm": ("3D_avg", "2_5D_avg"),  # one matrix per direction over the whole ROI, features averaged
    "rlm": ("3D_avg", "2_5D_avg"),
    "szm": ("3D", "2_5D"),  # one matrix over the whole ROI (26- or in-plane 8-connectivity)
    "ngt": ("3D", "2_5D"),
    "ngl": ("3D", "2_5D"),
}

_DISCRETISED = {"ih", "cm", "rlm", "szm", "ngt", "ngl"}

# pyradiomics marks these deprecated (computed only when enabled by name)
_DEPRECATED = {
    "cm_sum_var": "deprecated in pyradiomics: equal to ClusterTendency",
    "cm_dissimilarity": "deprecated in pyradiomics: equal to DifferenceAverage",
    "ngl_glnu_norm": "deprecated in pyradiomics: equal to firstorder Uniformity",
    "ngl_dc_perc": "deprecated in pyradiomics: always 1",
    "morph_comp_1": "deprecated in pyradiomics: a function of Sphericity",
    "morph_comp_2": "deprecated in pyradiomics: a function of Sphericity",
    "morph_sph_dispr": "deprecated in pyradiomics: a function of Sphericity",
}

# definition details worth knowing when the numbers differ
_NOTES = {
    "stat_energy": "pyradiomics adds voxelArrayShift to every intensity before squaring (0 unless set)",
    "stat_rms": "pyradiomics adds voxelArrayShift to every intensity before squaring (0 unless set)",
    "stat_median": "both interpolate linearly between order statistics (numpy's default)",
    "stat_p10": "both interpolate linearly between order statistics (numpy's default)",
    "stat_p90": "both interpolate linearly between order statistics (numpy's default)",
    "stat_iqr": "both interpolate linearly between order statistics (numpy's default)",
    "stat_rmad": "10th-90th percentile range by linear interpolation in both",
    "ih_entropy": "pyradiomics' firstorder Entropy uses pyradiomics' discretisation (binWidth/binCount) and log2(p + eps)",
    "ih_uniformity": "pyradiomics' firstorder Uniformity uses pyradiomics' discretisation (binWidth/binCount)",
    "cm_joint_entr": "pyradiomics adds eps inside log2",
    "cm_diff_entr": "pyradiomics adds eps inside log2",
    "cm_sum_entr": "pyradiomics adds eps inside log2",
    "cm_corr": "pyradiomics returns 1 when the GLCM has a single grey level (zero variance)",
    "cm_info_corr2": "pyradiomics returns 0 when HXY2 < HXY by rounding",
    "rlm_rl_entr": "pyradiomics adds eps inside log2",
    "szm_zs_entr": "pyradiomics adds eps inside log2",
    "ngl_dc_entr": "pyradiomics adds eps inside log2",
    "ngt_coarseness": "pyradiomics returns 1e6 when the sum of s_i p_i is 0",
    "morph_volume": "mesh volume from marching cubes on the mask in both (mesh details may differ slightly)",
    "morph_area_mesh": "mesh surface from marching cubes on the mask in both (mesh details may differ slightly)",
    "morph_av": "from the mesh surface and volume",
    "morph_sphericity": "from the mesh surface and volume",
    "morph_diam": "largest distance between mesh vertices in both",
}


@dataclass(frozen=True)
class Link:
    """One pyradiomics feature and the IBSI feature it corresponds to.

    Attributes
    ----------
    tag, ibsi_id, name, family
        The IBSI feature (registry tag without aggregation, identifier, human name, family).
    pyradiomics
        pyradiomics ``class_Feature`` name (no image-type prefix).
    relation
        ``same``, ``discretised``, ``offset``, ``differs`` or ``deprecated`` (see the module docstring).
    note
        Why values may differ, or empty.
    offset
        pyradiomics value = IBSI value + ``offset``.
    """

    tag: str
    ibsi_id: str
    name: str
    family: str
    pyradiomics: str
    relation: str
    note: str = ""
    offset: float = 0.0

    def pyradiomics_name(self, image_type: str = "original") -> str:
        """Full pyradiomics result name, e.g. ``original_glcm_JointEnergy``."""
        return f"{image_type}_{self.pyradiomics}"

    def ibsi_name(self, force2d: bool = False) -> str:
        """The IBSI result name pyradiomics' value corresponds to, e.g. ``cm_energy_3D_avg``."""
        agg = PYRADIOMICS_AGGREGATION.get(self.family, ("", ""))[1 if force2d else 0]
        return f"{self.tag}_{agg}" if agg else self.tag


# features pyradiomics computes with a related but not identical definition (not in the registry's
# pyradiomics column, which lists only equal quantities): tag -> (pyradiomics name, offset, note)
_RELATED = {
    "stat_kurt": ("firstorder_Kurtosis", 3.0, "pyradiomics reports kurtosis, IBSI excess kurtosis: pyradiomics = IBSI + 3"),
}


# features whose pyradiomics value is the IBSI value times a data-dependent factor
_DIFFERS = {
    tag: "pyradiomics takes the eigenvalues of the sample covariance (N - 1) of the voxel centres: "
         "pyradiomics = IBSI x sqrt(N / (N - 1)) for N ROI voxels"
    for tag in ("morph_pca_maj_axis", "morph_pca_min_axis", "morph_pca_least_axis")
}


def _relation(tag: str, family: str) -> tuple[str, str]:
    notes = [n for n in (_DEPRECATED.get(tag), _DIFFERS.get(tag), _NOTES.get(tag)) if n]
    if tag in _DIFFERS:
        relation = "differs"
    elif tag in _DEPRECATED:
        relation = "deprecated"
    elif family in _DISCRETISED:
        relation = "discretised"
        if family != "ih":
            notes.append("grey levels from pyradiomics' bin edges (multiples of binWidth)")
    else:
        relation = "same"
    return relation, "; ".join(notes)


@cache
def links() -> tuple[Link, ...]:
    """Every pyradiomics <-> IBSI link of the implemented families, in registry order."""
    out = []
    for f in all_features():
        if f.pyradiomics:
            relation, note = _relation(f.tag, f.family)
            out.append(Link(f.tag, f.ibsi_id, f.name, f.family, f.pyradiomics, relation, note))
        elif f.tag in _RELATED:
            name, offset, note = _RELATED[f.tag]
            out.append(Link(f.tag, f.ibsi_id, f.name, f.family, name, "offset", note, offset))
    return tuple(out)


@cache
def _by_pyradiomics() -> dict[str, Link]:
    return {link.pyradiomics: link for link in links()}


@cache
def _by_tag() -> dict[str, Link]:
    return {link.tag: link for link in links()}


def table() -> pd.DataFrame:
    """The crosswalk as a table: one row per link (columns as :class:`Link`'s attributes)."""
    rows = [{"ibsi_id": k.ibsi_id, "tag": k.tag, "name": k.name, "family": k.family,
             "pyradiomics": k.pyradiomics, "relation": k.relation, "offset": k.offset, "note": k.note}
            for k in links()]
    return pd.DataFrame(rows)


def parse_pyradiomics_name(name: str) -> tuple[str, str, str] | None:
    """``original_glcm_JointEnergy`` -> (``original``, ``glcm``, ``JointEnergy``); None if not one."""
    m = _PYRADIOMICS_NAME.match(name)
    return (m["image"], m["cls"], m["feature"]) if m else None


def for_pyradiomics(name: str) -> Link | None:
    """The link of a pyradiomics name (``original_glcm_JointEnergy`` or ``glcm_JointEnergy``)."""
    parsed = parse_pyradiomics_name(name)
    key = f"{parsed[1]}_{parsed[2]}" if parsed else name
    return _by_pyradiomics().get(key)


def for_ibsi(tag: str) -> Link | None:
    """The link of an IBSI tag (``cm_energy``, ``cm_energy_3D_avg``) or identifier (``8ZQL``)."""
    base, _ = split_tag(tag)
    if base in _by_tag():
        return _by_tag()[base]
    for link in links():
        if link.ibsi_id == tag:
            return link
    return None


def to_ibsi(name: str, force2d: bool = False) -> str | None:
    """IBSI result name for a pyradiomics feature (``original_glcm_JointEnergy`` -> ``cm_energy_3D_avg``)."""
    link = for_pyradiomics(name)
    return link.ibsi_name(force2d) if link else None


def to_pyradiomics(tag: str, image_type: str = "original") -> str | None:
    """pyradiomics name for an IBSI result name whose aggregation pyradiomics computes, else None.

    ``cm_energy_3D_avg`` and ``cm_energy_2_5D_avg`` give ``original_glcm_JointEnergy``;
    ``cm_energy_3D_comb`` gives None (pyradiomics does not merge directional matrices).
    """
    base, agg = split_tag(tag)
    link = _by_tag().get(base)
    if link is None or agg not in PYRADIOMICS_AGGREGATION.get(link.family, ("", "")):
        return None
    return link.pyradiomics_name(image_type)


@dataclass(frozen=True)
class Match:
    """One feature lined up between two feature name sets."""

    key: str  # the name shown in comparisons: the pyradiomics name when there is one
    a: str
    b: str
    ibsi_id: str
    relation: str
    note: str
    offset_a: float  # added to A's values before comparing
    offset_b: float  # added to B's values before comparing


def _describe(name: str, force2d: bool) -> tuple[str, Link | None, bool]:
    """(alignment key, link, is_pyradiomics_name) of one feature name."""
    parsed = parse_pyradiomics_name(name)
    if parsed:
        return name, for_pyradiomics(name), True
    try:
        lookup(name)
    except KeyError:
        return name, None, False
    base, agg = split_tag(name)
    link = _by_tag().get(base)
    if link is not None:
        want = PYRADIOMICS_AGGREGATION.get(link.family, ("", ""))[1 if force2d else 0]
        if agg == want:
            return link.pyradiomics_name(), link, False
    return name, link, False


def align(names_a, names_b, *, force2d: bool = False) -> list[Match]:
    """Line up two sets of feature names (same convention or pyradiomics vs IBSI via the crosswalk).

    Names equal on both sides match as they are (key: the name). An IBSI result name matches the pyradiomics name
    of the same feature when its aggregation is the one pyradiomics computes (``3D_avg`` for GLCM
    in 3D, ``2_5D_avg`` with ``force2d``). Features with an ``offset`` relation are shifted so both
    sides follow pyradiomics' definition.

    Returns
    -------
    list of Match
        In the order of ``names_a``; names without a partner are left out.
    """
    b_names = [str(n) for n in names_b]
    b_set = set(b_names)
    b_keys: dict[str, tuple[str, Link | None, bool]] = {}
    for n in b_names:
        key, link, is_py = _describe(n, force2d)
        b_keys.setdefault(key, (n, link, is_py))
    out, used_b = [], set()
    for n in map(str, names_a):
        if n in b_set:  # the same name on both sides: the same convention
            if n not in used_b:
                used_b.add(n)
                link = for_pyradiomics(n) if parse_pyradiomics_name(n) else _by_tag().get(split_tag(n)[0])
                out.append(Match(n, n, n, link.ibsi_id if link else "", "same name", "", 0.0, 0.0))
            continue
        key, link_a, is_py_a = _describe(n, force2d)
        if key not in b_keys or b_keys[key][0] in used_b or is_py_a == b_keys[key][2]:
            continue
        b, link_b, is_py_b = b_keys[key]
        used_b.add(b)
        link = link_a or link_b
        off_a = link.offset if not is_py_a else 0.0
        off_b = link.offset if not is_py_b else 0.0
        out.append(Match(key, n, b, link.ibsi_id, link.relation, link.note, off_a, off_b))
    return out
