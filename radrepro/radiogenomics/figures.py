"""The radiogenomics volcano figure: effect (correlation scale) against -log10 p, one panel per stage."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


def volcano_figure(associations: pd.DataFrame, *, fdr: float = 0.05):
    """The volcano plot of an associations table as a matplotlib Figure.

    Points are coloured by molecular variable; significant associations (q < ``fdr``) are filled,
    the others hollow. The x axis is ``effect_r`` (see :mod:`radrepro.radiogenomics.associations`).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    stages = list(dict.fromkeys(associations["stage"]))
    variables = list(dict.fromkeys(associations["variable"]))
    colours = dict(zip(variables, plt.get_cmap("tab10").colors * (len(variables) // 10 + 1)))
    fig, axes = plt.subplots(1, len(stages), figsize=(3.6 * len(stages), 3.4), sharey=True, squeeze=False)
    for ax, stage in zip(axes[0], stages):
        part = associations[(associations["stage"] == stage) & associations["p"].notna()]
        for variable in variables:
            v = part[part["variable"] == variable]
            if v.empty:
                continue
            y = -np.log10(v["p"].clip(lower=1e-300))
            sig = v["significant"].to_numpy(bool)
            c = colours[variable]
            ax.scatter(v["effect_r"][sig], y[sig], s=12, color=c)
            ax.scatter(v["effect_r"][~sig], y[~sig], s=12, facecolors="none", edgecolors=c, linewidths=0.6)
        ax.set_title(stage.replace("_", " "))
        ax.set_xlabel("effect (correlation scale)")
        ax.set_xlim(-1, 1)
        ax.axvline(0, color="0.7", lw=0.5)
    axes[0][0].set_ylabel("-log10 p")
    handles = [plt.Line2D([], [], ls="", marker="o", color=colours[v], label=v) for v in variables]
    axes[0][-1].legend(handles=handles, fontsize=7, frameon=False, loc="upper right")
    fig.suptitle(f"Radiomic-molecular associations (filled: q < {fdr:g})", fontsize=9)
    fig.tight_layout()
    return fig


def volcano(associations: pd.DataFrame, stem: str | Path, *, fdr: float = 0.05) -> dict[str, Path]:
    """Draw :func:`volcano_figure` to ``stem``.png and ``stem``.svg."""
    import matplotlib.pyplot as plt

    fig = volcano_figure(associations, fdr=fdr)
    stem = Path(stem)
    paths = {}
    for ext in ("png", "svg"):
        paths[f"volcano_{ext}"] = stem.with_suffix(f".{ext}")
        fig.savefig(paths[f"volcano_{ext}"], dpi=150)
    plt.close(fig)
    return paths
