"""The nightly gate: a run against a baseline run, with the suite's tolerances.

A regression is any of:

- **values**: a feature value beyond its tolerance (``[gate]`` ``rtol``/``atol``, per feature
  ``[gate.features]``), or a value the baseline had that is now missing or NaN;
- **settings**: the settings differ from the baseline's (named, from the MLflow params);
- **IBSI**: fewer IBSI matches than the baseline, beyond ``ibsi_matches_lost``;
- **stability**: a stability summary (fraction of features with excellent or good ICC, median
  ICC/CCC) dropping by more than ``stability_drop``;
- **speed**: median seconds per task of an extractor more than ``speed_ratio`` times the baseline's
  (and at least 1 ms more).

:func:`evaluate` returns a :class:`GateReport` whose ``reasons`` say what regressed; the CLI prints
them, logs them to the run, and exits 1 (:class:`~radrepro.errors.RegressionError`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from radrepro.suites.definition import Suite
from radrepro.tracking.compare import feature_summary, speed_table, value_differences

SPEED_FLOOR_SECONDS = 0.001
_STABILITY_KEYS = ("frac_excellent", "frac_good", "icc_median", "ccc_median")


@dataclass
class GateReport:
    """The gate's verdict against one baseline."""

    baseline: str
    reasons: list[str] = field(default_factory=list)
    differences: pd.DataFrame = field(default_factory=pd.DataFrame)
    speed: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def passed(self) -> bool:
        return not self.reasons

    def text(self) -> str:
        head = f"gate against {self.baseline}: " + ("passed" if self.passed else f"{len(self.reasons)} regression(s)")
        return "\n".join([head, *(f"- {r}" for r in self.reasons)]) + "\n"

    def write(self, path: Path) -> Path:
        path.write_text(self.text())
        return path


def _settings_changes(suite: Suite, params: dict[str, str]) -> list[str]:
    changes = []
    now = suite.settings.to_dict()
    for key, value in sorted(now.items()):
        before = params.get(f"settings.{key}")
        if before is not None and json.loads(before) != value:
            changes.append(f"{key} {before} -> {json.dumps(value)}")
    return changes


def _value_reasons(diffs: pd.DataFrame) -> list[str]:
    reasons = []
    beyond = diffs[diffs["status"] == "beyond"]
    if len(beyond):
        worst = beyond.sort_values("rel_diff", ascending=False, na_position="first")
        shown = ", ".join(
            f"{r.feature} ({r.case}, {r.perturbation}): {r.value:.10g} vs {r.baseline:.10g}"
            for r in worst.head(5).itertuples()
        )
        reasons.append(f"values: {len(beyond)} value(s) of {beyond['feature'].nunique()} feature(s) beyond tolerance, "
                       f"e.g. {shown}")
    lost = diffs[diffs["status"] == "lost"]
    if len(lost):
        cases = ", ".join(sorted(lost["case"].unique())[:5])
        reasons.append(f"values: {len(lost)} value(s) of the baseline missing or NaN now (cases {cases})")
    return reasons


def _speed_reasons(speed: pd.DataFrame, ratio: float) -> list[str]:
    reasons = []
    for r in speed.itertuples():
        if pd.notna(r.ratio) and r.ratio > ratio and r.seconds_median - r.baseline_seconds_median > SPEED_FLOOR_SECONDS:
            reasons.append(f"speed: extractor {r.extractor_name} ({r.convention}) takes {r.seconds_median:.4f} s per task (median) "
                           f"vs {r.baseline_seconds_median:.4f} s in the baseline: x{r.ratio:.2f} > x{ratio:g}")
    return reasons


def _baseline_stability(suite: Suite, baseline_results: pd.DataFrame) -> dict[str, float]:
    from radrepro.suites.analyses import stability_metrics

    try:
        return stability_metrics(suite, baseline_results)
    except Exception:  # noqa: BLE001 - a baseline without perturbations has no stability to compare
        return {}


def _stability_reasons(suite: Suite, metrics: dict[str, float], baseline: dict[str, float]) -> list[str]:
    reasons = []
    for key, now in metrics.items():
        if not key.startswith("stability.") or not key.endswith(_STABILITY_KEYS):
            continue
        before = baseline.get(key)
        if before is None or pd.isna(before) or pd.isna(now):
            continue
        if now < before - suite.gate.stability_drop:
            reasons.append(f"stability: {key} dropped from {before:.4f} to {now:.4f} (allowed drop {suite.gate.stability_drop:g})")
    return reasons


def _ibsi_reasons(suite: Suite, metrics: dict[str, float], baseline: dict[str, float]) -> list[str]:
    reasons = []
    for key, before in baseline.items():
        if not (key.startswith("ibsi.") and key.endswith(".match")) and key != "ibsi.match":
            continue
        now = metrics.get(key, 0.0)
        if now < before - suite.gate.ibsi_matches_lost:
            reasons.append(f"IBSI: {key} {int(now)} matches vs {int(before)} in the baseline")
    return reasons


def evaluate(suite: Suite, results: pd.DataFrame, metrics: dict[str, float], reference) -> GateReport:
    """Compare a run (its results and metrics) with ``reference`` (a :class:`radrepro.tracking.runs.Reference`)."""
    diffs = value_differences(results, reference.results, suite.gate.tolerance)
    report = GateReport(baseline=reference.name, differences=diffs)
    changes = _settings_changes(suite, reference.params)
    if changes:
        report.reasons.append("settings changed: " + "; ".join(changes))
    elif reference.results["settings"].nunique() and set(reference.results["settings"].astype(str)) != set(results["settings"].astype(str)) and len(results):
        report.reasons.append("settings changed: settings digest "
                              f"{', '.join(sorted(set(reference.results['settings'].astype(str))))} -> "
                              f"{', '.join(sorted(set(results['settings'].astype(str))))}")
    report.reasons.extend(_value_reasons(diffs))
    baseline_metrics = dict(reference.metrics)
    if "stability" in suite.analyses:
        baseline_metrics = {**_baseline_stability(suite, reference.results), **baseline_metrics}
    report.reasons.extend(_ibsi_reasons(suite, metrics, baseline_metrics))
    report.reasons.extend(_stability_reasons(suite, metrics, baseline_metrics))
    report.speed = speed_table(results, reference.results)
    report.reasons.extend(_speed_reasons(report.speed, suite.gate.speed_ratio))
    return report


@dataclass
class Comparison:
    """A run against an earlier one, feature by feature (nothing fails)."""

    other: str
    features: pd.DataFrame
    speed: pd.DataFrame
    stability: pd.DataFrame

    def write(self, path: Path) -> Path:
        self.features.to_csv(path, index=False, float_format="%.17g")
        return path


def _feature_comparison(suite: Suite, results: pd.DataFrame, other: pd.DataFrame) -> pd.DataFrame:
    """Per extractor and feature: :func:`radrepro.compare.compare` when available, else the minimal summary."""
    try:
        from radrepro.compare import compare as compare_tables  # the `radrepro compare` command's engine
    except ImportError:
        compare_tables = None
    if compare_tables is None:
        return feature_summary(value_differences(results, other, suite.gate.tolerance))
    name_a = results["extractor"].astype(str).str.split("@").str[0]
    name_b = other["extractor"].astype(str).str.split("@").str[0]
    parts = []
    for name in dict.fromkeys(name_a):
        a, b = results[name_a == name], other[name_b == name]
        if not len(b):
            continue
        table = compare_tables(a, b, rtol=suite.gate.rtol, atol=suite.gate.atol).features
        table.insert(0, "extractor_name", name)
        parts.append(table)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def compare(suite: Suite, results: pd.DataFrame, metrics: dict[str, float], reference) -> Comparison:
    """Per-feature value differences, speed ratio and stability differences against ``reference``."""
    features = _feature_comparison(suite, results, reference.results)
    baseline_metrics = dict(reference.metrics)
    if "stability" in suite.analyses:
        baseline_metrics = {**_baseline_stability(suite, reference.results), **baseline_metrics}
    keys = sorted(k for k in metrics if k.startswith("stability."))
    stability = pd.DataFrame({"metric": keys, "value": [metrics[k] for k in keys],
                              "other": [baseline_metrics.get(k, float("nan")) for k in keys]})
    stability["difference"] = stability["value"] - stability["other"]
    return Comparison(other=reference.name, features=features, speed=speed_table(results, reference.results), stability=stability)
