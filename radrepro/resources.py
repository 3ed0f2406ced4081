"""Where the declarative files at the top of the repository are found.

``datasets/`` (dataset cards), ``benchmarks/suites/`` (suite files) and ``harmonisation/``
(harmonisation recipes) live at the top of the repository so that a reader finds them; a wheel
carries copies under ``radrepro/_bundled/``. A checkout (editable install) reads the top-level folders.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_CHECKOUT = _PACKAGE.parent

_LOCATIONS = {
    "datasets": (_CHECKOUT / "datasets", _PACKAGE / "_bundled" / "datasets"),
    "suites": (_CHECKOUT / "benchmarks" / "suites", _PACKAGE / "_bundled" / "suites"),
    "harmonisation": (_CHECKOUT / "harmonisation", _PACKAGE / "_bundled" / "harmonisation"),
}


def bundled_dir(kind: str) -> Path:
    """The folder of ``kind`` (``datasets``, ``suites`` or ``harmonisation``)."""
    checkout, wheel = _LOCATIONS[kind]
    if checkout.is_dir() and (_CHECKOUT / "pyproject.toml").is_file():
        return checkout
    return wheel
