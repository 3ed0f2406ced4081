#!/usr/bin/env python3
"""Set up radrepro in a virtual environment and run it: the README's two commands.

    python3.11 bootstrap.py run     # install, then run the default suite (offline, a few minutes)
    python3.11 bootstrap.py test    # install, then run the test suite

Anything after the command is passed on (``bootstrap.py run quick --workers 2``,
``bootstrap.py test -k settings``). ``bootstrap.py install`` only installs.

The environment lives in ``.venv`` (override with ``RADREPRO_VENV``). Installation is skipped when
``pyproject.toml`` and ``constraints.txt`` have not changed since the last successful install.

pyradiomics 3.0.1 cannot be installed the plain way on Python 3.11 (its 3.1.0 sdist is broken and
3.0.1 needs numpy at build time), so this script installs numpy first and then pyradiomics with
``--no-build-isolation``, before the project itself.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("RADREPRO_VENV", ROOT / ".venv"))
CONSTRAINTS = ROOT / "constraints.txt"
STAMP = VENV / ".radrepro-install-stamp"


def _bin(name: str) -> Path:
    return VENV / ("Scripts" if os.name == "nt" else "bin") / name


def _pip(*args: str) -> None:
    cmd = [str(_bin("python")), "-m", "pip", "--disable-pip-version-check", *args]
    print("+", " ".join(cmd[2:]), flush=True)
    subprocess.run(cmd, check=True)


def _pinned(package: str) -> str:
    """The exact requirement for ``package`` from constraints.txt."""
    for line in CONSTRAINTS.read_text().splitlines():
        name = line.split("==")[0].strip().lower().replace("_", "-")
        if name == package:
            return line.strip()
    raise SystemExit(f"bootstrap: {package} is not pinned in {CONSTRAINTS}; add it there")


def _fingerprint() -> str:
    h = hashlib.sha256()
    for f in (ROOT / "pyproject.toml", CONSTRAINTS, Path(__file__)):
        h.update(f.read_bytes())
    h.update(sys.version.encode())
    return h.hexdigest()


def install() -> None:
    if sys.version_info[:2] != (3, 11):
        raise SystemExit(
            f"bootstrap: radrepro needs Python 3.11, this is {sys.version.split()[0]}; "
            "run it as `python3.11 bootstrap.py ...`"
        )
    if STAMP.exists() and STAMP.read_text() == _fingerprint():
        return
    if not _bin("python").exists():
        print(f"Creating virtual environment in {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    c = ["-c", str(CONSTRAINTS)]
    _pip("install", "--upgrade", "pip", "setuptools", "wheel")
    # The pyradiomics trap: numpy must already be there, and its build must see it.
    _pip("install", *c, _pinned("numpy"))
    _pip("install", *c, "--no-build-isolation", _pinned("pyradiomics"))
    _pip("install", *c, "-e", f"{ROOT}[test]")
    STAMP.write_text(_fingerprint())


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"install", "run", "test"}:
        print(__doc__)
        return 2
    install()
    command, rest = argv[0], argv[1:]
    if command == "install":
        return 0
    if command == "run":
        cmd = [str(_bin("radrepro")), "run", *rest]
    else:
        cmd = [str(_bin("python")), "-m", "pytest", *rest]
    print("+", " ".join(cmd), flush=True)
    return subprocess.run(cmd, cwd=ROOT).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
