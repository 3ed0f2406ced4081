"""The report's figures, sized for one column of a paper (3.5 in wide, 8 pt text), Agg backend.

Each function returns a matplotlib Figure; :func:`save` writes it as PNG (300 dpi) and SVG.
"""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: reports are built on servers and in CI

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

COLUMN_WIDTH = 3.5  # inches: one column of a two-column journal page
STYLE = {
    "font.size": 8, "axes.titlesize": 8, "axes.labelsize": 8, "xtick.labelsize": 7, "ytick.labelsize": 7,
    "legend.fontsize": 7, "axes.spines.top": False, "axes.spines.right": False, "svg.hashsalt": "radrepro",
    "svg.fonttype": "none",
}
SITE_COLOURS = plt.get_cmap("tab10").colors
# the usual abbreviations, so that family names fit a column-wide figure
FAMILY_LABELS = {
    "Grey level co-occurrence matrix": "GLCM", "Grey level run length matrix": "GLRLM", "Grey level size zone matrix": "GLSZM",
    "Grey level distance zone matrix": "GLDZM", "Neighbourhood grey tone difference matrix": "NGTDM",
    "Neighbouring grey level dependence matrix": "NGLDM", "Intensity-based statistics": "Intensity statistics",
    "Intensity-volume histogram": "Intensity-volume hist.",
}


def _figure(height: float, ncols: int = 1, nrows: int = 1, width: float = COLUMN_WIDTH, **kw):
    with plt.rc_context(STYLE):
        return plt.subplots(nrows, ncols, figsize=(width, height), constrained_layout=True, **kw)


def save(fig, stem: Path) -> list[Path]:
    """Write ``stem.png`` (300 dpi) and ``stem.svg``; close the figure."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    out = []
    with plt.rc_context(STYLE):
        for ext, kw in (("png", {"dpi": 300}), ("svg", {"metadata": {"Date": None}})):
            path = stem.with_suffix(f".{ext}")
            fig.savefig(path, **kw)
            out.append(path)
    plt.close(fig)
    return out


def png_bytes(path: Path) -> bytes:
    return Path(path).read_bytes()


def icc_by_family(frame: pd.DataFrame, icc_name: str = "ICC"):
    """Box plot of the ICC per family, points overlaid, with the Koo & Li class bounds."""
    fams = frame.groupby("family")["icc"].median().sort_values(ascending=False).index.tolist()
    fig, ax = _figure(0.18 * len(fams) + 0.9)
    with plt.rc_context(STYLE):
        data = [frame.loc[frame["family"] == f, "icc"].dropna().clip(-0.2, 1.0).to_numpy() for f in fams]
        ax.boxplot(data, orientation="horizontal", widths=0.6, showfliers=False, medianprops={"color": "black"})
        rng = np.random.default_rng(0)
        for i, d in enumerate(data, start=1):
            ax.scatter(d, i + rng.uniform(-0.18, 0.18, d.size), s=4, alpha=0.5, color="tab:blue", linewidths=0)
        for bound in (0.5, 0.75, 0.9):
            ax.axvline(bound, color="grey", lw=0.6, ls="--")
        ax.set_yticks(range(1, len(fams) + 1), [_short(FAMILY_LABELS.get(f, f), 24) for f in fams])
        ax.invert_yaxis()
        ax.set_xlabel(f"{icc_name} (dimensionless)")
        ax.set_xlim(min(-0.05, float(np.nanmin(frame["icc"].clip(-0.2)))) if len(frame) else 0, 1.0)
    return fig


def _short(text: str, n: int) -> str:
    text = str(text)
    return text if len(text) <= n else text[: n - 1] + "…"


def combat_by_site(results: pd.DataFrame, harmonised: pd.DataFrame, site: pd.Series, n_features: int = 3):
    """Box plots by site of the features with the strongest site effect, before and after ComBat."""
    from scipy import stats

    site = site.copy()
    site.index = site.index.astype(str)
    before = results[results["perturbation"] == "none"] if "perturbation" in results else results
    if "extractor" in harmonised.columns and harmonised["extractor"].nunique() > 1:  # one extractor's features
        first = harmonised["extractor"].iloc[0]
        harmonised = harmonised[harmonised["extractor"] == first]
        before = before[before["extractor"] == first] if "extractor" in before.columns else before
    wb = before.pivot_table(index="case", columns="feature", values="value", aggfunc="first")
    wa = harmonised.pivot_table(index="case", columns="feature", values="value", aggfunc="first")
    wb.index, wa.index = wb.index.astype(str), wa.index.astype(str)
    cases = [c for c in wa.index if c in wb.index and c in site.index]
    feats = [f for f in wa.columns if f in wb.columns and np.ptp(wb.loc[cases, f].to_numpy(dtype=float)) > 0]
    s = site.loc[cases].astype(str)
    levels = sorted(s.unique())
    scores = {}
    for f in feats:
        groups = [wb.loc[cases, f][(s == lv).to_numpy()].to_numpy(dtype=float) for lv in levels]
        try:
            scores[f] = stats.kruskal(*groups).statistic
        except ValueError:
            continue
    top = sorted(scores, key=scores.get, reverse=True)[:n_features]
    fig, axes = _figure(1.25 * len(top) + 0.4, ncols=2, nrows=max(len(top), 1), squeeze=False, sharey="row")
    with plt.rc_context(STYLE):
        for i, f in enumerate(top):
            for j, (w, name) in enumerate(((wb, "before ComBat"), (wa, "after ComBat"))):
                ax = axes[i, j]
                data = [w.loc[cases, f][(s == lv).to_numpy()].to_numpy(dtype=float) for lv in levels]
                bp = ax.boxplot(data, widths=0.6, showfliers=False, patch_artist=True, medianprops={"color": "black"})
                for patch, colour in zip(bp["boxes"], SITE_COLOURS):
                    patch.set_facecolor(colour)
                    patch.set_alpha(0.6)
                ax.set_xticks(range(1, len(levels) + 1), levels)
                if i == 0:
                    ax.set_title(name)
                if i == len(top) - 1:
                    ax.set_xlabel("site")
                if j == 0:
                    ax.set_ylabel(_short(f, 22) + f"\n({_unit(f)})")
    return fig


def _unit(feature: str) -> str:
    """Unit of a feature's value where the IBSI family fixes it, else 'a.u.' (arbitrary units)."""
    f = str(feature)
    if f.startswith(("stat_mean", "stat_median", "stat_min", "stat_max", "stat_p10", "stat_p90", "stat_range", "stat_iqr",
                     "stat_mad", "stat_rmad", "stat_medad", "stat_rms", "loc_peak")):
        return "HU"
    if f.startswith("stat_var"):
        return "HU²"
    if f.startswith("morph_vol") or f == "morph_volume":
        return "mm³"
    if f.startswith("morph_area"):
        return "mm²"
    return "a.u."


SHORT = {"ComBat in fold": "in-fold ComBat", "ComBat on all data (leaky)": "leaky ComBat", "none": "no ComBat",
         "repeated CV": "CV", "leave-one-site-out": "LOSO", "random_forest": "RF", "logistic": "LR"}
HARM_COLOURS = {"none": "tab:grey", "ComBat in fold": "tab:blue", "ComBat on all data (leaky)": "tab:red"}


def _group_label(row: pd.Series, varying: list[str]) -> str:
    parts = []
    for c in varying:
        v = str(row[c])
        if c == "extractor":
            v = v.split("@")[0]
        elif c == "features" and v.startswith("stable"):
            v = "stable"
        elif c == "perturbation":
            v = "as acquired" if v == "none" else _short(v, 16)
        parts.append(SHORT.get(v, v))
    text = ", ".join(parts)
    if len(text) > 22 and len(parts) > 1:  # two lines keep the plot wide at column width
        half = (len(parts) + 1) // 2
        text = ", ".join(parts[:half]) + "\n" + ", ".join(parts[half:])
    return text


def auc_comparison(table: pd.DataFrame):
    """AUC and 95% CI per model variant: one row per group, harmonisations side by side in colour.

    With several classifiers only the first is drawn (the table has them all), so that the figure
    stays readable at column width.
    """
    t = table.reset_index(drop=True)
    if "classifier" in t.columns and t["classifier"].nunique() > 1:
        t = t[t["classifier"] == t["classifier"].iloc[0]].reset_index(drop=True)
    if "harmonisation" not in t.columns:
        t = t.assign(harmonisation="none")
    cols = [c for c in ("extractor", "perturbation", "features", "classifier", "validation") if c in t.columns]
    varying = [c for c in cols if t[c].nunique() > 1] or cols[-1:]
    keys = t[varying].astype(str).apply(tuple, axis=1)
    groups = list(dict.fromkeys(keys))
    harms = [h for h in HARM_COLOURS if h in set(t["harmonisation"])] + [h for h in pd.unique(t["harmonisation"]) if h not in HARM_COLOURS]
    offsets = {h: (i - (len(harms) - 1) / 2) * 0.25 for i, h in enumerate(harms)}
    fig, ax = _figure(0.3 * len(groups) + 0.9)
    with plt.rc_context(STYLE):
        for h in harms:
            m = (t["harmonisation"] == h).to_numpy()
            y = np.array([groups.index(k) for k in keys[m]]) + offsets[h]
            sub = t[m]
            ax.errorbar(sub["auc"], y, xerr=[sub["auc"] - sub["auc_low"], sub["auc_high"] - sub["auc"]], fmt="o", ms=2.5,
                        color=HARM_COLOURS.get(h, "tab:green"), elinewidth=0.9, capsize=1.2, label=SHORT.get(h, h))
        ax.axvline(0.5, color="grey", lw=0.6, ls="--")
        for i in range(1, len(groups)):
            ax.axhline(i - 0.5, color="#dddddd", lw=0.4)
        ax.set_yticks(range(len(groups)), [_group_label(t.loc[keys == g].iloc[0], varying) for g in groups])
        ax.set_ylim(len(groups) - 0.5, -0.5)
        ax.set_xlabel("AUC with 95% CI (dimensionless)")
        ax.set_xlim(min(0.45, float(t["auc_low"].min()) - 0.02), 1.0)
        if len(harms) > 1:
            fig.legend(*ax.get_legend_handles_labels(), frameon=False, loc="outside upper center", ncol=len(harms), fontsize=6,
                       handletextpad=0.2, columnspacing=0.8)
    return fig


def speed_vs_roi(frame: pd.DataFrame):
    """Seconds per extraction task against ROI size, one colour per extractor, log-log axes."""
    fig, ax = _figure(2.4)
    with plt.rc_context(STYLE):
        groups = frame.groupby("extractor") if "extractor" in frame.columns else [("all", frame)]
        for (name, g), colour in zip(groups, SITE_COLOURS):
            g = g[g["roi"] > 0]
            ax.scatter(g["roi"], g["seconds"], s=8, alpha=0.7, color=colour, label=str(name), linewidths=0)
        from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

        ax.set_xscale("log")
        ax.set_yscale("log")
        for axis in (ax.xaxis, ax.yaxis):  # 1-2-5 ticks written as plain numbers
            axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
            axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
            axis.set_minor_formatter(NullFormatter())
        unit = frame.attrs.get("roi_unit", "ROI voxels")
        ax.set_xlabel("ROI size (voxels)" if unit == "ROI voxels" else unit)
        ax.set_ylabel("time per task (s)")
        ax.legend(frameon=False, loc="best")
    return fig


def to_png_buffer(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=150)
    return buf.getvalue()
