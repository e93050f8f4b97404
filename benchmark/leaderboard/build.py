"""Build the leaderboard — ``README.md`` and a static ``index.html`` — as a pure function of the bundles.

Every bundle under ``results/*/*`` is verified against the project's trusted keys
(:mod:`mammobench.leaderboard.verify`, ``display.yaml`` ``trusted_keys``); accepted ones become rows
(:mod:`mammobench.leaderboard.rows`), rejected ones are listed with their reason and the fingerprint
of the key that signed them. Each task gets a table and a forest plot of the rows' changes with CIs
(inline SVG, :mod:`mammobench.leaderboard.forest`). Outputs are byte-deterministic: sorted, no
timestamps.

Example:
    >>> report = build_leaderboard("leaderboard")  # doctest: +SKIP
    >>> check_up_to_date("leaderboard")  # doctest: +SKIP
    []
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
from markupsafe import Markup

from mammobench.io import atomic_write_text
from mammobench.leaderboard.display import load_display, project_trust
from mammobench.leaderboard.forest import forest_svg
from mammobench.leaderboard.rows import make_row
from mammobench.leaderboard.verify import verify_bundle
from mammobench.resources import template_loader

OUTPUTS = ("README.md", "index.html")


@dataclass
class BuildReport:
    """Accepted rows and rejected bundles ``(folder, reason, key fingerprint)``."""

    rows: list[dict] = field(default_factory=list)
    rejected: list[tuple[str, str, str]] = field(default_factory=list)
    trusted_keys: int = 0


def collect(leaderboard_dir: str | Path) -> BuildReport:
    """Verify every bundle and build rows (sorted by task, then Δ overall descending)."""
    root = Path(leaderboard_dir)
    display = load_display(root)
    trust = project_trust(root)
    out = BuildReport(trusted_keys=len(trust.keys))
    folders = sorted(p for p in (root / "results").glob("*/*") if p.is_dir() and not p.is_symlink())
    for folder in folders:
        check = verify_bundle(folder, trust)
        rel = folder.relative_to(root).as_posix()
        if check.ok:
            out.rows.append(make_row(check.entry, display))
        else:
            out.rejected.append((rel, check.reason, check.fingerprint))
    out.rows.sort(key=lambda r: (r["task"], -(r["delta"] if r["delta"] is not None else -1e9), r["generator"],
                                 r["version"]))
    return out


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=template_loader(), keep_trailing_newline=True,
                             autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default=False),
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["md"] = lambda v: str(v).replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")
    env.filters["tojson_sorted"] = lambda v: json.dumps(v, sort_keys=True)
    return env


def render(leaderboard_dir: str | Path) -> tuple[dict[str, str], BuildReport]:
    """The output texts ``{README.md, index.html}`` and the build report, without writing anything."""
    root = Path(leaderboard_dir)
    report = collect(root)
    display = load_display(root)
    tasks = sorted({r["task"] for r in report.rows})
    forests = {t: Markup(forest_svg([r for r in report.rows if r["task"] == t],
                                    next(r["metric"] for r in report.rows if r["task"] == t), t)) for t in tasks}
    context = {"display": display, "rows": report.rows, "rejected": report.rejected, "tasks": tasks,
               "forests": forests, "trusted_keys": report.trusted_keys}
    env = _environment()
    texts = {"README.md": env.get_template("leaderboard.md.j2").render(**context),
             "index.html": env.get_template("leaderboard.html.j2").render(**context)}
    return texts, report


def build_leaderboard(leaderboard_dir: str | Path) -> BuildReport:
    """Verify all bundles and write ``README.md`` and ``index.html`` into ``leaderboard_dir``."""
    texts, report = render(leaderboard_dir)
    for name, text in texts.items():
        atomic_write_text(Path(leaderboard_dir) / name, text)
    return report


def check_up_to_date(leaderboard_dir: str | Path) -> list[str]:
    """Names of outputs that differ from a fresh build (empty when the committed leaderboard is current)."""
    texts, _ = render(leaderboard_dir)
    root = Path(leaderboard_dir)
    return [name for name, text in texts.items()
            if not (root / name).is_file() or (root / name).read_text(encoding="utf-8") != text]
