"""Conventions: the only place where IBSI and pyradiomics differ.

A convention module has ``NAME`` and ``extract(image, mask, settings) -> dict[str, float]``, taking a
checked image/mask pair (:func:`radrepro.case.load_pair`) and returning feature name -> value.
"""

from __future__ import annotations

import importlib

from radrepro.errors import SettingsError

CONVENTIONS = {
    "ibsi": "radrepro.conventions.ibsi",
    "pyradiomics": "radrepro.conventions.pyradiomics",
}


def get_convention(name: str):
    """The convention module called ``name``."""
    try:
        module = CONVENTIONS[name]
    except KeyError:
        raise SettingsError(
            f"unknown convention '{name}'", "use one of: " + ", ".join(CONVENTIONS)
        ) from None
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise
        raise SettingsError(f"convention '{name}' is not available in this version", "use --convention ibsi") from None
