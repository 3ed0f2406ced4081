"""Build a report from one MLflow run: tables, figures, a self-contained HTML page, provenance, citations.

.. code-block:: python

    from radrepro.reports import build_report
    out = build_report("3f2a...", "reports/quick", tracking_uri="sqlite:///runs/mlflow.db")

Output folder::

    report.html            one page, images inlined (base64): opens from disk, mail it as is
    tables/NAME.csv|.md|.tex
    figures/NAME.png|.svg  PNG at 300 dpi, one journal column wide
    provenance.md          versions, commit, machine, settings, seeds, datasets
    citations.bib          radrepro, IBSI, pyradiomics, ComBat, Koo & Li, every data set
"""

from __future__ import annotations

import base64
import html
import shutil
import tempfile
from pathlib import Path

import pandas as pd

from radrepro.reports import figures as figs
from radrepro.reports import provenance as prov
from radrepro.reports.run_data import RunData, load_run
from radrepro.reports.sections import SECTIONS, Section
from radrepro.reports.tables import to_html, to_markdown, write_table

CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:960px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}
table.table{border-collapse:collapse;font-size:.85em;margin:.5em 0 1em}
table.table th,table.table td{padding:.25em .6em;border-bottom:1px solid #eee;text-align:left}
table.table th{border-bottom:2px solid #999}
figure{margin:1em 0}figure img{max-width:100%;border:1px solid #eee}figcaption{font-size:.85em;color:#555}
.note{color:#777;font-style:italic}.files{font-size:.8em;color:#555}pre{background:#f6f6f6;padding:.8em;overflow-x:auto;font-size:.8em}
"""


def default_out_dir(run: RunData, root: Path = Path("reports")) -> Path:
    name = run.run_name or run.experiment or "run"
    return root / f"{name}-{run.run_id[:8]}"


def build_report(run_id: str, out_dir: str | Path | None = None, tracking_uri: str | None = None) -> Path:
    """Build the report of MLflow run ``run_id`` (or ``latest``).

    Parameters
    ----------
    run_id
        The run's id, or ``latest`` for the store's most recent run.
    out_dir
        Output folder; default ``reports/<run name>-<run id[:8]>``.
    tracking_uri
        MLflow tracking URI; default ``$MLFLOW_TRACKING_URI``, else ``sqlite:///runs/mlflow.db``.

    Returns
    -------
    Path
        The output folder (``report.html`` in it).
    """
    from radrepro.tracking.runs import resolve_tracking_uri

    uri = resolve_tracking_uri(tracking_uri, Path("runs"))
    work = Path(tempfile.mkdtemp(prefix="radrepro-report-"))
    try:
        run = load_run(run_id, uri, work)
        out = Path(out_dir) if out_dir is not None else default_out_dir(run)
        return write_report(run, out)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def write_report(run: RunData, out: Path) -> Path:
    """Write every file of the report of ``run`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    sections: list[Section] = []
    for make in SECTIONS:
        try:
            sections.append(make(run))
        except Exception as exc:  # a section that fails on odd data is reported, never fatal
            sec = Section(make.__name__.replace("_section", ""), make.__name__.replace("_section", "").title())
            sec.omitted = f"{sec.title}: omitted, its data could not be used ({type(exc).__name__}: {exc})."
            sections.append(sec)
    written: dict[str, list[Path]] = {}
    for sec in sections:
        for name, table in sec.tables.items():
            written[name] = write_table(table, out / "tables", name, sec.captions.get(name, ""))
        for name, make_fig in list(sec.figures.items()):
            try:
                written[name] = figs.save(make_fig(), out / "figures" / name)
            except Exception as exc:
                del sec.figures[name]
                sec.text += f" (Figure {name} omitted: {type(exc).__name__}: {exc}.)"
    prov_tables = prov.provenance(run)
    for name, table in prov_tables.items():
        write_table(table, out / "tables", f"provenance_{name}")
    bib = prov.bibtex(run)
    (out / "citations.bib").write_text(bib)
    (out / "provenance.md").write_text(_provenance_markdown(run, prov_tables))
    (out / "report.html").write_text(_html(run, sections, written, prov_tables, bib, out))
    return out


def _provenance_markdown(run: RunData, tables: dict[str, pd.DataFrame]) -> str:
    parts = [f"# Provenance of MLflow run {run.run_id}\n"]
    for name, table in tables.items():
        parts.append(f"## {name}\n\n{to_markdown(table)}")
    parts.append("## How to cite\n\nSee citations.bib: radrepro (CITATION.cff), IBSI, pyradiomics, ComBat, Koo & Li, and each data set.\n")
    return "\n".join(parts)


def _rel(path: Path, out: Path) -> str:
    return path.relative_to(out).as_posix()


def _html(run: RunData, sections: list[Section], written: dict[str, list[Path]], prov_tables: dict[str, pd.DataFrame], bib: str, out: Path) -> str:
    e = html.escape
    title = f"radrepro report: {run.run_name or run.experiment} ({run.run_id[:8]})"
    body = [f"<h1>{e(title)}</h1>",
            f"<p>MLflow run <code>{e(run.run_id)}</code> in <code>{e(run.tracking_uri)}</code>"
            + (f", started {e(run.start_time.strftime('%Y-%m-%d %H:%M UTC'))}" if run.start_time is not None else "") + ".</p>"]
    present = [s for s in sections if not s.omitted]
    body.append("<nav><ul>" + "".join(f'<li><a href="#{s.key}">{e(s.title)}</a></li>' for s in present)
                + '<li><a href="#provenance">Provenance</a></li><li><a href="#cite">How to cite</a></li></ul></nav>')
    omitted = [s.omitted for s in sections if s.omitted]
    if omitted:
        body.append('<ul class="note">' + "".join(f"<li>{e(o)}</li>" for o in omitted) + "</ul>")
    for sec in present:
        body.append(f'<h2 id="{sec.key}">{e(sec.title)}</h2>')
        if sec.text:
            body.append(f"<p>{e(sec.text)}</p>")
        for name, table in sec.tables.items():
            body.append(f"<p><b>{e(sec.captions.get(name, name))}</b></p>")
            body.append(to_html(table))
            links = " · ".join(f'<a href="{e(_rel(p, out))}">{p.suffix[1:].upper()}</a>' for p in written.get(name, []))
            body.append(f'<p class="files">Files: {links}</p>')
        for name in sec.figures:
            png = next((p for p in written.get(name, []) if p.suffix == ".png"), None)
            if png is None:
                continue
            data = base64.b64encode(png.read_bytes()).decode("ascii")
            links = " · ".join(f'<a href="{e(_rel(p, out))}">{p.suffix[1:].upper()}</a>' for p in written[name])
            body.append(f'<figure><img alt="{e(name)}" src="data:image/png;base64,{data}">'
                        f"<figcaption>{e(sec.figure_captions.get(name, name))} Files: {links}</figcaption></figure>")
    body.append('<h2 id="provenance">Provenance</h2>')
    for name, table in prov_tables.items():
        if len(table) > 30:  # every installed distribution: folded
            body.append(f"<details><summary><b>{e(name)}</b> ({len(table)} rows)</summary>{to_html(table)}</details>")
        else:
            body.append(f"<h3>{e(name)}</h3>" + to_html(table))
    if run.suite_text:
        body.append(f"<details><summary><b>suite file</b></summary><pre>{e(run.suite_text)}</pre></details>")
    body.append('<h2 id="cite">How to cite</h2>')
    body.append("<p>Cite radrepro (CITATION.cff, version and commit above), the IBSI reference manual, pyradiomics where its "
                "convention or backend was used, ComBat for harmonisation, Koo &amp; Li for the ICC classes, and every data set. "
                'BibTeX: <a href="citations.bib">citations.bib</a>.</p>')
    body.append(f"<pre>{e(bib)}</pre>")
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{e(title)}</title>'
            f"<style>{CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")
