"""IBSI 1 compliance run speed (pytest-benchmark).

Goal (issue 3): the whole ``radrepro ibsi`` run, all six data sets and all families, under 60 s on
the 2-core development machine. Also times IBSI processing alone (per configuration), the four
intensity families, the morphology family and its exact Moran's I / Geary's C, so that a slow step
can be found.

Run with ``.venv/bin/python -m pytest benchmarks/speed/test_ibsi_speed.py --benchmark-only``
(see benchmarks/README.md). The IBSI data is read from ``$RADREPRO_SHARED_DATA/ibsi``,
``../shared/data/ibsi`` beside the checkout, or radrepro's data cache.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from radrepro.ibsi import ibsi1

ROOT = Path(__file__).resolve().parents[2]


def _data() -> Path:
    env = os.environ.get("RADREPRO_SHARED_DATA")
    for candidate in ([Path(env) / "ibsi"] if env else []) + [ROOT.parent / "shared" / "data" / "ibsi"]:
        if (candidate / ibsi1.REFERENCE).is_file():
            return candidate
    cached = ibsi1.ibsi_data_dir()
    if (cached / ibsi1.REFERENCE).is_file():
        return cached
    pytest.skip("IBSI data not found; run `radrepro datasets fetch ibsi-1-phantoms` or set RADREPRO_SHARED_DATA")


@pytest.fixture(scope="module")
def data() -> Path:
    path = _data()
    ibsi1.run(path, "phantom")  # compile (or load) every numba kernel once, outside the timings
    return path


def test_ibsi1_whole_run(benchmark, data):
    benchmark.group = "IBSI 1 compliance run"
    result = benchmark.pedantic(lambda: ibsi1.run(data, "all"), rounds=3, iterations=1)
    assert len(result.standardised) == 482 + 2 * 346 + 3 * 210


@pytest.fixture(scope="module")
def ct(data):
    from radrepro.case import load_pair

    image, mask = ibsi1.IMAGES["A"]
    return load_pair(data / image, data / mask)


@pytest.mark.parametrize("config", ["A", "B", "C", "D", "E"])
def test_ibsi1_processing(benchmark, ct, config):
    from radrepro.processing import prepare

    benchmark.group = "IBSI 1 processing (prepare, with diagnostics)"
    settings = ibsi1.settings_for(config)
    roi = benchmark.pedantic(lambda: prepare(*ct, settings, diagnostics=True), rounds=5, iterations=1)
    assert roi.int_mask.any()


@pytest.mark.parametrize("family", ["stat", "ih", "ivh", "loc"])
def test_intensity_families_configuration_a(benchmark, ct, family):
    from radrepro.processing import prepare
    from radrepro.registry import family_module

    benchmark.group = "intensity families, configuration A (114,596 voxels)"
    roi = prepare(*ct, ibsi1.settings_for("A"))
    module = family_module(family)
    values = benchmark.pedantic(lambda: module.compute(roi), rounds=10, iterations=1)
    assert values


@pytest.mark.parametrize("config", ["A", "C"])
def test_morphology_family(benchmark, ct, config):
    from radrepro.features import morphology
    from radrepro.processing import prepare

    benchmark.group = "morphology family (mesh, hull, boxes, ellipsoids, Moran's I, Geary's C)"
    roi = prepare(*ct, ibsi1.settings_for(config))
    values = benchmark.pedantic(lambda: morphology.compute(roi), rounds=5, iterations=1)
    assert values["morph_volume"] > 3e5


def test_moran_geary_exact_configuration_a(benchmark, ct):
    from radrepro.features._autocorrelation import moran_geary
    from radrepro.processing import prepare

    benchmark.group = "Moran's I and Geary's C, configuration A (114,596 voxels, exact by FFT)"
    roi = prepare(*ct, ibsi1.settings_for("A"))
    moran, geary = benchmark.pedantic(lambda: moran_geary(roi.image, roi.int_mask, roi.spacing), rounds=5, iterations=1)
    assert abs(moran - 0.0322) <= 0.0002 and abs(geary - 0.863) <= 0.001
