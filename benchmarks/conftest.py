"""Shared setup of the speed suite (``benchmarks/speed``): one thread everywhere, markers, data, records.

Thread pinning happens at the top of this file, which pytest imports before any benchmark module,
so numba, OpenMP, MKL, OpenBLAS and ITK read the variables before they start their thread pools:
every figure is single-threaded (the Dask scaling benchmark starts its own single-threaded workers).
threadpoolctl and SimpleITK's global thread count enforce the same at run time.

Markers (registered here; pick with ``-m``):

- ``large``: the 1e6-voxel x 256-grey-level points of the family scaling grid (``-m "not large"``);
- ``peers``: optional peer extractors (MIRP, Nyxus, flash-radiomics, fastrad), skipped when not installed;
- ``startup``: fresh Python processes (import cost, JIT compilation with an empty vs a warm cache);
- ``dask``: a small suite run on a local Dask cluster of 1 and 2 workers.

``--bench-quick`` cuts every benchmark of the new speed files to one measured round (plus warm-up):
the quick variant in benchmarks/README.md. Every benchmark records the versions, the thread
settings and its case in ``benchmark.extra_info``; the machine's CPU model and load average go into
the JSON's ``machine_info``.
"""

from __future__ import annotations

import os

THREAD_VARS = ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
               "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS", "ITK_GLOBAL_DEFAULT_NUMBER_OF_THREADS")
for _var in THREAD_VARS:
    os.environ[_var] = "1"

import importlib.metadata  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

NUMBA_IMPORTED_BEFORE_PINNING = "numba" in sys.modules
ROOT = Path(__file__).resolve().parents[1]
VERSIONED = ("radrepro", "numpy", "numba", "llvmlite", "SimpleITK", "pyradiomics", "scipy", "dask", "distributed",
             "mirp", "nyxus", "flash-radiomics", "fastrad")


def pytest_addoption(parser):
    parser.addoption("--bench-quick", action="store_true", default=False,
                     help="radrepro speed suite: one measured round per benchmark (quick variant)")


def pytest_configure(config):
    for line in (
        "large: 1e6-voxel x 256-grey-level points of the family scaling grid (deselect with -m 'not large')",
        "peers: optional peer extractors (MIRP, Nyxus, flash-radiomics, fastrad); skipped when not installed",
        "startup: fresh Python processes (import cost, JIT compilation cold vs cached)",
        "dask: a small suite on a local Dask cluster of 1 and 2 workers",
    ):
        config.addinivalue_line("markers", line)


@pytest.fixture(scope="session", autouse=True)
def single_thread():
    """BLAS/OpenMP pools (threadpoolctl), numba and SimpleITK at one thread for the whole session."""
    from threadpoolctl import threadpool_limits

    import numba
    import SimpleITK as sitk

    sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(1)
    numba.set_num_threads(1)
    with threadpool_limits(limits=1):
        yield


@pytest.fixture(scope="session")
def rounds(request):
    """``rounds(n)``: ``n`` measured rounds, or 1 with ``--bench-quick``."""
    quick = request.config.getoption("--bench-quick")
    return lambda n: 1 if quick else n


def versions() -> dict[str, str]:
    out = {"python": sys.version.split()[0]}
    for name in VERSIONED:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pass
    return out


def thread_settings() -> dict[str, str]:
    import numba

    return {**{v: os.environ.get(v, "") for v in THREAD_VARS}, "numba_threads": str(numba.get_num_threads()),
            "numba_imported_before_pinning": str(NUMBA_IMPORTED_BEFORE_PINNING).lower()}


@pytest.fixture
def record(benchmark):
    """``record(**info)``: store the case/settings ``info``, versions and thread settings in ``extra_info``."""
    def _record(**info):
        benchmark.extra_info.update(info)
        benchmark.extra_info["versions"] = versions()
        benchmark.extra_info["threads"] = thread_settings()

    return _record


def shared_data_root() -> Path:
    env = os.environ.get("RADREPRO_SHARED_DATA")
    return Path(env) if env else ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def pyradiomics_data() -> Path:
    path = shared_data_root() / "pyradiomics" / "data"
    if not (path / "lung1_image.nrrd").is_file():
        pytest.skip(f"pyradiomics' test data not found at {path}; set RADREPRO_SHARED_DATA (see tests/conftest.py)")
    return path


@pytest.fixture(scope="session")
def ibsi_data() -> Path:
    from radrepro.ibsi import ibsi1

    path = shared_data_root() / "ibsi"
    if not (path / ibsi1.IMAGES["A"][0]).is_file():
        pytest.skip(f"IBSI data not found at {path}; run `radrepro datasets fetch ibsi-1-phantoms` "
                    "or set RADREPRO_SHARED_DATA")
    return path


def _cpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return ""
    for line in out.splitlines():
        if line.startswith("Model name:"):
            return line.split(":", 1)[1].strip()
    return ""


def pytest_sessionstart(session):
    session.config._radrepro_load_at_start = list(os.getloadavg())


def pytest_benchmark_update_machine_info(config, machine_info):
    machine_info["cpu_model"] = _cpu_model()
    machine_info["cores"] = os.cpu_count()
    machine_info["load_average_at_start"] = getattr(config, "_radrepro_load_at_start", None)
    machine_info["threads"] = {v: os.environ.get(v, "") for v in THREAD_VARS}


def pytest_benchmark_update_json(config, benchmarks, output_json):
    output_json["machine_info"]["load_average_at_end"] = list(os.getloadavg())
    output_json["command"] = " ".join(["python -m pytest", *config.invocation_params.args])
