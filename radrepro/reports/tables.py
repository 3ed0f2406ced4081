"""Tables written three ways: CSV (the numbers), Markdown (for reading), LaTeX booktabs (for the paper)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


def _display(df: pd.DataFrame) -> pd.DataFrame:
    """Floats rounded for reading (3 significant decimals); text as is."""
    out = df.copy()
    for c in out.columns:
        if pd.api.types.is_float_dtype(out[c]):
            out[c] = [_number(v) for v in out[c]]
    return out


def _number(v: float) -> str:
    if not np.isfinite(v):
        return ""
    if v == int(v) and abs(v) < 1e15:
        return f"{int(v)}"
    if abs(v) >= 100:
        return f"{v:.1f}"
    if abs(v) < 0.001:
        return f"{v:.2e}"
    return f"{v:.3f}"


_LATEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                  "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def latex_escape(text: str) -> str:
    """Text with LaTeX's special characters escaped."""
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in str(text))


def to_latex(df: pd.DataFrame, caption: str = "", label: str = "") -> str:
    """A booktabs table (``\\toprule``/``\\midrule``/``\\bottomrule``), every cell and header escaped."""
    shown = _display(df).astype(str)
    styler = shown.style.hide(axis="index").format(escape="latex").format_index(escape="latex", axis=1)
    text = styler.to_latex(hrules=True, column_format="l" * shown.shape[1], caption=latex_escape(caption) if caption else None,
                           label=f"tab:{label.replace('_', '-')}" if label else None, position_float="centering" if caption else None,
                           environment="table" if caption else None)
    return text


def to_markdown(df: pd.DataFrame) -> str:
    return _display(df).to_markdown(index=False) + "\n"


def write_table(df: pd.DataFrame, folder: Path, name: str, caption: str = "") -> list[Path]:
    """Write ``name.csv``, ``name.md`` and ``name.tex`` in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{name}.csv", folder / f"{name}.md", folder / f"{name}.tex"]
    df.to_csv(paths[0], index=False)
    paths[1].write_text((f"{caption}\n\n" if caption else "") + to_markdown(df))
    paths[2].write_text(to_latex(df, caption, name))
    return paths


def to_html(df: pd.DataFrame) -> str:
    return _display(df).to_html(index=False, border=0, classes="table", escape=True, na_rep="")
