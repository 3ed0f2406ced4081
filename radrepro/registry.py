"""The feature registry: every feature named once.

Each feature family module (``radrepro.features.<family>``) declares a ``FEATURES`` tuple of
:class:`Feature`; this module collects them. Conventions, crosswalks, reports and the IBSI check
read names from here and nowhere else.

A feature's *tag* is its IBSI reference tag without aggregation suffix (``cm_joint_max``); a value
computed with an aggregation carries the suffix (``cm_joint_max_3D_avg``), exactly as in the IBSI
reference table. IBSI identifiers come from the IBSI 1 reference manual (arXiv:1612.07003);
pyradiomics names follow pyradiomics' ``featuresDict_IBSIv7.tsv`` crosswalk (BSD-3-Clause).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cache

# family short name (= IBSI tag prefix) -> (module, IBSI family name, IBSI family identifier)
FAMILIES: dict[str, tuple[str, str, str]] = {
    "morph": ("radrepro.features.morphology", "Morphology", "HCUG"),
    "loc": ("radrepro.features.local_intensity", "Local intensity", "9ST6"),
    "stat": ("radrepro.features.statistics", "Intensity-based statistics", "UHIW"),
    "ih": ("radrepro.features.intensity_histogram", "Intensity histogram", "ZVCW"),
    "ivh": ("radrepro.features.intensity_volume", "Intensity-volume histogram", "P88C"),
    "cm": ("radrepro.features.glcm", "Grey level co-occurrence matrix", "LFYI"),
    "rlm": ("radrepro.features.glrlm", "Grey level run length matrix", "TP0I"),
    "szm": ("radrepro.features.glszm", "Grey level size zone matrix", "9SAK"),
    "dzm": ("radrepro.features.gldzm", "Grey level distance zone matrix", "VMDZ"),
    "ngt": ("radrepro.features.ngtdm", "Neighbourhood grey tone difference matrix", "IPET"),
    "ngl": ("radrepro.features.ngldm", "Neighbouring grey level dependence matrix", "REK0"),
}

# IBSI aggregation suffixes as used in the reference table, longest first
AGGREGATIONS = ("_2_5D_avg", "_2_5D_comb", "_2D_avg", "_2D_comb", "_3D_avg", "_3D_comb", "_2_5D", "_2D", "_3D")


@dataclass(frozen=True)
class Feature:
    """One feature definition.

    Parameters
    ----------
    tag
        IBSI reference tag without aggregation suffix, e.g. ``stat_mean``.
    ibsi_id
        IBSI identifier, e.g. ``Q4LE``; empty for features IBSI does not define.
    name
        Human-readable name, e.g. ``Mean``.
    family
        Family short name (a key of :data:`FAMILIES`).
    pyradiomics
        pyradiomics ``class_Feature`` name, e.g. ``firstorder_Mean``, when it computes the same quantity.
    """

    tag: str
    ibsi_id: str
    name: str
    family: str
    pyradiomics: str | None = None


def family_module(family: str):
    """The module that implements ``family``."""
    try:
        module = FAMILIES[family][0]
    except KeyError:
        raise KeyError(f"unknown feature family {family!r}; known: {', '.join(FAMILIES)}") from None
    return importlib.import_module(module)


@cache
def implemented_families() -> tuple[str, ...]:
    """Families whose module exists, in registry order."""
    out = []
    for fam in FAMILIES:
        try:
            family_module(fam)
        except ModuleNotFoundError as exc:
            if exc.name != FAMILIES[fam][0]:
                raise
            continue
        out.append(fam)
    return tuple(out)


@cache
def all_features() -> tuple[Feature, ...]:
    """Every registered feature of every implemented family."""
    return tuple(f for fam in implemented_families() for f in family_module(fam).FEATURES)


@cache
def _by_tag() -> dict[str, Feature]:
    return {f.tag: f for f in all_features()}


def split_tag(tag: str) -> tuple[str, str]:
    """``cm_joint_max_3D_avg`` -> (``cm_joint_max``, ``3D_avg``); no suffix -> (tag, "")."""
    for suffix in AGGREGATIONS:
        if tag.endswith(suffix):
            return tag[: -len(suffix)], suffix[1:]
    return tag, ""


def lookup(tag: str) -> Feature:
    """The :class:`Feature` for a tag, with or without aggregation suffix."""
    base, _ = split_tag(tag)
    try:
        return _by_tag()[base]
    except KeyError:
        raise KeyError(f"no feature with tag {tag!r} in the registry") from None


def family_of(tag: str) -> str:
    """Family short name of a tag (its prefix)."""
    return tag.split("_", 1)[0]
