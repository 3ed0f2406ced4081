"""The IBSI 1 convention: IBSI processing and IBSI feature definitions, named by reference tag."""

from __future__ import annotations

from typing import Any

import SimpleITK as sitk

from radrepro.case import read_pair
from radrepro.errors import SettingsError
from radrepro.processing import prepare
from radrepro.registry import FAMILIES, family_module, implemented_families
from radrepro.settings import Settings

NAME = "ibsi"


def selected_families(settings: Settings) -> tuple[str, ...]:
    """Families to compute: ``settings.families`` or every implemented family."""
    available = implemented_families()
    if settings.families is None:
        return available
    for fam in settings.families:
        if fam not in FAMILIES:
            raise SettingsError(
                f"unknown feature family '{fam}' in setting 'families'",
                "IBSI families are: " + ", ".join(FAMILIES),
            )
        if fam not in available:
            raise SettingsError(
                f"feature family '{fam}' is not implemented in this version",
                "available: " + ", ".join(available),
            )
    return tuple(settings.families)


def load_pair(image: Any, mask: Any, settings: Settings) -> tuple[sitk.Image, sitk.Image]:
    """Read and check image and mask (:func:`radrepro.case.read_pair`): both as stored, the ROI is
    the mask's ``settings.label``. Processing crops before converting anything (whole-image
    conversions cost more than a small ROI's features)."""
    return read_pair(image, mask, settings.label, geometry_tolerance=settings.geometry_tolerance)


def extract(image: sitk.Image, mask: sitk.Image, settings: Settings) -> dict[str, float]:
    """IBSI features of an image/mask pair checked by :func:`load_pair` (the ROI is ``settings.label``),
    keyed by IBSI reference tag."""
    families = selected_families(settings)
    roi = prepare(image, mask, settings, label=settings.label)
    values: dict[str, float] = {}
    for fam in families:
        values.update(family_module(fam).compute(roi))
    return values
