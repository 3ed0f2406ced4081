"""Whole-case extraction: radrepro (IBSI and pyradiomics conventions) against pyradiomics 3.0.1 and peers.

Issue 10. Cases: pyradiomics' lung2, lung1 and brain1 (image + label NRRD) and the IBSI 1 CT
phantom. Comparable settings for every extractor: the Original image only, fixed bin width 25, no
resampling, no re-segmentation, 3D texture, pyradiomics' ``additionalInfo`` off (radrepro's
defaults are these). Images are read with SimpleITK once, before any timing: what is timed is the
extraction from two in-memory SimpleITK images (pyradiomics: ``RadiomicsFeatureExtractor.execute``
with the extractor built beforehand). Everything runs single-threaded (benchmarks/conftest.py).

- ``test_case_extraction``: the whole feature set of each extractor (radrepro IBSI convention: all
  11 families, 215 features; pyradiomics convention and pyradiomics: its default 107 features).
- ``test_class_extraction``: one pyradiomics feature class at a time (shape, firstorder, glcm, glrlm,
  glszm, gldm, ngtdm), the whole pipeline for that class, in pyradiomics and in radrepro's
  pyradiomics convention: the per-family ratios of ``benchmarks/summary.py``.
- Peers (marker ``peers``): MIRP, Nyxus and flash-radiomics through radrepro's optional backends
  (``pip install radrepro[peers]``); fastrad (PyTorch) when installed by hand: ``pip install torch
  --index-url https://download.pytorch.org/whl/cpu`` then ``pip install fastrad`` (it has no radrepro
  backend: its ``FeatureExtractor.extract`` on CPU tensors made before timing, PyTorch at one thread,
  is timed; one measured round after a warm-up). Their backends hand files to the peer, so their figures include writing and reading
  two NIfTI files; ``extra_info['peer_seconds']`` is the peer's own call (reading included), which
  ``benchmarks/summary.py`` reports. MIRP gets the re-segmentation range ``[ROI minimum, inf)``
  (its fixed bin size needs a lower bound; the bins are then radrepro's). Nyxus computes its
  ``*3D_ALL*`` set (213 features; its 3D GLCM alone is most of its time). flash-radiomics, a
  pyradiomics fork, is run like pyradiomics: the same parameters (``additionalInfo`` off) asking for
  pyradiomics' 107 default features, its extractor built beforehand, its ``execute`` on the
  in-memory SimpleITK images timed (which includes the HDF5 file it writes of every extraction).

Run with ``.venv/bin/python -m pytest benchmarks/speed/test_case_speed.py --benchmark-only``.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import tempfile
import warnings

import numpy as np
import pytest

from radrepro.settings import Settings

CASES = ("lung2", "lung1", "brain1", "ibsi_ct")
SETTINGS = Settings()  # Original image, fixed bin width 25, no resampling, 3D texture
PYRADIOMICS_CLASSES = ("shape", "firstorder", "glcm", "glrlm", "glszm", "gldm", "ngtdm")
EXTRACTORS = ("radrepro-ibsi", "radrepro-pyradiomics", "pyradiomics")
PEERS = {  # name -> (module to find, how to run it)
    "mirp": ("mirp", "backend"),
    "nyxus": ("nyxus", "backend"),
    "flash-radiomics": ("flash_radiomics", "backend"),
    "fastrad": ("fastrad", "torch"),
}
# flash-radiomics writes an HDF5 file of every extraction (image, mask, features): into this folder
_FLASH_HDF5 = tempfile.TemporaryDirectory(prefix="radrepro-bench-flash-")
ROUNDS = {"radrepro-ibsi": 5, "radrepro-pyradiomics": 10, "pyradiomics": 5, "mirp": 1, "nyxus": 3, "flash-radiomics": 5, "fastrad": 1}


@pytest.fixture(scope="module")
def images(pyradiomics_data, ibsi_data):
    """case -> (image, mask, description) as SimpleITK images, read once, outside every timing."""
    import SimpleITK as sitk

    from radrepro.ibsi import ibsi1

    out = {}
    for case in CASES:
        if case == "ibsi_ct":
            img_path, msk_path = (ibsi_data / p for p in ibsi1.IMAGES["A"])
        else:
            img_path, msk_path = pyradiomics_data / f"{case}_image.nrrd", pyradiomics_data / f"{case}_label.nrrd"
        img, msk = sitk.ReadImage(str(img_path)), sitk.ReadImage(str(msk_path))
        out[case] = (img, msk, {
            "case": case, "image": img_path.name, "image_size": list(img.GetSize()),
            "spacing_mm": [round(s, 4) for s in img.GetSpacing()],
            "roi_voxels": int(np.count_nonzero(sitk.GetArrayViewFromImage(msk) == SETTINGS.label)),
            "roi_min": float(sitk.GetArrayViewFromImage(img)[sitk.GetArrayViewFromImage(msk) == SETTINGS.label].min()),
        })
    return out


def pyradiomics_parameters(families: tuple[str, ...] | None = None) -> dict:
    """pyradiomics' parameters for :data:`SETTINGS` (``additionalInfo`` off), optionally one class."""
    from radrepro.extractors.pyradiomics_backend import pyradiomics_params

    params = pyradiomics_params(SETTINGS if families is None else SETTINGS.replace(families=families))
    params["setting"]["additionalInfo"] = False
    return params


def _runner(extractor: str, img, msk, families: tuple[str, ...] | None = None):
    """A no-argument callable extracting ``img``/``msk`` with ``extractor``, and its settings record."""
    if extractor.startswith("radrepro-"):
        from radrepro.engine import extract

        convention = extractor.split("-", 1)[1]
        settings = SETTINGS if families is None else SETTINGS.replace(families=families)
        return (lambda: extract(img, msk, settings, convention=convention)), settings.to_dict()
    if extractor in ("pyradiomics", "flash-radiomics"):
        from radrepro.extractors.pyradiomics_backend import _build_extractor, quiet_pyradiomics

        params = pyradiomics_parameters(families)
        package = "radiomics"
        if extractor == "flash-radiomics":  # a pyradiomics fork: the same parameters, pyradiomics' 107 features
            import flash_radiomics  # noqa: F401 - sets its logger up before quiet_pyradiomics silences it

            from radrepro.extractors.flash_backend import _pyradiomics_default_features

            params["featureClass"] = _pyradiomics_default_features()
            params["setting"]["hdf5OutputDirectory"] = _FLASH_HDF5.name  # it writes one per extraction
            package = "flash_radiomics"
        with quiet_pyradiomics():
            ex = _build_extractor(params, package)

        def run():
            with quiet_pyradiomics():
                return ex.execute(img, msk, label=SETTINGS.label)

        return run, params
    raise ValueError(extractor)


def _fastrad_runner(img, msk):
    """fastrad's ``FeatureExtractor.extract`` on the case as PyTorch CPU tensors (its pyradiomics classes,
    bin width 25), with PyTorch at one thread."""
    import SimpleITK as sitk
    import torch
    from fastrad import FeatureExtractor, FeatureSettings, Mask, MedicalImage

    torch.set_num_threads(1)
    spacing = tuple(float(v) for v in img.GetSpacing()[::-1])  # (z, y, x)
    image = MedicalImage(torch.from_numpy(sitk.GetArrayFromImage(img).astype(np.float32)), spacing)
    mask = Mask(torch.from_numpy((sitk.GetArrayFromImage(msk) == SETTINGS.label).astype(np.float32)), spacing)
    settings = FeatureSettings(device="cpu", bin_width=float(SETTINGS.bin_width))
    extractor = FeatureExtractor(settings)

    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # its note on anisotropic spacing
            return extractor.extract(image, mask)

    return run, {"feature_classes": settings.feature_classes, "bin_width": settings.bin_width, "device": "cpu"}


def _count(result) -> int:
    return sum(1 for k in result.keys() if not str(k).startswith("diagnostics_"))


@pytest.mark.parametrize("extractor", EXTRACTORS)
@pytest.mark.parametrize("case", CASES)
def test_case_extraction(benchmark, record, rounds, images, case, extractor):
    img, msk, info = images[case]
    run, settings = _runner(extractor, img, msk)
    benchmark.group = f"case {case}"
    record(kind="case", extractor=extractor, settings=settings, **info)
    result = benchmark.pedantic(run, rounds=rounds(ROUNDS[extractor]), iterations=1, warmup_rounds=1)
    benchmark.extra_info["n_features"] = _count(result)
    assert _count(result) >= 100


@pytest.mark.parametrize("extractor", ["radrepro-pyradiomics", "pyradiomics"])
@pytest.mark.parametrize("cls", PYRADIOMICS_CLASSES)
@pytest.mark.parametrize("case", CASES)
def test_class_extraction(benchmark, record, rounds, images, case, cls, extractor):
    img, msk, info = images[case]
    run, settings = _runner(extractor, img, msk, families=(cls,))
    benchmark.group = f"class {cls}, case {case}"
    record(kind="class", extractor=extractor, family=cls, settings=settings, **info)
    n = rounds(3 if extractor == "pyradiomics" else 5)
    result = benchmark.pedantic(run, rounds=n, iterations=1, warmup_rounds=1)
    benchmark.extra_info["n_features"] = _count(result)
    assert _count(result) > 0


@pytest.mark.peers
@pytest.mark.parametrize("peer", list(PEERS))
@pytest.mark.parametrize("case", CASES)
def test_peer_extraction(benchmark, record, rounds, images, case, peer):
    module, how = PEERS[peer]
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{peer} is not installed (optional peer; never part of the default install)")
    if how is None:
        pytest.skip(f"{peer} is installed but radrepro has no backend for it yet")
    from radrepro.case import Case
    from radrepro.extractors import get_extractor

    img, msk, info = images[case]
    if peer == "flash-radiomics":  # like pyradiomics: the extractor built once, its execute timed
        run, settings = _runner(peer, img, msk)
        benchmark.group = f"case {case}"
        record(kind="case", extractor=peer, settings=settings, peer_version=get_extractor(peer).version, **info)
        result = benchmark.pedantic(run, rounds=rounds(ROUNDS[peer]), iterations=1, warmup_rounds=1)
        benchmark.extra_info["n_features"] = _count(result)
        assert _count(result) == 107
        return
    if peer == "fastrad":  # PyTorch on the CPU, one thread; tensors made before timing, its extract timed
        run, settings = _fastrad_runner(img, msk)
        benchmark.group = f"case {case}"
        record(kind="case", extractor=peer, settings=settings, peer_version=importlib.metadata.version("fastrad"), **info)
        result = benchmark.pedantic(run, rounds=rounds(ROUNDS[peer]), iterations=1, warmup_rounds=1)
        benchmark.extra_info["n_features"] = len(result)
        assert len(result) >= 100
        return
    backend = get_extractor(peer)
    case_obj = Case(case, img, msk)
    settings = SETTINGS
    if peer == "mirp":  # MIRP's fixed bin size needs the range's lower bound: the ROI minimum, as radrepro's default
        settings = SETTINGS.replace(reseg_range=(info["roi_min"], None))
    seconds = []

    def run():
        out = backend.extract(case_obj, settings)
        seconds.append(out.attrs.get("seconds"))
        return out

    # MIRP has no JIT: its one-off cost is importing it (and ITK), done here; a warm-up round would
    # add tens of seconds per case to the suite
    warmup = 0 if peer == "mirp" else 1
    if peer == "mirp":
        from radrepro.extractors.mirp_backend import _import_mirp

        _import_mirp()
    benchmark.group = f"case {case}"
    record(kind="case", extractor=peer, settings=settings.to_dict(), peer_version=backend.version, **info)
    result = benchmark.pedantic(run, rounds=rounds(ROUNDS[peer]), iterations=1, warmup_rounds=warmup)
    benchmark.extra_info["n_features"] = int(result.notna().sum())
    benchmark.extra_info["peer_seconds"] = seconds[warmup:]
    assert result.notna().sum() > 0
