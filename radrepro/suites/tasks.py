"""Extraction tasks: one (case x perturbation x extractor), its content address, and its execution.

A task's key is a hash of everything that decides its numbers: the image content, the mask
content, the settings digest, the perturbation (id, parameters and seed), the extractor
(name, version, convention, suite entry) and radrepro's numeric source code. Two tasks with the same key give the same numbers, so a finished
key is never computed again (:mod:`radrepro.suites.store`).

:func:`execute` runs on a Dask worker: it applies the perturbation, extracts, and returns plain
data (feature names, values, a status dict). It touches no file and no tracking store.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from radrepro.errors import RadreproError

NONE_ID = "none"


@dataclass(frozen=True)
class PerturbationSpec:
    """One perturbation chain as a task sees it.

    Attributes
    ----------
    id
        Stable id (``none`` for the unperturbed case).
    params
        Canonical JSON of the chain's steps (``[]`` for ``none``); stored in the results table.
    steps
        The chain's steps as dicts (what the perturbation module builds the chain from).
    seed
        The suite's perturbation seed (each case's random stream derives from it and the case id).
    """

    id: str = NONE_ID
    params: str = "[]"
    steps: tuple = ()
    seed: int = 0

    @property
    def is_none(self) -> bool:
        return self.id == NONE_ID


@dataclass(frozen=True)
class Task:
    """One extraction task: indices into the suite's cases, perturbations and extractors, and its key."""

    index: int
    key: str
    case: int
    perturbation: int
    extractor: int
    case_id: str = field(compare=False)


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


def file_digest(path: Path, cache: dict | None = None) -> str:
    """sha256 of a file's bytes (16 hex digits); ``cache`` maps (path, size, mtime) to known digests."""
    st = path.stat()
    ident = f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}"
    if cache is not None and ident in cache:
        return cache[ident]
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    digest = h.hexdigest()[:16]
    if cache is not None:
        cache[ident] = digest
    return digest


def content_digest(source: Any, cache: dict | None = None) -> str:
    """Content hash of an image or mask: voxels and geometry for an in-memory image, bytes for a file."""
    if isinstance(source, (str, Path)):
        return "file:" + file_digest(Path(source), cache)
    from radrepro.case import image_digest

    return "image:" + image_digest(source)


#: radrepro's code that decides the numbers of a task (hashed into every key by :func:`code_digest`)
NUMERIC_CODE = ("features", "processing", "conventions", "perturbations", "extractors", "filters",
                "engine.py", "case.py", "settings.py", "registry.py", "_numba.py")


@lru_cache(maxsize=1)
def code_digest() -> str:
    """Hash of radrepro's numeric source files (:data:`NUMERIC_CODE`).

    Part of every task key, so that a change of the code (even without a version bump, as in a
    development checkout) never reuses results computed by the old code.
    """
    import radrepro

    root = Path(radrepro.__file__).resolve().parent
    h = hashlib.sha256()
    for name in NUMERIC_CODE:
        target = root / name
        files = sorted(target.rglob("*.py")) if target.is_dir() else [target] if target.is_file() else []
        for f in files:
            h.update(str(f.relative_to(root)).encode())
            h.update(f.read_bytes())
    return h.hexdigest()[:16]


def task_key(image: str, mask: str, settings: str, perturbation: PerturbationSpec, extractor: str, convention: str,
             spec: dict | None = None) -> str:
    """The content address of one task (32 hex digits).

    ``extractor`` is the backend's ``name@version``; ``spec`` its suite entry (options such as a
    parameter file change the numbers, so they are part of the key too); :func:`code_digest`
    identifies radrepro's numeric code.
    """
    payload = canonical_json({
        "code": code_digest(),
        "image": image,
        "mask": mask,
        "settings": settings,
        "perturbation": {"id": perturbation.id, "params": perturbation.params, "seed": None if perturbation.is_none else perturbation.seed},
        "extractor": extractor,
        "convention": convention,
        "spec": spec or {},
    })
    return hashlib.sha256(payload.encode()).hexdigest()[:32]


# -- on the worker --------------------------------------------------------------------------------

_EXTRACTORS: dict[str, Any] = {}


def _extractor(spec: dict):
    key = canonical_json(spec)
    if key not in _EXTRACTORS:
        from radrepro.suites.definition import build_extractor

        _EXTRACTORS[key] = build_extractor(spec)
    return _EXTRACTORS[key]


def set_numba_threads(n: int) -> int:
    """Set numba's thread count for the calling thread (numba's setting is per thread); return it."""
    import numba

    n = max(1, min(int(n), numba.config.NUMBA_NUM_THREADS))
    if numba.get_num_threads() != n:
        numba.set_num_threads(n)
    return n


def apply_perturbation(case, spec: PerturbationSpec, settings):
    """The perturbed case and the settings to extract it with (unchanged for ``none``)."""
    if spec.is_none:
        return case, settings
    from radrepro.suites.perturbing import perturb

    return perturb(case, spec, settings)


def execute(case, spec: PerturbationSpec, extractor_spec: dict, settings, numba_threads: int = 1) -> dict:
    """Perturb and extract one case; the result as plain data.

    A :class:`~radrepro.errors.RadreproError` (bad input: it would fail again) is returned as a
    failed status. Any other exception propagates, so that Dask retries the task and, after
    the retries, the client records it as failed with its error.

    Returns
    -------
    dict
        ``features`` (list of names), ``values`` (float64 array), ``status`` (``ok``/``failed``),
        ``error``, ``seconds`` (perturbation + extraction wall time), ``worker`` (process id)
        and ``numba_threads``.
    """
    threads = set_numba_threads(numba_threads)
    t0 = time.perf_counter()
    out = {"features": [], "values": np.empty(0), "status": "ok", "error": "", "worker": os.getpid(), "numba_threads": threads}
    try:
        extractor = _extractor(extractor_spec)
        perturbed, settings_used = apply_perturbation(case, spec, settings)
        values = extractor.extract(perturbed, settings_used)
    except RadreproError as exc:
        out.update(status="failed", error=exc.oneline(), seconds=time.perf_counter() - t0)
        return out
    out["seconds"] = time.perf_counter() - t0
    out["features"] = [str(k) for k in values.index]
    out["values"] = np.asarray(values.to_numpy(), dtype=np.float64)
    return out
