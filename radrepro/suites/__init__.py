"""Suites: declared experiments (data sets x perturbations x extractors x analyses) and their runs.

Suite files live in ``benchmarks/suites/`` (``quick``, ``ibsi``, ``nightly``); :func:`load_suite`
reads one by name or path, :func:`run_suite` executes it.
"""

from radrepro.suites.definition import Suite, load_suite
from radrepro.suites.runner import RunSummary, run_suite

__all__ = ["Suite", "load_suite", "RunSummary", "run_suite"]
