"""What every run records about where its numbers came from."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

import radrepro

PACKAGES = ("numpy", "numba", "llvmlite", "SimpleITK", "pyradiomics", "dask", "distributed", "mlflow",
            "pandas", "scipy", "scikit-learn", "pyarrow", "pingouin", "statsmodels", "pydicom", "highdicom",
            "tcia_utils", "PyWavelets", "matplotlib")


def versions() -> dict[str, str]:
    """Installed versions of radrepro and the packages that shape its numbers."""
    out = {"radrepro": radrepro.__version__, "python": platform.python_version()}
    for pkg in PACKAGES:
        try:
            out[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def git_state(path: Path | None = None) -> dict[str, str]:
    """Commit and dirty state of the radrepro checkout (empty values outside a git checkout)."""
    root = Path(path or Path(radrepro.__file__).resolve().parent.parent)
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10)
        if commit.returncode != 0:
            return {"git_commit": "", "git_dirty": ""}
        status = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                                capture_output=True, text=True, timeout=10)
        return {"git_commit": commit.stdout.strip(), "git_dirty": str(bool(status.stdout.strip())).lower()}
    except (OSError, subprocess.TimeoutExpired):
        return {"git_commit": "", "git_dirty": ""}


def machine() -> dict[str, str]:
    """The machine: OS, CPU, core count (no host name: it can identify a person or a hospital)."""
    return {
        "os": f"{platform.system()} {platform.release()}",
        "cpu": platform.processor() or platform.machine(),
        "cores": str(os.cpu_count()),
        "numba_threads": os.environ.get("NUMBA_NUM_THREADS", ""),
    }


def dataset_cards(names: list[str]) -> dict[str, dict[str, str]]:
    """Checksum (sha256 of the card file), DOI and citation of each dataset card."""
    from radrepro.datasets.cards import get_card

    out = {}
    for name in names:
        card = get_card(name)
        out[name] = {"sha256": card.checksum, "doi": card.doi, "citation": card.citation, "licence": card.licence}
    return out


def environment() -> str:
    """Every installed distribution as ``name==version`` lines (the run's environment artifact)."""
    dists = {(d.metadata["Name"] or "?"): d.version for d in importlib.metadata.distributions()}
    return "\n".join(f"{n}=={v}" for n, v in sorted(dists.items(), key=lambda kv: kv[0].lower())) + "\n"


def provenance(*, suite: Any, cards: list[str], seeds: dict[str, Any], execution: dict[str, Any],
               notes: list[str]) -> dict[str, Any]:
    """The provenance record of a suite run (written as ``provenance.json``)."""
    return {
        "suite": {"name": suite.name, "path": str(suite.path), "settings": suite.settings.to_dict(),
                  "settings_digest": suite.settings.digest(), "extractors": list(suite.extractors)},
        "versions": versions(),
        "git": git_state(),
        "machine": machine(),
        "execution": execution,
        "datasets": dataset_cards(cards),
        "seeds": seeds,
        "notes": notes,
    }
