"""radrepro's own numba engine as a backend."""

from __future__ import annotations

import pandas as pd

import radrepro
from radrepro.case import Case
from radrepro.engine import extract
from radrepro.extractors.base import Extractor
from radrepro.settings import Settings


class RadreproExtractor(Extractor):
    """radrepro's engine in the IBSI or the pyradiomics convention."""

    name = "radrepro"

    def __init__(self, convention: str = "ibsi") -> None:
        self.convention = convention

    @property
    def version(self) -> str:
        return radrepro.__version__

    def extract(self, case: Case, settings: Settings) -> pd.Series:
        return extract(case.image, case.mask, settings, convention=self.convention)
