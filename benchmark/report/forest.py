"""Forest plots grouped by subgroup: one row per (attribute, group), every arm dodged within the row.

The headline figure of the report is :func:`grouped_forest` over the primary test family's paired
comparisons (Δ of the primary metric vs the control, overall and per pre-specified subgroup), so a
reader sees every arm's change and its 95% CI on one screen. :func:`forest_rows` turns records
(``comparisons`` or ``metrics`` of ``result.json``) into the plot's rows without inventing a value:
a record without an estimate is drawn as its label with the record's status (e.g. ``undefined (no
positives)``) and no point.

Example:
    >>> recs = [{"arm": "gen", "attribute": None, "group": None, "estimate": 0.02, "ci_low": -0.01,
    ...          "ci_high": 0.05, "n": 100, "n_pos": 30, "significant": False}]
    >>> rows = forest_rows(recs, value_key="estimate", attributes=[])
    >>> rows[0]["label"], rows[0]["points"]["gen"]["value"]
    ('overall (n 100, pos 30)', 0.02)
    >>> bool(grouped_forest(rows, ["gen"], title="Δ auc", value_label="Δ auc", ref=0.0).get_figheight() > 1)
    True
"""
from __future__ import annotations

from typing import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

from mammobench.report.figures import ARM_COLOURS, TITLE_Y  # noqa: E402

ROW_HEIGHT_IN = 0.24


def _group_sort_key(group: object) -> tuple:
    text = str(group)
    return (0, float(text)) if text.replace(".", "", 1).isdigit() else (1, text)


def forest_rows(records: Sequence[dict], *, value_key: str, attributes: Sequence[str]) -> list[dict]:
    """Rows ``{label, attribute, group, points: {arm: record-ish}}``: overall first, then each attribute's groups.

    Args:
        records: comparison or metric records (``arm``, ``attribute``, ``group``, ``value_key``,
            ``ci_low``, ``ci_high``, ``n``, ``n_pos``; optional ``significant``, ``status``).
        value_key: ``"estimate"`` for comparisons, ``"value"`` for metrics.
        attributes: the pre-specified attributes to show, in order (others are left out).
    """
    by_row: dict[tuple, dict] = {}
    for rec in records:
        attr = rec.get("attribute")
        if attr is not None and attr not in attributes:
            continue
        key = (attr, None if attr is None else str(rec.get("group")))
        row = by_row.setdefault(key, {"attribute": attr, "group": key[1], "points": {}})
        row["points"][str(rec["arm"])] = {
            "value": rec.get(value_key), "ci_low": rec.get("ci_low"), "ci_high": rec.get("ci_high"),
            "n": rec.get("n"), "n_pos": rec.get("n_pos"), "significant": rec.get("significant"),
            "status": rec.get("status") or ""}
    order = {a: i for i, a in enumerate(attributes)}
    rows = sorted(by_row.values(), key=lambda r: (r["attribute"] is not None, order.get(r["attribute"], 0),
                                                  _group_sort_key(r["group"])))
    for row in rows:
        first = next(iter(row["points"].values()))
        flags = sorted({p["status"].replace("_", " ") for p in row["points"].values() if p["status"] not in ("", "ok")})
        row["label"] = ("overall" if row["attribute"] is None else f"{row['attribute']} = {row['group']}") + (
            f" (n {first['n']}, pos {first['n_pos']})" if first.get("n") is not None else "") + (
            f" — {', '.join(flags)}" if flags else "")
    return rows


def _draw_point(ax, point: dict, y: float, colour: str) -> None:
    lo, hi, value = point.get("ci_low"), point.get("ci_high"), point.get("value")
    if lo is not None and hi is not None:
        ax.plot([lo, hi], [y, y], color=colour, lw=1.6, solid_capstyle="butt")
    if value is not None and (lo is None or hi is None):  # a value without a CI (e.g. insufficient n): a cross
        ax.plot(value, y, "x", ms=5, color=colour, mew=1.2)
    elif value is not None:
        filled = point.get("significant") is not False
        ax.plot(value, y, "o", ms=5, color=colour, mfc=colour if filled else "white", mew=1.4)


def grouped_forest(rows: Sequence[dict], arms: Sequence[str], *, title: str, value_label: str,
                   ref: float | None = None, colours: dict[str, str] | None = None,
                   significance_legend: bool = False) -> Figure:
    """One row per subgroup, arms offset within it; grey lines separate attributes.

    Filled markers are significant after the family's multiplicity adjustment (or carry no such flag),
    hollow ones are not (when ``significance_legend``); a cross is a value the evaluator gave no CI
    (its status, e.g. ``insufficient n``, is in the row label).
    """
    colours = colours or {a: ARM_COLOURS[i % len(ARM_COLOURS)] for i, a in enumerate(arms)}
    fig, ax = plt.subplots(figsize=(9.0, ROW_HEIGHT_IN * len(rows) + 1.25))
    n = len(rows)
    step = 0.6 / max(len(arms), 1)
    for i, row in enumerate(rows):
        y = n - 1 - i
        if i and row["attribute"] != rows[i - 1]["attribute"]:
            ax.axhline(y + 0.5, color="#bbb", lw=0.6)
        if row["attribute"] is None:
            ax.axhspan(y - 0.5, y + 0.5, color="#eef3f8", zorder=0)
        for k, arm in enumerate(arms):
            if arm in row["points"]:
                _draw_point(ax, row["points"][arm], y + 0.3 - step * (k + 0.5), colours[arm])
    if ref is not None:
        ax.axvline(ref, color="#555", ls="--", lw=0.8)
    ax.set_yticks(range(n - 1, -1, -1), [r["label"] for r in rows], fontsize=7.5)
    ax.set_ylim(-0.6, n - 0.4)
    ax.set_xlabel(value_label, fontsize=8)
    ax.tick_params(axis="x", labelsize=7.5)
    ax.grid(axis="x", alpha=0.3)
    ax.set_title(title, fontsize=9, y=TITLE_Y)
    handles = [Line2D([], [], color=colours[a], marker="o", lw=1.6, label=a) for a in arms]
    handles.append(Line2D([], [], color="#444", marker="x", lw=0, label="no CI (see label)"))
    if significance_legend:
        handles += [Line2D([], [], color="#444", marker="o", lw=0, label="significant (adjusted)"),
                    Line2D([], [], color="#444", marker="o", mfc="white", lw=0, label="not significant")]
    ax.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return fig
