"""Dask at the edge: one code path for a local cluster and an existing one, numba threads, JIT warm-up.

:func:`dask_client` yields a :class:`distributed.Client` either way: connected to ``scheduler``
(an address such as ``tcp://10.0.0.5:8786``) or to a :class:`distributed.LocalCluster` it starts,
sized to the machine (one single-threaded worker process per usable core) or to ``workers``.

numba threads: Dask limits BLAS/OpenMP threads in the worker processes it spawns, not numba's.
radrepro's kernels do not use numba's thread pool (parallelism comes from running cases side by
side), but to keep it so whatever a kernel does, ``NUMBA_NUM_THREADS`` is set in the environment
of spawned workers, a worker plugin sets it on workers of an existing cluster, and every task
sets numba's (per-thread) thread count before it runs.

JIT: kernels are compiled with ``cache=True``. :func:`warm_jit` runs every extractor on tiny ROIs
in the client process first, so the on-disk cache is written once; workers then load it instead of
racing each other to compile and write it (:func:`warm_workers` makes each load it up front).
"""

from __future__ import annotations

import logging
import os
import time
from contextlib import contextmanager
from typing import Any, Iterator

from distributed.diagnostics.plugin import WorkerPlugin

# ITK (SimpleITK's resampling, filters) starts one thread per core unless told otherwise: with one
# worker per core that oversubscribes the machine
_THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "ITK_GLOBAL_DEFAULT_NUMBER_OF_THREADS")


def usable_cores() -> int:
    """Cores this process may run on (the CPU affinity mask, else the CPU count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


class NumbaThreads(WorkerPlugin):
    """Worker plugin: numba, BLAS and ITK thread counts of a worker, set when the plugin is registered."""

    name = "radrepro-numba-threads"

    def __init__(self, threads: int = 1) -> None:
        self.threads = int(threads)

    def setup(self, worker) -> None:
        os.environ["NUMBA_NUM_THREADS"] = str(self.threads)  # effective if numba is not imported yet
        for var in _THREAD_VARS:
            os.environ.setdefault(var, "1")
        import SimpleITK as sitk

        from radrepro.suites.tasks import set_numba_threads

        sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(self.threads)
        set_numba_threads(self.threads)


@contextmanager
def dask_client(
    scheduler: str | None = None,
    workers: int | None = None,
    *,
    numba_threads: int = 1,
    processes: bool = True,
    timeout: float = 60.0,
) -> Iterator[Any]:
    """A Dask client: to ``scheduler`` if given, else to a new local cluster (closed on exit).

    Parameters
    ----------
    scheduler
        Address of a running scheduler (``tcp://host:8786``); ``None`` starts a ``LocalCluster``.
    workers
        Local cluster: number of worker processes (default: one per usable core). Existing
        cluster: wait until at least this many workers are connected.
    numba_threads
        numba threads per worker thread.
    processes
        Local cluster: worker processes (default) or threads in this process.
    timeout
        Seconds to wait for the scheduler and the workers.
    """
    from distributed import Client, LocalCluster

    cluster = None
    if scheduler:
        client = Client(scheduler, timeout=timeout)
        if workers:
            client.wait_for_workers(workers, timeout=timeout)
    else:
        n = workers or usable_cores()
        extra = {}
        if processes:
            extra["env"] = {"NUMBA_NUM_THREADS": str(numba_threads), **{v: "1" for v in _THREAD_VARS}}
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=processes, dashboard_address=":0",
                               silence_logs=logging.ERROR, **extra)
        client = Client(cluster, timeout=timeout)
    try:
        client.register_plugin(NumbaThreads(numba_threads), name=NumbaThreads.name)
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def describe_client(client) -> dict[str, Any]:
    """Scheduler address, number of workers and threads (for provenance)."""
    info = client.scheduler_info()
    workers = info.get("workers", {})
    return {
        "scheduler": info.get("address", ""),
        "workers": len(workers),
        "threads": int(sum(w.get("nthreads", 0) for w in workers.values())),
    }


def worker_threads() -> dict[str, Any]:
    """numba's thread pool size and the thread variables of this process (run on every worker)."""
    import numba

    return {"NUMBA_NUM_THREADS": numba.config.NUMBA_NUM_THREADS, "numba_threads": numba.get_num_threads(),
            **{v: os.environ.get(v, "") for v in _THREAD_VARS}}


# -- JIT warm-up ----------------------------------------------------------------------------------


def _tiny_cases():
    """The IBSI digital phantom and a small random ellipsoid ROI (1 mm voxels, CT-like values)."""
    import numpy as np
    import SimpleITK as sitk

    from radrepro.case import Case
    from radrepro.datasets.phantom import digital_phantom_case

    rng = np.random.default_rng(0)
    z, y, x = np.mgrid[:10, :12, :12]
    inside = ((z - 4.5) / 4) ** 2 + ((y - 5.5) / 5) ** 2 + ((x - 5.5) / 5) ** 2 <= 1
    arr = np.round(rng.normal(40, 30, inside.shape)).astype(np.int16)
    img = sitk.GetImageFromArray(arr)
    img.SetSpacing((0.8, 0.8, 1.5))
    msk = sitk.GetImageFromArray(inside.astype(np.uint8))
    msk.CopyInformation(img)
    return [digital_phantom_case(), Case("warm-ellipsoid", img, msk)]


def warm_jit(settings, extractor_specs, perturbations=()) -> float:
    """Compile (or load) every kernel the suite uses, in this process, on tiny ROIs; seconds taken.

    Run in the client before workers start, so that numba's on-disk cache is written once.
    Failures are ignored: the real tasks report them.
    """
    from radrepro.errors import RadreproError
    from radrepro.suites.tasks import PerturbationSpec, execute

    t0 = time.perf_counter()
    specs = [PerturbationSpec(), *perturbations]
    for case in _tiny_cases():
        for spec in extractor_specs:
            for p in specs:
                try:
                    execute(case, p, spec, settings)
                except (RadreproError, Exception):  # noqa: BLE001 - warm-up is best effort
                    pass
    return time.perf_counter() - t0


def warm_workers(client, settings, extractor_specs, perturbations=()) -> dict[str, float]:
    """Run :func:`warm_jit` on every worker (loads the cache written by the client); seconds per worker."""
    return client.run(warm_jit, settings, list(extractor_specs), list(perturbations))
