"""Suite files (TOML): what to run.

.. code-block:: toml

    name = "quick"
    description = "..."

    [[datasets]]
    card = "synthetic-multicentre"      # a dataset card name
    params = { lesions_per_site = 10 }  # optional overrides of the card's generator

    [[extractors]]
    name = "radrepro"
    convention = "ibsi"

    [settings]                          # radrepro settings (see radrepro.settings.Settings)
    bin_width = 25
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from radrepro.errors import SettingsError
from radrepro.resources import bundled_dir
from radrepro.settings import Settings, settings_from_mapping

_KEYS = {"name", "description", "datasets", "extractors", "settings", "perturbations", "analyses", "gate"}


@dataclass(frozen=True)
class Suite:
    """A parsed suite file."""

    name: str
    description: str
    path: Path
    datasets: tuple[dict[str, Any], ...]
    extractors: tuple[dict[str, Any], ...]
    settings: Settings
    raw: dict[str, Any] = field(repr=False)


def suites_dir() -> Path:
    return bundled_dir("suites")


def available_suites() -> list[str]:
    return sorted(p.stem for p in suites_dir().glob("*.toml"))


def _resolve(name_or_path: str | Path) -> Path:
    p = Path(name_or_path)
    if p.suffix == ".toml" and p.is_file():
        return p
    candidate = suites_dir() / f"{name_or_path}.toml"
    if candidate.is_file():
        return candidate
    raise SettingsError(
        f"no suite '{name_or_path}'",
        "pass a suite file path or one of: " + ", ".join(available_suites()),
    )


def load_suite(name_or_path: str | Path) -> Suite:
    """Read a suite by name (``quick``) or by path (``my-suite.toml``)."""
    path = _resolve(name_or_path)
    try:
        raw = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"suite file {path} cannot be parsed: {exc}", "fix its TOML syntax") from exc
    unknown = set(raw) - _KEYS
    if unknown:
        raise SettingsError(
            f"suite file {path} has unknown keys: {', '.join(sorted(unknown))}",
            "accepted keys are: " + ", ".join(sorted(_KEYS)),
        )
    datasets = tuple(raw.get("datasets", ()))
    if not datasets:
        raise SettingsError(f"suite file {path} declares no datasets", "add at least one [[datasets]] card = \"...\"")
    for d in datasets:
        if "card" not in d:
            raise SettingsError(f"a [[datasets]] entry in {path} has no 'card'", "name the dataset card, e.g. card = \"synthetic-multicentre\"")
    extractors = tuple(raw.get("extractors", ({"name": "radrepro", "convention": "ibsi"},)))
    settings = settings_from_mapping(raw.get("settings", {}), where=f"{path} [settings]")
    return Suite(
        name=raw.get("name", path.stem),
        description=raw.get("description", ""),
        path=path,
        datasets=datasets,
        extractors=extractors,
        settings=settings,
        raw=raw,
    )
