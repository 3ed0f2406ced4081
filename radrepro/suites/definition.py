"""Suite files (TOML): what to run, how, and what counts as a regression.

A suite declares every arrow of the pipeline: data sets x perturbations x extractors, the
analyses run on the results, and the tolerances of the nightly gate.

.. code-block:: toml

    name = "quick"
    description = "..."

    [[datasets]]
    card = "synthetic-multicentre"       # a dataset card name
    params = { lesions_per_site = 10 }   # optional overrides of the card's generator
    optional = false                     # true: skip (with a note) when its data is not available
    perturb = true                       # false: only the unperturbed case (e.g. tiny phantoms)

    [settings]                           # radrepro settings (see radrepro.settings.Settings)
    bin_width = 25

    [perturbations]                      # optional; without it every case runs unperturbed
    seed = 0                             # seed of every random perturbation
    unperturbed = true                   # also run each case as it is (perturbation id "none")
    [[perturbations.chains]]             # explicit chains: a list of steps each
    steps = [{ kind = "noise" }]
    [perturbations.sample]               # or/and: sample a perturbation space with a budget
    budget = 8
    method = "lhs"                       # "random" or "lhs"
    space = { rotation = { angle = [-15, 15] } }

    [[extractors]]
    name = "radrepro"                    # a backend of radrepro.extractors.BACKENDS ...
    convention = "ibsi"
    # class = "package.module:Class"    # ... or any importable Extractor class (options below go to it)

    [analyses.ibsi]                      # IBSI compliance on the phantoms
    datasets = ["phantom", "A"]          # default: all
    [analyses.stability]                 # ICC/CCC/wCV per feature over perturbations
    [analyses.harmonisation]             # ComBat across sites on the unperturbed results
    recipe = "combat-site"
    [analyses.models]                    # model performance (needs radrepro.models)
    [analyses.radiogenomics]             # feature-molecular associations (case metadata mol_*)

    [execution]
    retries = 1                          # a task that raises is retried this often, then recorded as failed
    numba_threads = 1                    # numba threads per Dask worker thread

    [gate]                               # tolerances of `radrepro run SUITE --gate BASELINE`
    rtol = 1e-9                          # feature values: |a - b| <= atol + rtol * |b|
    atol = 1e-12
    speed_ratio = 1.5                    # median seconds per task may grow at most this much
    stability_drop = 0.02                # fraction of stable features may drop at most this much
    ibsi_matches_lost = 0                # IBSI matches that may be lost
    [gate.features]                      # per-feature tolerances (fnmatch patterns, first match wins)
    "ih_*" = { rtol = 1e-6 }
"""

from __future__ import annotations

import importlib
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from radrepro.errors import SettingsError
from radrepro.resources import bundled_dir
from radrepro.settings import Settings, settings_from_mapping

_KEYS = {"name", "description", "datasets", "extractors", "settings", "perturbations", "analyses", "gate", "execution"}
_DATASET_KEYS = {"card", "params", "optional", "perturb"}
_PERTURBATION_KEYS = {"seed", "unperturbed", "chains", "sample"}
_CHAIN_KEYS = {"id", "steps"}
_SAMPLE_KEYS = {"budget", "method", "space", "seed"}
_ANALYSES = {
    "ibsi": {"phase", "datasets", "data", "optional"},
    "stability": {"perturbations", "optional"},
    "harmonisation": {"recipe", "perturbations", "diagnostics", "optional"},
    "models": {"optional", "options"},
    "radiogenomics": {"optional", "variables", "site", "icc_threshold", "fdr", "predict", "extractor"},
}
_EXECUTION_KEYS = {"retries", "numba_threads"}
_GATE_KEYS = {"rtol", "atol", "speed_ratio", "stability_drop", "ibsi_matches_lost", "features"}


@dataclass(frozen=True)
class Tolerance:
    """Feature value tolerance: ``|value - baseline| <= atol + rtol * |baseline|``."""

    rtol: float
    atol: float

    def allows(self, value: float, baseline: float) -> bool:
        if math.isnan(value) and math.isnan(baseline):
            return True
        if value == baseline:  # equal infinities
            return True
        return abs(value - baseline) <= self.atol + self.rtol * abs(baseline)


@dataclass(frozen=True)
class Gate:
    """What the nightly gate tolerates (see the module docstring)."""

    rtol: float = 1e-9
    atol: float = 1e-12
    speed_ratio: float = 1.5
    stability_drop: float = 0.02
    ibsi_matches_lost: int = 0
    features: tuple[tuple[str, Tolerance], ...] = ()

    def tolerance(self, feature: str) -> Tolerance:
        """The tolerance of ``feature``: the first matching pattern of ``[gate.features]``, else the default."""
        from fnmatch import fnmatchcase

        for pattern, tol in self.features:
            if fnmatchcase(feature, pattern):
                return tol
        return Tolerance(self.rtol, self.atol)


@dataclass(frozen=True)
class Perturbations:
    """The perturbation section: explicit chains and/or a sampled budget, and the seed."""

    seed: int = 0
    unperturbed: bool = True
    chains: tuple[dict[str, Any], ...] = ()  # {"id": str | None, "steps": [dict, ...]}
    sample: dict[str, Any] | None = None

    @property
    def empty(self) -> bool:
        return not self.chains and not self.sample


@dataclass(frozen=True)
class Execution:
    retries: int = 1
    numba_threads: int = 1


@dataclass(frozen=True)
class Suite:
    """A parsed suite file."""

    name: str
    description: str
    path: Path
    datasets: tuple[dict[str, Any], ...]
    extractors: tuple[dict[str, Any], ...]
    settings: Settings
    perturbations: Perturbations = Perturbations()
    analyses: dict[str, dict[str, Any]] = field(default_factory=dict)
    execution: Execution = Execution()
    gate: Gate = Gate()
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


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


def _unknown(where: str, given: Any, accepted: set[str]) -> None:
    if not isinstance(given, dict):
        raise SettingsError(f"{where} must be a table", "see the suite file format in radrepro/suites/definition.py")
    unknown = set(given) - accepted
    if unknown:
        raise SettingsError(f"{where} has unknown keys: {', '.join(sorted(unknown))}", "accepted keys are: " + ", ".join(sorted(accepted)))


def _number(where: str, value: Any, minimum: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < minimum:
        raise SettingsError(f"{where} must be a number >= {minimum:g}, got {value!r}", f"write e.g. {where.rsplit(' ', 1)[-1]} = 1.5")
    return float(value)


def _integer(where: str, value: Any, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise SettingsError(f"{where} must be an integer >= {minimum}, got {value!r}", f"write e.g. {where.rsplit(' ', 1)[-1]} = {max(minimum, 1)}")
    return value


def _datasets(raw: dict, path: Path) -> tuple[dict[str, Any], ...]:
    datasets = raw.get("datasets", ())
    if not isinstance(datasets, list) or not datasets:
        raise SettingsError(f"suite file {path} declares no datasets", 'add at least one [[datasets]] card = "..."')
    out = []
    for d in datasets:
        _unknown(f"a [[datasets]] entry in {path}", d, _DATASET_KEYS)
        if not isinstance(d.get("card"), str):
            raise SettingsError(f"a [[datasets]] entry in {path} has no 'card'", 'name the dataset card, e.g. card = "synthetic-multicentre"')
        if not isinstance(d.get("params", {}), dict):
            raise SettingsError(f"[[datasets]] {d['card']} in {path}: params must be a table", "e.g. params = { lesions_per_site = 5 }")
        out.append({"card": d["card"], "params": dict(d.get("params", {})), "optional": bool(d.get("optional", False)),
                    "perturb": bool(d.get("perturb", True))})
    return tuple(out)


def _extractors(raw: dict, path: Path) -> tuple[dict[str, Any], ...]:
    extractors = raw.get("extractors", [{"name": "radrepro", "convention": "ibsi"}])
    if not isinstance(extractors, list) or not extractors:
        raise SettingsError(f"suite file {path}: extractors must be a list of tables", 'write [[extractors]] name = "radrepro"')
    out = []
    for e in extractors:
        if not isinstance(e, dict) or not (isinstance(e.get("name"), str) or isinstance(e.get("class"), str)):
            raise SettingsError(f"an [[extractors]] entry in {path} names no backend", 'write name = "radrepro" (or class = "module:Class")')
        out.append(dict(e))
    return tuple(out)


def _perturbations(raw: dict, path: Path) -> Perturbations:
    section = raw.get("perturbations")
    if section is None:
        return Perturbations()
    where = f"suite file {path} [perturbations]"
    _unknown(where, section, _PERTURBATION_KEYS)
    chains = []
    for i, chain in enumerate(section.get("chains", [])):
        _unknown(f"{where} chains[{i}]", chain, _CHAIN_KEYS)
        steps = chain.get("steps")
        if not isinstance(steps, list) or not steps or not all(isinstance(s, dict) for s in steps):
            raise SettingsError(f"{where} chains[{i}] has no steps", 'write steps = [{ kind = "noise" }]')
        chains.append({"id": chain.get("id"), "steps": [dict(s) for s in steps]})
    sample = section.get("sample")
    if sample is not None:
        _unknown(f"{where}.sample", sample, _SAMPLE_KEYS)
        _integer(f"{where}.sample budget", sample.get("budget"), 1)
        if sample.get("method", "lhs") not in ("lhs", "random"):
            raise SettingsError(f"{where}.sample method must be 'lhs' or 'random', got {sample.get('method')!r}", 'write method = "lhs"')
        sample = dict(sample)
    return Perturbations(
        seed=_integer(f"{where} seed", section.get("seed", 0)),
        unperturbed=bool(section.get("unperturbed", True)),
        chains=tuple(chains),
        sample=sample,
    )


def _analyses(raw: dict, path: Path) -> dict[str, dict[str, Any]]:
    section = raw.get("analyses", {})
    where = f"suite file {path} [analyses]"
    _unknown(where, section, set(_ANALYSES))
    out = {}
    for name, options in section.items():
        _unknown(f"{where}.{name}", options, _ANALYSES[name])
        out[name] = dict(options)
    return out


def _execution(raw: dict, path: Path) -> Execution:
    section = raw.get("execution", {})
    where = f"suite file {path} [execution]"
    _unknown(where, section, _EXECUTION_KEYS)
    return Execution(
        retries=_integer(f"{where} retries", section.get("retries", 1)),
        numba_threads=_integer(f"{where} numba_threads", section.get("numba_threads", 1), 1),
    )


def _gate(raw: dict, path: Path) -> Gate:
    section = raw.get("gate", {})
    where = f"suite file {path} [gate]"
    _unknown(where, section, _GATE_KEYS)
    default = Gate()
    rtol = _number(f"{where} rtol", section.get("rtol", default.rtol))
    atol = _number(f"{where} atol", section.get("atol", default.atol))
    features = []
    for pattern, tol in section.get("features", {}).items():
        _unknown(f"{where}.features.{pattern!r}", tol, {"rtol", "atol"})
        features.append((pattern, Tolerance(_number(f"{where}.features rtol", tol.get("rtol", rtol)),
                                            _number(f"{where}.features atol", tol.get("atol", atol)))))
    return Gate(
        rtol=rtol,
        atol=atol,
        speed_ratio=_number(f"{where} speed_ratio", section.get("speed_ratio", default.speed_ratio), 1.0),
        stability_drop=_number(f"{where} stability_drop", section.get("stability_drop", default.stability_drop)),
        ibsi_matches_lost=_integer(f"{where} ibsi_matches_lost", section.get("ibsi_matches_lost", default.ibsi_matches_lost)),
        features=tuple(features),
    )


def load_suite(name_or_path: str | Path) -> Suite:
    """Read a suite by name (``quick``) or by path (``my-suite.toml``).

    Raises
    ------
    radrepro.errors.SettingsError
        Unknown suite, TOML syntax error, unknown keys or values of the wrong type (the message
        names the section and lists the accepted keys).
    """
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
    settings = settings_from_mapping(raw.get("settings", {}), where=f"{path} [settings]")
    return Suite(
        name=raw.get("name", path.stem),
        description=raw.get("description", ""),
        path=path,
        datasets=_datasets(raw, path),
        extractors=_extractors(raw, path),
        settings=settings,
        perturbations=_perturbations(raw, path),
        analyses=_analyses(raw, path),
        execution=_execution(raw, path),
        gate=_gate(raw, path),
        raw=raw,
    )


def build_extractor(spec: dict[str, Any]):
    """The extractor an ``[[extractors]]`` entry describes: a named backend or ``class = "module:Class"``."""
    options = {k: v for k, v in spec.items() if k not in ("name", "class")}
    if "class" in spec:
        module, _, cls = spec["class"].partition(":")
        try:
            return getattr(importlib.import_module(module), cls)(**options)
        except (ImportError, AttributeError) as exc:
            raise SettingsError(f"extractor class {spec['class']!r} cannot be imported ({exc})",
                                'write class = "package.module:Class" importable on every worker') from None
    from radrepro.extractors import get_extractor

    return get_extractor(spec["name"], **options)
