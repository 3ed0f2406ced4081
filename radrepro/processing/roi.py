"""The processed region of interest that feature families read."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import SimpleITK as sitk

from radrepro.processing.discretise import discretise
from radrepro.processing.resegment import resegment
from radrepro.settings import Settings


@dataclass
class ROI:
    """An image and its masks after IBSI processing, cropped to the ROI's bounding box.

    Arrays are indexed ``(z, y, x)`` as SimpleITK's ``GetArrayFromImage`` returns them.

    Attributes
    ----------
    image
        Processed intensities (float64), cropped to the bounding box of the morphological mask
        plus ``margin`` voxels on every side where the image has them.
    morph_mask
        Morphological mask (after interpolation, before re-segmentation).
    int_mask
        Intensity mask (after re-segmentation); intensity and texture families use it.
    spacing
        Voxel spacing ``(x, y, z)`` in mm.
    levels
        Discretised grey levels (int32, 1..n_levels inside ``int_mask``, 0 outside).
    n_levels
        Number of grey levels of the discretisation.
    bin_edges_low
        Lower edge of bin 1 (the discretisation's origin), for histogram features that report
        intensities; ``bin_width`` the bin size in intensity units (fixed bin number: range / n_levels).
    diagnostics
        IBSI diagnostic values (image and ROI sizes, voxel counts, mean/min/max) by reference tag.
    """

    image: np.ndarray
    morph_mask: np.ndarray
    int_mask: np.ndarray
    spacing: tuple[float, float, float]
    levels: np.ndarray
    n_levels: int
    bin_edges_low: float
    bin_width: float
    settings: Settings
    diagnostics: dict[str, float] = field(default_factory=dict)

    @property
    def values(self) -> np.ndarray:
        """Intensities of the voxels in the intensity mask (1D, float64)."""
        return self.image[self.int_mask]

    @property
    def voxel_volume(self) -> float:
        sx, sy, sz = self.spacing
        return sx * sy * sz


def bounding_box(mask: np.ndarray, margin: int = 0) -> tuple[slice, ...]:
    """Slices of the smallest box holding every True voxel, grown by ``margin`` (clipped)."""
    idx = np.nonzero(mask)
    return tuple(
        slice(max(int(i.min()) - margin, 0), min(int(i.max()) + 1 + margin, n))
        for i, n in zip(idx, mask.shape)
    )


def prepare(image: sitk.Image, mask: sitk.Image, settings: Settings, *, margin: int = 0) -> ROI:
    """Apply IBSI processing to a checked image/mask pair (see :func:`radrepro.case.load_pair`).

    Steps, in IBSI order: interpolation (when ``settings.spacing`` is set), intensity rounding,
    re-segmentation (range, then outlier filtering), discretisation.
    """
    if settings.spacing is not None:
        from radrepro.processing.interpolate import resample_pair

        image, mask = resample_pair(image, mask, settings)
    arr = sitk.GetArrayFromImage(image).astype(np.float64, copy=False)
    if settings.intensity_rounding is not None:
        r = settings.intensity_rounding
        arr = np.round(arr / r) * r
    morph = sitk.GetArrayFromImage(mask).astype(bool)
    box = bounding_box(morph, margin)
    arr = np.ascontiguousarray(arr[box])
    morph = np.ascontiguousarray(morph[box])
    int_mask = resegment(arr, morph, settings)
    levels, n_levels, low, width = discretise(arr, int_mask, settings)
    return ROI(
        image=arr,
        morph_mask=morph,
        int_mask=int_mask,
        spacing=tuple(float(s) for s in image.GetSpacing()),
        levels=levels,
        n_levels=n_levels,
        bin_edges_low=low,
        bin_width=width,
        settings=settings,
    )
