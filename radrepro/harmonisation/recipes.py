"""Harmonisation recipes (``harmonisation/*.toml``) and their application to a long results table.

A recipe names a ComBat variant and the metadata columns it reads:

.. code-block:: toml

    name = "combat-site"
    description = "ComBat across sites, keeping the biology label's effect."
    batch = "site"              # metadata column with the batch of every case
    covariates = ["label"]      # metadata columns whose effects are kept (optional)
    # reference = "A"           # optional reference batch (left unchanged)
    parametric = true           # optional, default true
    mean_only = false           # optional, default false
    eb = true                   # optional, default true
    mcombat = false             # optional, default false (needs reference)

Suites refer to a recipe by name (the file's stem) or by path.
"""

from __future__ import annotations

import tomllib
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from radrepro.errors import InputError, SettingsError
from radrepro.harmonisation.combat import ComBat, HarmonisationWarning
from radrepro.harmonisation.diagnostics import harmonisation_diagnostics
from radrepro.resources import bundled_dir
from radrepro.results import check_results

_KEYS = {"name", "description", "batch", "covariates", "reference", "parametric", "mean_only", "eb", "mcombat"}
_BOOLS = ("parametric", "mean_only", "eb", "mcombat")
# results columns that identify one harmonisation problem: same extraction, same perturbation
GROUP_COLUMNS = ("perturbation", "perturbation_params", "extractor", "convention", "settings")


@dataclass(frozen=True)
class Recipe:
    """A ComBat variant and the metadata columns it uses."""

    name: str
    batch: str
    covariates: tuple[str, ...] = ()
    reference: str | None = None
    parametric: bool = True
    mean_only: bool = False
    eb: bool = True
    mcombat: bool = False
    description: str = ""
    path: Path | None = field(default=None, compare=False)

    def estimator(self) -> ComBat:
        """The :class:`ComBat` this recipe describes (array mode: pass batch and covariates)."""
        return ComBat(parametric=self.parametric, mean_only=self.mean_only, eb=self.eb, ref_batch=self.reference, mcombat=self.mcombat)


def recipes_dir() -> Path:
    return bundled_dir("harmonisation")


def available_recipes() -> list[str]:
    """Names of the recipes shipped in ``harmonisation/``."""
    return sorted(p.stem for p in recipes_dir().glob("*.toml"))


def recipe_from_mapping(raw: Mapping[str, Any], where: str = "recipe", path: Path | None = None) -> Recipe:
    """Check a recipe's keys and types; errors name the key and the accepted values."""
    unknown = set(raw) - _KEYS
    if unknown:
        raise SettingsError(f"{where} has unknown keys: {', '.join(sorted(unknown))}", "accepted keys are: " + ", ".join(sorted(_KEYS)))
    if not isinstance(raw.get("batch"), str) or not raw["batch"]:
        raise SettingsError(f"{where} needs batch = \"<metadata column>\"", "name the column that holds each case's site or scanner")
    covariates = raw.get("covariates", [])
    if isinstance(covariates, str):
        covariates = [covariates]
    if not isinstance(covariates, (list, tuple)) or not all(isinstance(c, str) for c in covariates):
        raise SettingsError(f"{where}: covariates must be a list of column names", 'e.g. covariates = ["label", "age"]')
    for key in _BOOLS:
        if key in raw and not isinstance(raw[key], bool):
            raise SettingsError(f"{where}: {key} must be true or false, got {raw[key]!r}", f"write {key} = true or {key} = false")
    reference = raw.get("reference")
    if reference is not None and not isinstance(reference, (str, int)):
        raise SettingsError(f"{where}: reference must be a batch label, got {reference!r}", 'e.g. reference = "A"')
    if raw.get("mcombat") and reference is None:
        raise SettingsError(f"{where}: mcombat = true needs a reference batch", 'add reference = "<batch>"')
    if raw["batch"] in covariates:
        raise SettingsError(f"{where}: the batch column {raw['batch']!r} is also a covariate", "a covariate confounded with batch cannot be kept")
    return Recipe(
        name=str(raw.get("name", path.stem if path else "recipe")),
        batch=raw["batch"],
        covariates=tuple(covariates),
        reference=None if reference is None else str(reference),
        description=str(raw.get("description", "")),
        path=path,
        **{k: raw[k] for k in _BOOLS if k in raw},
    )


def load_recipe(recipe: "Recipe | str | Path | Mapping[str, Any]") -> Recipe:
    """A recipe by name (``combat-site``), path (``my-recipe.toml``) or mapping; a Recipe is returned as is."""
    if isinstance(recipe, Recipe):
        return recipe
    if isinstance(recipe, Mapping):
        return recipe_from_mapping(recipe)
    p = Path(recipe)
    if not (p.suffix == ".toml" and p.is_file()):
        p = recipes_dir() / f"{recipe}.toml"
        if not p.is_file():
            raise SettingsError(f"no harmonisation recipe '{recipe}'", "pass a recipe file path or one of: " + ", ".join(available_recipes()))
    try:
        raw = tomllib.loads(p.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"recipe file {p} cannot be parsed: {exc}", "fix its TOML syntax") from exc
    return recipe_from_mapping(raw, where=f"recipe file {p}", path=p)


def _metadata_by_case(metadata: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    meta = metadata.set_index("case") if "case" in metadata.columns else metadata
    missing = [c for c in columns if c not in meta.columns]
    if missing:
        raise InputError(
            f"metadata lacks the column(s) {', '.join(missing)} named by the recipe",
            "metadata columns are: " + ", ".join(map(str, meta.columns)),
        )
    if meta.index.has_duplicates:
        dup = meta.index[meta.index.duplicated()].unique()[:5]
        raise InputError(f"metadata has more than one row for case(s) {', '.join(map(str, dup))}", "give one row per case")
    meta = meta[columns].copy()
    meta.index = meta.index.astype(str)
    return meta


def harmonise_results(
    results_long: pd.DataFrame,
    metadata: pd.DataFrame,
    recipe: "Recipe | str | Path | Mapping[str, Any]",
    *,
    diagnostics: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Harmonise a long results table with a recipe: the harmonisation step of a suite.

    The table is split into groups of one extraction (same ``perturbation``,
    ``perturbation_params``, ``extractor``, ``convention`` and ``settings``); each group is
    pivoted wide (one row per case, one column per feature) and harmonised on its own with the
    recipe's ComBat, fitted on all the group's cases (this is harmonisation of a whole cohort;
    for prediction, put :class:`ComBat` inside the model's Pipeline instead).

    Features with a missing value for any case of a group are dropped from that group's output
    (ComBat does not estimate around missing values) and counted in the diagnostics. Features
    constant within a batch are passed through unchanged, as R's sva does.

    Parameters
    ----------
    results_long
        The long results table (:mod:`radrepro.results`): at least ``case``, ``feature``, ``value``.
    metadata
        One row per case, indexed by case id or with a ``case`` column, holding the recipe's
        batch and covariate columns (a case's ``Case.metadata``).
    recipe
        A :class:`Recipe`, a recipe name from ``harmonisation/``, a TOML path or a mapping.
    diagnostics
        Compute :func:`harmonisation_diagnostics` per group (a site classifier is cross-validated,
        so this takes a little time).

    Returns
    -------
    harmonised_long, diagnostics
        The harmonised table, same columns and dtypes as ``results_long`` (``value`` replaced);
        and one row per (group, metric) with columns ``recipe``, the group columns,
        ``metric``, ``before``, ``after`` (metrics ``n_cases``, ``n_features``,
        ``n_features_dropped_missing``, ``n_features_passthrough`` and, with ``diagnostics``,
        those of :func:`harmonisation_diagnostics`).

    Raises
    ------
    radrepro.errors.InputError
        Cases without metadata, missing metadata columns, or data ComBat cannot use (see
        :class:`ComBat`).
    radrepro.errors.SettingsError
        A recipe that does not exist or is invalid.
    """
    rec = load_recipe(recipe)
    results = check_results(results_long)
    meta = _metadata_by_case(metadata, [rec.batch, *rec.covariates])
    cases = pd.unique(results["case"].astype(str))
    lacking = [c for c in cases if c not in meta.index]
    if lacking:
        raise InputError(
            f"{len(lacking)} case(s) of the results have no metadata: {', '.join(lacking[:5])}{' ...' if len(lacking) > 5 else ''}",
            "pass metadata with one row per case (the cases' metadata dicts)",
        )
    out_parts, diag_parts = [], []
    for key, group in results.groupby(list(GROUP_COLUMNS), sort=False, dropna=False):
        wide = group.pivot_table(index="case", columns="feature", values="value", aggfunc="first", dropna=False, observed=True)
        wide.index = wide.index.astype(str)
        wide.columns = wide.columns.astype(str)
        complete = wide.columns[wide.notna().all()]
        n_dropped = wide.shape[1] - complete.size
        if n_dropped:
            warnings.warn(
                f"recipe {rec.name}: {n_dropped} feature(s) with missing values dropped for perturbation {key[0]!r}",
                HarmonisationWarning,
                stacklevel=2,
            )
        x = wide[complete]
        m = meta.loc[x.index]
        combat = rec.estimator()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", HarmonisationWarning)  # counted in the diagnostics instead
            xh = combat.fit_transform(x, m[rec.batch], m[list(rec.covariates)] if rec.covariates else None)
        rows = {
            "n_cases": (float(x.shape[0]), float(x.shape[0])),
            "n_features": (float(wide.shape[1]), float(x.shape[1])),
            "n_features_dropped_missing": (0.0, float(n_dropped)),
            "n_features_passthrough": (0.0, float(combat.passthrough_.sum())),
        }
        diag = pd.DataFrame.from_dict(rows, orient="index", columns=["before", "after"])
        if diagnostics:
            diag = pd.concat([diag, harmonisation_diagnostics(x, xh, m[rec.batch], m[list(rec.covariates)] if rec.covariates else None)])
        diag = diag.rename_axis("metric").reset_index()
        for col, val in zip(GROUP_COLUMNS, key):
            diag.insert(0, col, val)
        diag.insert(0, "recipe", rec.name)
        diag_parts.append(diag)
        long = xh.rename_axis(index="case", columns="feature").stack().rename("harmonised").reset_index()
        merged = group.merge(long, on=["case", "feature"], how="inner")
        merged["value"] = merged.pop("harmonised")
        out_parts.append(merged)
    harmonised = check_results(pd.concat(out_parts, ignore_index=True)) if out_parts else check_results(results.iloc[:0])
    diag_all = pd.concat(diag_parts, ignore_index=True) if diag_parts else pd.DataFrame()
    return harmonised, diag_all
