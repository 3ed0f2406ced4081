"""Extractor backends behind one small interface.

A backend has ``name``, ``version``, ``convention`` and ``extract(case, settings) -> pandas.Series``.
:func:`get_extractor` builds one from a suite's extractor entry (``{"name": "radrepro",
"convention": "ibsi"}``). Comparing extractor versions is then running two backends (or two
runs) through the same analyses.
"""

from __future__ import annotations

from typing import Any

from radrepro.errors import SettingsError
from radrepro.extractors.base import Extractor
from radrepro.extractors.radrepro_engine import RadreproExtractor

BACKENDS: dict[str, str] = {
    "radrepro": "radrepro.extractors.radrepro_engine:RadreproExtractor",
    "pyradiomics": "radrepro.extractors.pyradiomics_backend:PyradiomicsExtractor",
    "mirp": "radrepro.extractors.mirp_backend:MirpExtractor",  # optional: pip install radrepro[peers]
    "nyxus": "radrepro.extractors.nyxus_backend:NyxusExtractor",  # optional: pip install radrepro[peers]
    "flash-radiomics": "radrepro.extractors.flash_backend:FlashRadiomicsExtractor",  # optional: [peers]
}


def get_extractor(name: str, **options: Any) -> Extractor:
    """The backend called ``name`` with ``options`` (e.g. ``convention``)."""
    import importlib

    try:
        target = BACKENDS[name]
    except KeyError:
        raise SettingsError(f"unknown extractor '{name}'", "known extractors: " + ", ".join(BACKENDS)) from None
    module, cls = target.split(":")
    return getattr(importlib.import_module(module), cls)(**options)


__all__ = ["Extractor", "RadreproExtractor", "get_extractor", "BACKENDS"]
