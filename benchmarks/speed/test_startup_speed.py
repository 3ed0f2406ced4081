"""Start-up costs, apart from extraction: ``import radrepro``, ``import radrepro.engine``, JIT compilation.

Issue 10: import of ``radrepro`` under one second; JIT warm-up cached across processes. Each
measurement runs in a fresh Python process (the benchmark's own process has everything imported and
compiled already), single-threaded like the rest of the suite:

- ``test_import``: the seconds the import statement takes inside the fresh process
  (``extra_info['inner_seconds']``; the benchmark's own figure adds interpreter start-up), and the
  five slowest non-standard-library modules imported at the top two levels by
  ``python -X importtime`` (cumulative) in ``extra_info['slowest_imports']``.
- ``test_jit``: one extraction of a small ROI (an ellipsoid of 1,072 voxels) in the IBSI convention
  (all 11 families) and in the pyradiomics convention, twice each, in a fresh process whose numba
  cache (``NUMBA_CACHE_DIR``) is empty (``cold``: every kernel is compiled) or was filled by an
  earlier process (``cached``: kernels are loaded from disk). ``extra_info`` holds the first and
  second call of each convention; first minus second is the compilation (or cache loading) cost,
  plus the modules each convention imports on first use (scipy.ndimage, scipy.spatial, scipy.fft,
  the family modules: most of the cached first call).

Run with ``.venv/bin/python -m pytest benchmarks/speed/test_startup_speed.py --benchmark-only``.
The cold run takes a minute or more (it compiles every kernel); the marker ``startup`` selects or
deselects this file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

import pytest

pytestmark = pytest.mark.startup

IMPORT_SCRIPT = """
import time
t0 = time.perf_counter()
import {module}
print(time.perf_counter() - t0)
"""

JIT_SCRIPT = """
import json, time
t0 = time.perf_counter()
import numpy as np
import SimpleITK as sitk
from radrepro.engine import extract
timings = {"import_engine": time.perf_counter() - t0}
rng = np.random.default_rng(0)
z, y, x = np.mgrid[:14, :18, :18]
inside = ((z - 6.5) / 5) ** 2 + ((y - 8.5) / 7) ** 2 + ((x - 8.5) / 7) ** 2 <= 1
image = sitk.GetImageFromArray(np.round(rng.normal(40, 30, inside.shape)).astype(np.int16))
image.SetSpacing((0.8, 0.8, 1.5))
mask = sitk.GetImageFromArray(inside.astype(np.uint8))
mask.CopyInformation(image)
for convention in ("ibsi", "pyradiomics"):
    for call in ("first", "second"):
        t0 = time.perf_counter()
        n = len(extract(image, mask, None, convention=convention))
        timings[f"{convention}_{call}"] = time.perf_counter() - t0
    timings[f"{convention}_features"] = n
timings["roi_voxels"] = int(inside.sum())
print(json.dumps(timings))
"""


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)  # thread variables pinned to 1 by benchmarks/conftest.py
    env.update(extra)
    return env


def _python(script: str, env: dict[str, str] | None = None, *flags: str) -> subprocess.CompletedProcess:
    out = subprocess.run([sys.executable, *flags, "-c", script], capture_output=True, text=True, env=env or _env(),
                         timeout=900)
    if out.returncode != 0:
        raise RuntimeError(f"subprocess failed:\n{out.stderr[-2000:]}")
    return out


def _slowest_imports(module: str, n: int = 5) -> list[tuple[str, float]]:
    """The ``n`` slowest imports (cumulative seconds) below ``module`` from ``python -X importtime``."""
    err = _python(f"import {module}", None, "-X", "importtime").stderr
    rows = []
    for line in err.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = line.split(":", 1)[1].split("|")
        depth = (len(name) - len(name.lstrip()) - 1) // 2
        name = name.strip()
        stdlib = name.split(".")[0] in sys.stdlib_module_names
        if cumulative.strip().isdigit() and depth <= 1 and name != module and not stdlib:
            rows.append((name, int(cumulative) / 1e6))
    return sorted(rows, key=lambda r: -r[1])[:n]


@pytest.mark.parametrize("module", ["radrepro", "radrepro.engine"])
def test_import(benchmark, record, rounds, module):
    inner: list[float] = []

    def run():
        inner.append(float(_python(IMPORT_SCRIPT.format(module=module)).stdout.strip().splitlines()[-1]))

    benchmark.group = "start-up: import (fresh process)"
    record(kind="import", module=module)
    benchmark.pedantic(run, rounds=rounds(5), iterations=1, warmup_rounds=1)
    measured = inner[1:]
    benchmark.extra_info["inner_seconds"] = measured
    benchmark.extra_info["inner_median"] = sorted(measured)[len(measured) // 2]
    benchmark.extra_info["slowest_imports"] = _slowest_imports(module)
    assert measured


@pytest.mark.parametrize("cache", ["cold", "cached"])
def test_jit(benchmark, record, rounds, tmp_path, cache):
    """A fresh process extracting a small ROI with an empty (cold) or a filled (cached) numba cache."""
    inner: list[dict] = []
    cached_dir = tmp_path / "numba-cache"

    def setup():
        if cache == "cold":
            return (tempfile.mkdtemp(dir=tmp_path, prefix="numba-cold-"),), {}
        return (str(cached_dir),), {}

    def run(cache_dir):
        inner.append(json.loads(_python(JIT_SCRIPT, _env(NUMBA_CACHE_DIR=cache_dir)).stdout.strip().splitlines()[-1]))

    if cache == "cached":
        run(str(cached_dir))  # fill the cache (this process compiles everything)
        inner.clear()
    benchmark.group = "start-up: JIT (fresh process, small ROI, both conventions)"
    record(kind="jit", cache=cache)
    benchmark.pedantic(run, setup=setup, rounds=rounds(1 if cache == "cold" else 3), iterations=1)
    benchmark.extra_info["runs"] = inner
    med = {k: sorted(r[k] for r in inner)[len(inner) // 2] for k in inner[0]}
    benchmark.extra_info["median"] = med
    benchmark.extra_info["compile_seconds"] = {
        c: med[f"{c}_first"] - med[f"{c}_second"] for c in ("ibsi", "pyradiomics")
    }
    assert med["ibsi_features"] > 200 and med["pyradiomics_features"] > 100
