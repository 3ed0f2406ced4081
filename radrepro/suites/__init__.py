"""Suites: declared experiments (data sets x perturbations x extractors x analyses) and their runs.

Suite files live in ``benchmarks/suites/`` (``quick``, ``ibsi``, ``nightly``); :func:`load_suite`
reads one by name or path, :func:`run_suite` executes it on Dask, resumably, and logs it to MLflow;
:mod:`radrepro.suites.gate` compares it with a baseline run.
"""

from radrepro.suites.cluster import dask_client, warm_jit
from radrepro.suites.definition import Suite, available_suites, load_suite
from radrepro.suites.runner import RunSummary, run_suite

__all__ = ["Suite", "available_suites", "load_suite", "RunSummary", "run_suite", "dask_client", "warm_jit"]
