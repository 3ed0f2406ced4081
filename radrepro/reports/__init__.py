"""Reports from one MLflow run: tables (CSV, Markdown, LaTeX), figures (PNG, SVG), HTML, provenance, citations.

:func:`build_report` is the entry point (``radrepro report RUN_ID``); the artifacts a report
reads are listed in :mod:`radrepro.reports.run_data`.
"""

from __future__ import annotations

__all__ = ["build_report", "write_report"]


def __getattr__(name: str):
    if name in __all__:
        from radrepro.reports import build

        return getattr(build, name)
    raise AttributeError(f"module 'radrepro.reports' has no attribute {name!r}")
