"""Perturbation spaces: full grids, random samples and Latin hypercube samples.

A *space* maps ``"kind.parameter"`` to a specification:

- a list: the discrete values to choose from (``"rotation.angle": [-10, 0, 10]``);
- a table ``{low = ..., high = ...}``: a continuous range (uniform; ``log = true`` for log-uniform);
- anything else: a fixed value (``"noise.scale": 1.0``).

Keys may also be nested by kind: ``{"rotation": {"angle": [-15, 15]}}`` is ``{"rotation.angle": [-15, 15]}``
(a list of two values, not a range: write ``{low = -15, high = 15}`` for a range).

Each sampled point becomes one :class:`~radrepro.perturbations.base.Chain` whose steps are the
kinds in the order they first appear in the space. :func:`grid` enumerates every combination of the
discrete axes; :func:`sample` draws ``budget`` points at random or by Latin hypercube
(``scipy.stats.qmc.LatinHypercube``), deterministic from ``seed``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from radrepro.errors import SettingsError
from radrepro.perturbations.base import Chain, seed_sequence
from radrepro.perturbations.registry import KINDS, chain_from_dicts, parameters

METHODS = ("random", "lhs")


@dataclass(frozen=True)
class _Axis:
    kind: str
    param: str
    values: tuple | None = None  # discrete
    low: float | None = None  # continuous
    high: float | None = None
    log: bool = False
    fixed: Any = None

    @property
    def is_fixed(self) -> bool:
        return self.values is None and self.low is None

    def at(self, u: float) -> Any:
        """The value at quantile ``u`` in [0, 1)."""
        if self.values is not None:
            return self.values[min(int(u * len(self.values)), len(self.values) - 1)]
        if self.log:
            return float(math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low))))
        return float(self.low + u * (self.high - self.low))


def _axes(space: Mapping[str, Any]) -> list[_Axis]:
    if not isinstance(space, Mapping) or not space:
        raise SettingsError("a perturbation space must be a non-empty table of \"kind.parameter\" = values",
                            "e.g. {\"rotation.angle\" = [-10, 0, 10], \"noise.scale\" = {low = 0.5, high = 2}}")
    flat: dict[str, Any] = {}
    for key, spec in space.items():  # nested form: {kind = {parameter = spec}}
        if "." not in str(key) and str(key) in KINDS and isinstance(spec, Mapping) and not {"low", "high"} & set(spec):
            flat.update({f"{key}.{param}": v for param, v in spec.items()})
        else:
            flat[str(key)] = spec
    axes = []
    for key, spec in flat.items():
        kind, _, param = str(key).partition(".")
        if kind not in KINDS:
            raise SettingsError(f"perturbation space key {key!r}: unknown kind {kind!r}",
                                "keys are \"kind.parameter\" with kinds: " + ", ".join(KINDS))
        if param not in parameters(kind):
            raise SettingsError(f"perturbation space key {key!r}: '{kind}' has no parameter {param!r}",
                                f"its parameters are: {', '.join(parameters(kind))}")
        if isinstance(spec, list):
            if not spec:
                raise SettingsError(f"perturbation space key {key!r} has an empty list of values", "give at least one value")
            axes.append(_Axis(kind, param, values=tuple(spec)))
        elif isinstance(spec, Mapping):
            extra = set(spec) - {"low", "high", "log"}
            if extra or "low" not in spec or "high" not in spec:
                raise SettingsError(f"perturbation space key {key!r}: a range is {{low = ..., high = ..., log = false}}",
                                    f"got keys {', '.join(sorted(spec))}")
            low, high, log = spec["low"], spec["high"], bool(spec.get("log", False))
            ok = all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in (low, high))
            if not ok or low > high or (log and low <= 0):
                raise SettingsError(f"perturbation space key {key!r}: range [{low}, {high}] is not valid",
                                    "give finite low <= high (and low > 0 with log = true)")
            axes.append(_Axis(kind, param, low=float(low), high=float(high), log=log))
        else:
            axes.append(_Axis(kind, param, fixed=spec))
    return axes


def _chain(axes: list[_Axis], values: list[Any]) -> Chain:
    steps: dict[str, dict[str, Any]] = {}
    for axis, value in zip(axes, values):
        steps.setdefault(axis.kind, {"kind": axis.kind})[axis.param] = value
    return chain_from_dicts(list(steps.values()))


def grid(space: Mapping[str, Any]) -> list[Chain]:
    """Every combination of the discrete axes (continuous ranges are refused: sample them)."""
    axes = _axes(space)
    for a in axes:
        if a.low is not None:
            raise SettingsError(f"perturbation space axis '{a.kind}.{a.param}' is a continuous range",
                                "a full grid needs lists of values; use sample(space, budget) for ranges")
    choices = [a.values if a.values is not None else (a.fixed,) for a in axes]
    return [_chain(axes, list(point)) for point in itertools.product(*choices)]


def sample(space: Mapping[str, Any], budget: int, method: str = "random", seed: Any = 0) -> list[Chain]:
    """``budget`` chains drawn from ``space``.

    Parameters
    ----------
    space
        See the module docstring.
    budget
        Number of chains (>= 1).
    method
        ``random`` (independent uniform draws per axis) or ``lhs`` (Latin hypercube over the
        non-fixed axes: every axis' range is cut into ``budget`` strata, each used once).
    seed
        Seed; the same seed gives the same chains.
    """
    if isinstance(budget, bool) or not isinstance(budget, (int, np.integer)) or budget < 1:
        raise SettingsError(f"perturbation sampling budget {budget!r} is not valid", "use an integer >= 1")
    if method not in METHODS:
        raise SettingsError(f"perturbation sampling method {method!r} is not valid", "use one of: " + ", ".join(METHODS))
    axes = _axes(space)
    free = [i for i, a in enumerate(axes) if not a.is_fixed]
    rng = np.random.default_rng(seed_sequence(seed))
    if not free:
        u = np.zeros((int(budget), 0))
    elif method == "lhs":
        from scipy.stats import qmc

        u = qmc.LatinHypercube(d=len(free), seed=rng).random(int(budget))
    else:
        u = rng.random((int(budget), len(free)))
    out = []
    for row in u:
        values = [a.fixed for a in axes]
        for j, i in enumerate(free):
            values[i] = axes[i].at(float(row[j]))
        out.append(_chain(axes, values))
    return out
