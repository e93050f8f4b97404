"""Forest plot of the leaderboard rows of one task, as inline SVG (static, offline, byte-deterministic).

One line per row (generator@version): the paired change in the primary metric against the real-only
control with its 95% CI (filled square), and the change in the worst group with its CI (hollow
diamond, lighter). A vertical line marks no change. Coordinates are rounded, labels escaped.

Example:
    >>> svg = forest_svg([{"generator": "ddpm", "version": "0.3", "delta": 0.02, "delta_ci": (-0.01, 0.05),
    ...                    "worst": -0.01, "worst_ci": (-0.06, 0.03)}], "AUC", "vc_lesion")
    >>> svg.startswith("<svg") and "ddpm@0.3" in svg
    True
"""
from __future__ import annotations

import html
import math

WIDTH, LEFT, RIGHT, TOP, ROW, BOTTOM = 760, 190, 30, 34, 30, 46
COLOURS = {"delta": "#1f4e79", "worst": "#b05a00"}


def _finite(*values) -> list[float]:
    return [float(v) for v in values if isinstance(v, (int, float)) and math.isfinite(v)]


def _limits(rows: list[dict]) -> tuple[float, float]:
    values = [0.0]
    for r in rows:
        values += _finite(r.get("delta"), *(r.get("delta_ci") or ()), r.get("worst"), *(r.get("worst_ci") or ()))
    lo, hi = min(values), max(values)
    pad = max(0.01, 0.08 * (hi - lo))
    return lo - pad, hi + pad


def _ticks(lo: float, hi: float) -> list[float]:
    step = 10 ** math.floor(math.log10(max(hi - lo, 1e-9) / 4))
    for mult in (1, 2, 5, 10):
        if (hi - lo) / (step * mult) <= 6:
            step *= mult
            break
    first = math.ceil(lo / step) * step
    return [round(first + i * step, 10) for i in range(int((hi - first) / step) + 1)]


def _mark(x: float, y: float, kind: str) -> str:
    colour = COLOURS[kind]
    if kind == "delta":
        return f'<rect x="{x - 5:.1f}" y="{y - 5:.1f}" width="10" height="10" fill="{colour}"/>'
    points = f"{x:.1f},{y - 6:.1f} {x + 6:.1f},{y:.1f} {x:.1f},{y + 6:.1f} {x - 6:.1f},{y:.1f}"
    return f'<polygon points="{points}" fill="#fff" stroke="{colour}" stroke-width="1.5"/>'


def _row_marks(r: dict, y: float, sx) -> list[str]:
    out = []
    for kind, dy in (("delta", -5), ("worst", 6)):
        value, ci = r.get(kind), r.get(f"{kind}_ci") or (None, None)
        if not _finite(value):
            continue
        if len(_finite(*ci)) == 2:
            out.append(f'<line x1="{sx(ci[0]):.1f}" y1="{y + dy:.1f}" x2="{sx(ci[1]):.1f}" y2="{y + dy:.1f}" '
                       f'stroke="{COLOURS[kind]}" stroke-width="{2 if kind == "delta" else 1.5}"/>')
        out.append(_mark(sx(value), y + dy, kind))
    return out


def forest_svg(rows: list[dict], metric_label: str, task: str) -> str:
    """SVG text of the forest plot for ``rows`` (each: generator, version, delta, delta_ci, worst, worst_ci)."""
    lo, hi = _limits(rows)
    height = TOP + ROW * max(len(rows), 1) + BOTTOM
    span = WIDTH - LEFT - RIGHT

    def sx(v: float) -> float:
        return LEFT + (v - lo) / (hi - lo) * span

    bottom = TOP + ROW * len(rows)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="forest" id="forest-{html.escape(task)}" '
             f'width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" role="img" '
             f'aria-label="Forest plot: change in {html.escape(metric_label)} vs control, task {html.escape(task)}">',
             f'<text x="{LEFT}" y="18" font-size="13" font-weight="600">Δ {html.escape(metric_label)} vs real-only '
             'control, 95% CI (■ overall, ◇ worst group)</text>']
    for t in _ticks(lo, hi):
        parts.append(f'<line x1="{sx(t):.1f}" y1="{TOP - 4}" x2="{sx(t):.1f}" y2="{bottom}" stroke="#e3e6ea"/>'
                     f'<text x="{sx(t):.1f}" y="{bottom + 16}" font-size="11" text-anchor="middle">{t:+.3g}</text>')
    parts.append(f'<line x1="{sx(0):.1f}" y1="{TOP - 4}" x2="{sx(0):.1f}" y2="{bottom}" stroke="#444" '
                 'stroke-dasharray="4 3"/>')
    for i, r in enumerate(rows):
        y = TOP + ROW * i + ROW / 2
        label = html.escape(f"{r['generator']}@{r['version']}")
        parts.append(f'<g class="forest-row"><text x="{LEFT - 10}" y="{y + 4:.1f}" font-size="12" '
                     f'text-anchor="end">{label}</text>' + "".join(_row_marks(r, y, sx)) + "</g>")
    parts.append(f'<text x="{LEFT + span / 2:.1f}" y="{bottom + 36}" font-size="12" text-anchor="middle">'
                 f'Δ {html.escape(metric_label)} (arm − control)</text></svg>')
    return "\n".join(parts)
