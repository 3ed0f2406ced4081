"""Texture families speed: the six IBSI texture families on ROIs the size of the IBSI CT phantom.

Goal (issue 3): all six families together well under 10 s per IBSI configuration (the whole
``radrepro ibsi`` run must take under 60 s). The ROIs are smooth random fields with the shape of
configuration A (32 x 113 x 114 voxels, 36 grey levels, 2D and 2.5D aggregation) and configuration C
(48 x 57 x 57, 56 grey levels, 3D). Run with
``.venv/bin/python -m pytest benchmarks/speed/test_texture_speed.py --benchmark-only``.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy import ndimage

from radrepro.features import gldzm, glcm, glrlm, glszm, ngldm, ngtdm
from radrepro.processing import ROI
from radrepro.settings import Settings

FAMILIES = {"glcm": glcm, "glrlm": glrlm, "glszm": glszm, "gldzm": gldzm, "ngtdm": ngtdm, "ngldm": ngldm}
CASES = {
    "A-like 2D+2.5D": ((32, 113, 114), 36, ("2D", "2.5D")),
    "C-like 3D": ((48, 57, 57), 56, ("3D",)),
}


def _roi(shape, n_levels, dims) -> ROI:
    rng = np.random.default_rng(0)
    field = ndimage.gaussian_filter(rng.normal(size=shape), 1.5)
    zz, yy, xx = np.indices(shape)
    centre = (np.array(shape) - 1) / 2
    morph = ((zz - centre[0]) / centre[0]) ** 2 + ((yy - centre[1]) / centre[1]) ** 2 + ((xx - centre[2]) / centre[2]) ** 2 <= 1.0
    int_mask = morph & (field > np.quantile(field, 0.05))  # re-segmentation removes a few voxels
    edges = np.quantile(field[int_mask], np.linspace(0, 1, n_levels + 1)[1:-1])
    levels = np.where(int_mask, np.searchsorted(edges, field) + 1, 0).astype(np.int32)
    return ROI(
        image=field, morph_mask=morph, int_mask=int_mask, spacing=(1.0, 1.0, 1.0), levels=levels,
        n_levels=n_levels, bin_edges_low=float(field.min()), bin_width=1.0, settings=Settings(texture_dims=dims),
    )


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("family", list(FAMILIES))
def test_texture_family(benchmark, case, family):
    shape, n_levels, dims = CASES[case]
    roi = _roi(shape, n_levels, dims)
    module = FAMILIES[family]
    module.compute(roi)  # compile / load the JIT cache outside the timing
    benchmark.group = f"texture {case}"
    # each round on a copy whose roi.shared is empty: nothing an earlier round computed is reused
    values = benchmark.pedantic(
        module.compute, setup=lambda: ((dataclasses.replace(roi),), {}), rounds=10, iterations=1
    )
    assert values and any(np.isfinite(v) for v in values.values())


@pytest.mark.parametrize("case", list(CASES))
def test_all_six_families(benchmark, case):
    shape, n_levels, dims = CASES[case]
    roi = _roi(shape, n_levels, dims)

    def run(r):
        return [m.compute(r) for m in FAMILIES.values()]

    run(roi)
    benchmark.group = "texture, six families"
    benchmark.pedantic(run, setup=lambda: ((dataclasses.replace(roi),), {}), rounds=10, iterations=1)
