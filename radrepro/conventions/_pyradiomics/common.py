"""What every pyradiomics feature class reads: the cropped ROI, its grey levels and the settings."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from radrepro.conventions._pyradiomics import processing
from radrepro.settings import Settings

EPS = np.spacing(1)


@dataclass
class ClassInput:
    """Input of a pyradiomics feature class (see :class:`processing.Prepared`)."""

    prepared: processing.Prepared
    settings: Settings

    @cached_property
    def _discretised(self) -> tuple[np.ndarray, np.ndarray]:
        return processing.discretise(self.prepared.image, self.prepared.roi, self.settings)

    @property
    def levels(self) -> np.ndarray:
        """Grey levels (int32, ``(z, y, x)``): 1..Ng inside the ROI, 0 outside."""
        return self._discretised[0]

    @property
    def level_counts(self) -> np.ndarray:
        """Number of ROI voxels of each grey level 0..Ng (0 for level 0)."""
        return self._discretised[1]

    @cached_property
    def grey_levels(self) -> np.ndarray:
        """The grey levels present in the ROI, ascending (int32)."""
        return np.flatnonzero(self.level_counts).astype(np.int32)

    @property
    def n_levels(self) -> int:
        """Ng: the highest grey level in the ROI."""
        return len(self.level_counts) - 1

    @property
    def force_2d(self) -> bool:
        return "2D" in self.settings.texture_dims

    def angles(self, distances=None, *, bidirectional: bool = False) -> np.ndarray:
        """pyradiomics' angles for the cropped box (see :func:`processing.angles`)."""
        s = self.settings
        return processing.angles(
            self.levels.shape,
            s.distances if distances is None else distances,
            bidirectional=bidirectional,
            force_2d=self.force_2d,
            force_2d_dimension=s.force_2d_dimension,
        )


def drop_empty_levels(P: np.ndarray, grey_levels: np.ndarray, axes=(0,)) -> np.ndarray:
    """Keep only the rows (along ``axes``) of grey levels present in the ROI (pyradiomics deletes the others)."""
    idx = grey_levels.astype(np.int64) - 1
    for ax in axes:
        P = np.take(P, idx, axis=ax)
    return P


def selected(features: dict[str, str], names, cls: str) -> list[str]:
    """Feature names to compute: the enabled ones, or ``names`` (deprecated ones allowed, removed ones dropped)."""
    from radrepro.errors import SettingsError

    if names is None:
        return [n for n, status in features.items() if status == "enabled"]
    out = []
    for n in names:
        if n not in features:
            raise SettingsError(
                f"pyradiomics class '{cls}' has no feature '{n}'", "features are: " + ", ".join(features)
            )
        if features[n] != "removed":
            out.append(n)
    return out
