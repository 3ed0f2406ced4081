"""The IBSI 1 digital phantom, written from its definition.

The phantom (IBSI reference manual, arXiv:1612.07003, section 5.1) is a 5 x 4 x 4 voxel image
with 2.0 mm isotropic voxels, integer intensities 1..9 and a mask that leaves out six voxels.
It is embedded here so that radrepro runs offline; the published NIfTI files (IBSI data sets
repository, CC BY 4.0) are identical and the tests check that.
"""

from __future__ import annotations

import numpy as np
import SimpleITK as sitk

from radrepro.case import Case

# (z, y, x): four slices of four rows of five voxels
_IMAGE = np.array(
    [
        [[1, 4, 4, 1, 1], [1, 4, 6, 1, 1], [4, 1, 6, 4, 1], [4, 4, 6, 4, 1]],
        [[1, 4, 4, 1, 1], [1, 1, 6, 1, 1], [1, 1, 3, 1, 1], [4, 4, 6, 1, 1]],
        [[1, 4, 4, 1, 1], [1, 1, 1, 1, 1], [1, 1, 9, 1, 1], [1, 1, 6, 1, 1]],
        [[1, 4, 4, 1, 1], [1, 1, 1, 1, 1], [1, 1, 1, 1, 1], [1, 1, 6, 1, 1]],
    ],
    dtype=np.int16,
)
# voxels outside the ROI, as (z, y, x)
_EXCLUDED = [(1, 2, 0), (2, 0, 3), (2, 0, 4), (2, 2, 2), (3, 0, 3), (3, 0, 4)]
SPACING = (2.0, 2.0, 2.0)


def _image(arr: np.ndarray) -> sitk.Image:
    img = sitk.GetImageFromArray(arr)
    img.SetSpacing(SPACING)
    return img


def digital_phantom() -> tuple[sitk.Image, sitk.Image]:
    """The IBSI 1 digital phantom: (image, mask) as 16-bit SimpleITK images with label 1."""
    mask = np.ones_like(_IMAGE)
    for z, y, x in _EXCLUDED:
        mask[z, y, x] = 0
    return _image(_IMAGE.copy()), _image(mask)


def digital_phantom_case() -> Case:
    """The digital phantom as a :class:`~radrepro.case.Case` with id ``ibsi-digital-phantom``."""
    image, mask = digital_phantom()
    return Case(id="ibsi-digital-phantom", image=image, mask=mask, metadata={"dataset": "ibsi-digital-phantom"})
