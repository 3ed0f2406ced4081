"""Family kernel scaling: every IBSI family on synthetic ROIs of 1e3 to 1e6 voxels and 16 to 256 grey levels.

Issue 10: how each family's cost grows with the ROI's voxel count (it must be linear, not
quadratic) and with the number of grey levels. The ROI is an ellipsoid (semi-axes in the ratio
0.8 : 1 : 1.25) with the target voxel count, 1 mm voxels, in a smooth random CT-like field (integer
HU, Gaussian-filtered noise); IBSI processing (:func:`radrepro.processing.prepare`, no resampling,
fixed bin number ``n`` for texture and the intensity histogram, IVH with ``n`` bins) runs once per
ROI outside the timing. Texture families use 3D aggregation (``texture_dims = 3D``, the default).

Morphology, local intensity and statistics do not read grey levels: they run at every size with
32 levels only. The 1e6-voxel x 256-level points and the 1e6-voxel points of morphology and local
intensity (seconds per call; one measured round) carry the marker ``large`` (deselect with
``-m "not large"``). ``benchmarks/summary.py`` fits the log-log slope of the median time against the
ROI's voxel count per family and grey-level count (1 = linear).

Run with ``.venv/bin/python -m pytest benchmarks/speed/test_family_scaling.py --benchmark-only``.
"""

from __future__ import annotations

import dataclasses

import functools
import math

import numpy as np
import pytest
from scipy import ndimage

from radrepro.registry import FAMILIES, family_module

SIZES = (1_000, 10_000, 100_000, 1_000_000)
LEVELS = (16, 32, 64, 256)
LEVEL_FREE = ("morph", "loc", "stat")  # families that never read the discretised levels
SLOW_AT_1E6 = ("morph", "loc")  # seconds per call at 1e6 voxels: marked large with the 256-level points
AXES = (0.8, 1.0, 1.25)  # semi-axis ratios (z, y, x); their product is 1


def _points():
    out = []
    for size in SIZES:
        for levels in LEVELS:
            for fam in FAMILIES:
                if fam in LEVEL_FREE and levels != 32:
                    continue
                large = size == SIZES[-1] and (levels == LEVELS[-1] or fam in SLOW_AT_1E6)
                marks = [pytest.mark.large] if large else []
                name = f"{fam}-{size:.0e}-{levels}".replace("+0", "")
                out.append(pytest.param(fam, size, levels, marks=marks, id=name))
    return out


@functools.lru_cache(maxsize=1)
def synthetic_image(voxels: int):
    """(image, mask) SimpleITK pair: an ellipsoid ROI of about ``voxels`` voxels in a CT-like field."""
    import SimpleITK as sitk

    r = (3.0 * voxels / (4.0 * math.pi)) ** (1.0 / 3.0)
    semi = np.array(AXES) * r
    margin = 10  # more than the local-intensity sphere (6.2 mm) around the ROI
    shape = tuple(int(math.ceil(2 * s)) + 2 * margin for s in semi)
    rng = np.random.default_rng(voxels)
    field = ndimage.gaussian_filter(rng.normal(size=shape), 2.0)
    field = np.round(40.0 + 60.0 * field / field.std()).astype(np.int16)
    centre = (np.array(shape) - 1) / 2.0
    grid = np.ogrid[: shape[0], : shape[1], : shape[2]]
    inside = sum(((g - c) / s) ** 2 for g, c, s in zip(grid, centre, semi)) <= 1.0
    image = sitk.GetImageFromArray(field)
    mask = sitk.GetImageFromArray(inside.astype(np.uint8))
    mask.CopyInformation(image)
    return image, mask


@functools.lru_cache(maxsize=2)
def synthetic_roi(voxels: int, levels: int):
    from radrepro.case import load_pair
    from radrepro.processing import prepare
    from radrepro.settings import Settings

    settings = Settings(discretisation="fbn", bin_count=levels, ivh_discretisation="fbn", ivh_bin_count=levels)
    return prepare(*load_pair(*synthetic_image(voxels)), settings)


@pytest.mark.parametrize("family, size, levels", _points())
def test_family_kernel(benchmark, record, rounds, family, size, levels):
    roi = synthetic_roi(size, levels)
    module = family_module(family)
    if size >= 1_000_000:
        n = rounds(1 if family in SLOW_AT_1E6 else 3)
    else:
        n = rounds(5 if size >= 100_000 else 10)
    benchmark.group = f"family scaling: {family}"
    record(kind="family_scaling", family=family, target_voxels=size, levels=levels,
           roi_voxels=int(roi.int_mask.sum()), box_voxels=int(roi.image.size), n_levels=int(roi.n_levels),
           settings={"discretisation": "fbn", "bin_count": levels, "ivh_discretisation": "fbn",
                     "ivh_bin_count": levels, "texture_dims": "3D", "spacing_mm": [1.0, 1.0, 1.0]})
    # the warm-up round compiles (or loads from the cache) every kernel, outside the timing; every
    # round gets a copy of the ROI, whose ``roi.shared`` starts empty (no zones or texture arrays
    # from an earlier round), so that each family is timed with all of its own work
    values = benchmark.pedantic(module.compute, setup=lambda: ((dataclasses.replace(roi),), {}),
                                rounds=n, iterations=1, warmup_rounds=1)
    assert values and any(np.isfinite(v) for v in values.values())
