"""pyradiomics image types: radrepro's pyradiomics convention against pyradiomics 3.0.1 (issue 11).

``enableAllImageTypes`` with LoG sigma [1, 2, 3] and every default feature class, on pyradiomics'
lung2 and brain1. Each extractor runs from two in-memory SimpleITK images (read once, outside the
timing), single-threaded (benchmarks/conftest.py). Before timing, every feature pyradiomics returns
is checked against radrepro to 1e-6 relative (and the names must be the same). pyradiomics 3.0.1
yields no LBP3D image here (it needs trimesh and ``scipy.special.sph_harm``, removed in SciPy 1.17);
radrepro computes LBP3D, and those extra names are the only difference allowed. The timed runs
leave LBP3D out on both sides, so that both compute the same 1,688 features (lung2).

Run with ``.venv/bin/python -m pytest benchmarks/speed/test_image_types_speed.py --benchmark-only``.
"""

from __future__ import annotations

import logging

import numpy as np
import pytest

CASES = ("lung2", "brain1")
PARAMS = {"setting": {"binWidth": 25, "sigma": [1, 2, 3]},
          "imageType": {t: {} for t in ("Original", "LoG", "Wavelet", "Square", "SquareRoot", "Logarithm",
                                        "Exponential", "Gradient", "LBP2D", "LBP3D")}}


@pytest.fixture(scope="module")
def images(pyradiomics_data):
    import SimpleITK as sitk

    return {c: (sitk.ReadImage(str(pyradiomics_data / f"{c}_image.nrrd")),
                sitk.ReadImage(str(pyradiomics_data / f"{c}_label.nrrd"))) for c in CASES}


SPEED_PARAMS = {**PARAMS, "imageType": {k: v for k, v in PARAMS["imageType"].items() if k != "LBP3D"}}


def _pyradiomics(image, mask, params=PARAMS):
    from radiomics import featureextractor

    logging.getLogger("radiomics").setLevel(logging.ERROR)
    extractor = featureextractor.RadiomicsFeatureExtractor(params)
    return lambda: {k: float(v) for k, v in extractor.execute(image, mask).items() if not k.startswith("diagnostics")}


def _radrepro(image, mask, params=PARAMS):
    from radrepro.conventions import pyradiomics as conv
    from radrepro.settings import from_pyradiomics

    settings = from_pyradiomics(params)
    return lambda: conv.extract(*conv.load_pair(image, mask, settings), settings)


@pytest.mark.parametrize("case", CASES)
def test_all_image_types_agree(images, case):
    ref = _pyradiomics(*images[case])()
    ours = _radrepro(*images[case])()
    assert set(ref) <= set(ours) and all(k.startswith("lbp-3D") for k in set(ours) - set(ref))
    bad = [k for k in ref if not (np.isclose(ours[k], ref[k], rtol=1e-6, atol=1e-12)
                                  or (np.isnan(ours[k]) and np.isnan(ref[k])))]
    assert not bad, f"{len(bad)} of {len(ref)} differ: {bad[:5]}"


@pytest.mark.parametrize("extractor", ["radrepro-pyradiomics", "pyradiomics"])
@pytest.mark.parametrize("case", CASES)
def test_all_image_types_speed(benchmark, images, record, rounds, case, extractor):
    run = (_radrepro if extractor == "radrepro-pyradiomics" else _pyradiomics)(*images[case], SPEED_PARAMS)
    record(case=case, extractor=extractor, params=SPEED_PARAMS)
    result = benchmark.pedantic(run, rounds=rounds(3), iterations=1, warmup_rounds=1)
    benchmark.extra_info["n_features"] = len(result)
