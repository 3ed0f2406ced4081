"""IBSI compliance checks: radrepro's engine against the IBSI reference values.

One module per IBSI phase, sharing the scoring, the result table and the data location:

- :mod:`radrepro.ibsi.ibsi1`: IBSI 1 (feature definitions): the digital phantom and the CT phantom
  in configurations A-E, scored with the reference workbook's rule;
- :mod:`radrepro.ibsi.scoring`: the workbook's rule (truncated difference, tolerance, verdicts);
- :mod:`radrepro.ibsi.result`: :class:`ComplianceResult` (rows, counts, CSV) and the summary table;
- :mod:`radrepro.ibsi.data`: where the IBSI data is (``--data`` or the data cache).

A phase module has ``DATASETS``, ``run(data_dir, dataset) -> ComplianceResult`` and
``print_summary(result)``; :data:`PHASES` names them, and the ``radrepro ibsi --phase N`` command
uses the one asked for.
"""

from __future__ import annotations

import importlib

from radrepro.errors import SettingsError
from radrepro.ibsi.result import ComplianceResult

# IBSI phase -> module implementing its compliance check
PHASES = {1: "radrepro.ibsi.ibsi1", 2: "radrepro.ibsi.ibsi2"}


def phase_module(phase: int):
    """The module of IBSI phase ``phase``; a SettingsError when that check does not exist yet."""
    if phase not in PHASES:
        raise SettingsError(f"unknown IBSI phase {phase}", "use --phase 1 or --phase 2")
    try:
        return importlib.import_module(PHASES[phase])
    except ModuleNotFoundError as exc:
        if exc.name != PHASES[phase]:
            raise
        raise SettingsError(f"the IBSI {phase} compliance check is not available yet", "use --phase 1") from None


def check_ibsi1(data_dir=None, dataset: str = "all") -> ComplianceResult:
    """Run the IBSI 1 compliance check; see :func:`radrepro.ibsi.ibsi1.run`."""
    from radrepro.ibsi.ibsi1 import run

    return run(data_dir, dataset)


__all__ = ["ComplianceResult", "PHASES", "check_ibsi1", "phase_module"]
