"""The interface every extractor backend implements."""

from __future__ import annotations

from abc import ABC, abstractmethod

import pandas as pd

from radrepro.case import Case
from radrepro.settings import Settings


class Extractor(ABC):
    """A feature extractor: ``extract(case, settings)`` -> feature name -> value."""

    name: str
    convention: str

    @property
    @abstractmethod
    def version(self) -> str:
        """Version of the software that computes the numbers."""

    @property
    def label(self) -> str:
        """``name@version``, as stored in the results table."""
        return f"{self.name}@{self.version}"

    @abstractmethod
    def extract(self, case: Case, settings: Settings) -> pd.Series:
        """Features of one case (raises :class:`radrepro.errors.RadreproError` on bad input)."""
