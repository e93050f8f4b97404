"""Render a run's report — ``report.html``, ``report.md``, ``report.json`` and ``figures/*.png``.

The report is a pure function of the run folder's files: re-rendering an unchanged run gives
byte-identical outputs. The HTML embeds its charts as base64 PNG data URIs and links the image
galleries (sample grids, memorisation pairs) as ``figures/*.png`` beside it, so it stays small; it
inlines its CSS and one script (collapse, sort, filter) that its Content-Security-Policy admits by
hash, and loads nothing from the network. Without JavaScript every section shows expanded.

Example:
    >>> paths = render_report("runs/quick-2026-01-01")  # doctest: +SKIP
    >>> sorted(paths)  # doctest: +SKIP
    ['figures', 'html', 'json', 'md']
"""
from __future__ import annotations

import base64
import functools
import hashlib
import struct
from pathlib import Path

import jinja2

from mammobench.errors import ConfigError
from mammobench.io import atomic_write_bytes, atomic_write_json, atomic_write_text, sha256_bytes
from mammobench.report.checklists import fill_checklists, load_answers, load_checklists
from mammobench.report.context import build_context, checklist_context, report_kind
from mammobench.report.evidence import load_run
from mammobench.report.figure_set import build_figures, primary_metric
from mammobench.report.sections import build_sections
from mammobench.report.summary import verdict
from mammobench.report.tables import all_tables
from mammobench.resources import template_loader

KINDS = ("auto", "predeployment", "submission")


def _md_escape(value: object) -> str:
    text = "" if value is None else str(value)
    return (text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")
            .replace("\n", " "))


@functools.lru_cache(maxsize=8)
def environment(template_dir: Path | None = None) -> jinja2.Environment:
    """Jinja2 environment over the packaged templates (``reports/templates``) or ``template_dir``; autoescape on for HTML.

    One environment per folder and process, so a template is compiled once (Jinja recompiles one whose file
    changed).

    Example:
        >>> environment() is environment() and environment().autoescape("report.html.j2")
        True
    """
    env = jinja2.Environment(loader=template_loader(template_dir),
                             autoescape=jinja2.select_autoescape(enabled_extensions=("html", "html.j2"),
                                                                 default_for_string=True, default=False),
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                             trim_blocks=True, lstrip_blocks=True)
    env.filters["md"] = _md_escape
    return env


def build_page(data, figures: dict[str, dict], checklists: list[dict], kind: str) -> dict:
    """The full page as data: the context rows, the verdict, every table and the ordered sections."""
    page = build_context(data, figures, checklists, kind)
    page["verdict"] = verdict(data)
    page["tables"] = all_tables(data.result, page, primary_metric(data))
    page["sections"] = build_sections(data, page, list(figures), kind)
    return page


def png_size(png: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk."""
    return struct.unpack(">II", png[16:24])


def figure_sources(figures: dict[str, dict]) -> dict[str, str]:
    """Inline data URIs for charts; ``figures/<name>.png`` (written beside the report) for galleries."""
    return {n: f"figures/{n}.png" if f.get("gallery") else
            "data:image/png;base64," + base64.b64encode(f["png"]).decode("ascii") for n, f in figures.items()}


def script_and_hash(env: jinja2.Environment) -> tuple[str, str]:
    """The report's inline script and its CSP source (``'sha256-…'``)."""
    source, _, _ = env.loader.get_source(env, "report.js")
    digest = base64.b64encode(hashlib.sha256(source.encode("utf-8")).digest()).decode("ascii")
    return source, f"sha256-{digest}"


def _write_figures(fig_dir: Path, figures: dict[str, dict]) -> Path:
    """Write ``figures/<name>.png`` and remove PNGs the run's files no longer support."""
    for stale in sorted(fig_dir.glob("*.png")) if fig_dir.is_dir() else []:
        if stale.stem not in figures:
            stale.unlink()
    for name, fig in figures.items():
        atomic_write_bytes(fig_dir / f"{name}.png", fig["png"])
    return fig_dir


def render_report(run_dir: str | Path, *, answers: str | Path | None = None, kind: str = "auto",
                  template_dir: str | Path | None = None) -> dict[str, Path]:
    """Render the report of ``run_dir`` from its files and write it into the run folder.

    Args:
        run_dir: a run folder (Contract 6) holding ``result.json``.
        answers: optional YAML of human answers to checklist items (``{ITEM-ID: text}``).
        kind: ``auto`` (submission when any arm uses synthetic data), ``predeployment`` or ``submission``.
        template_dir: alternative templates (default ``reports/templates``).

    Returns:
        ``{"html", "md", "json", "figures"}`` → paths written.

    Raises:
        ConfigError: unknown kind, or an answers file with an unknown item id.
        SchemaError: missing or invalid ``result.json``.
    """
    if kind not in KINDS:
        raise ConfigError(f"report kind '{kind}' not in {list(KINDS)}")
    run_dir = Path(run_dir)
    data = load_run(run_dir)
    kind = report_kind(data.result, kind)
    lists = load_checklists(kind=kind)
    valid_ids = [i["id"] for c in load_checklists() for i in c["items"]]
    given = load_answers(answers, valid_ids) if answers else {}
    figures = build_figures(data)
    filled = fill_checklists(lists, checklist_context(data, figures), given)
    context = build_page(data, figures, filled, kind)
    for name, meta in context["figures"].items():
        meta["width"], meta["height"] = png_size(figures[name]["png"])
        meta["gallery"] = bool(figures[name].get("gallery"))
    env = environment(Path(template_dir) if template_dir else None)
    script, script_hash = script_and_hash(env)
    html = env.get_template("report.html.j2").render(**context, figure_uris=figure_sources(figures), script=script,
                                                     script_hash=script_hash)
    md = env.get_template("report.md.j2").render(**context)
    fig_dir = _write_figures(run_dir / "figures", figures)
    machine = {**context, "figures": {n: {**f, "path": f"figures/{n}.png", "sha256": sha256_bytes(figures[n]["png"])}
                                      for n, f in context["figures"].items()}, "report_schema": "1.1"}
    atomic_write_text(run_dir / "report.html", html)
    atomic_write_text(run_dir / "report.md", md)
    atomic_write_json(run_dir / "report.json", machine)
    return {"html": run_dir / "report.html", "md": run_dir / "report.md", "json": run_dir / "report.json",
            "figures": fig_dir}
