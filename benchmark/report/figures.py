"""Report figures: each a small matplotlib function from plain data to a ``Figure``.

Every function takes records or arrays already read from the run folder (no file access here),
so the figures are pure functions of the run's files. :func:`mammobench.report.png.figure_png` turns a
figure into deterministic PNG bytes (one draw, no timestamp metadata) for embedding as a data URI.

Example:
    >>> fig = cohort_flow([{"stage": "found", "n_patients": 10, "n_images": 40, "excluded": 0, "reason": ""}])
    >>> len(fig.axes[0].texts)
    1
"""
from __future__ import annotations

from typing import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

ARM_COLOURS = ("#1f4e79", "#c55a11", "#548235", "#7030a0", "#bf9000", "#2e75b6")
#: axes titles sit at the top of their axes, given explicitly: matplotlib's automatic title position lays the
#: y axis out again on every draw to dodge an offset text (``1e6``) that these charts never have
TITLE_Y = 1.0


def _fmt(n: object) -> str:
    return "–" if n is None else f"{n:,}" if isinstance(n, int) else str(n)


def cohort_flow(flow: Sequence[dict]) -> Figure:
    """Boxes top to bottom, one per stage, with exclusions and their reasons on the right."""
    n = max(len(flow), 1)
    fig = plt.figure(figsize=(7.5, 1.1 * n + 0.4))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 10)
    ax.set_ylim(0, n * 1.1)
    ax.axis("off")
    for i, stage in enumerate(flow):
        y = (n - i - 1) * 1.1 + 0.55
        text = (f"{stage.get('stage', '')}\npatients {_fmt(stage.get('n_patients'))} · "
                f"images {_fmt(stage.get('n_images'))}")
        ax.text(3.2, y, text, ha="center", va="center", fontsize=9,
                bbox={"boxstyle": "round", "fc": "#eef3f8", "ec": "#1f4e79"})
        if stage.get("excluded"):
            ax.text(5.2, y + 0.55, f"→ excluded {_fmt(stage['excluded'])}: {stage.get('reason', '')}",
                    ha="left", va="center", fontsize=8, color="#7f0000")
        if i:
            ax.annotate("", xy=(3.2, y + 0.32), xytext=(3.2, y + 0.78), arrowprops={"arrowstyle": "->"})
    return fig


def partition_bars(counts: dict[str, dict[str, int]], attribute: str) -> Figure:
    """Stacked bars: composition of each partition by one attribute (share of images)."""
    splits = list(counts)
    groups = sorted({g for c in counts.values() for g in c})
    fig, ax = plt.subplots(figsize=(5.5, 2.6))
    bottom = np.zeros(len(splits))
    for k, group in enumerate(groups):
        totals = np.array([sum(counts[s].values()) or 1 for s in splits])
        share = np.array([counts[s].get(group, 0) for s in splits]) / totals
        ax.barh(splits, share, left=bottom, label=str(group), color=plt.cm.tab10(k % 10))
        bottom += share
    ax.set_xlabel(f"share of images by {attribute}")
    ax.legend(fontsize=7, ncol=min(len(groups), 5), loc="upper center", bbox_to_anchor=(0.5, -0.3))
    return fig


def roc_panels(panels: dict[str, dict[str, tuple[np.ndarray, np.ndarray, float]]], title: str) -> Figure:
    """One ROC panel per key of ``panels`` (e.g. per arm), curves ``{label: (fpr, tpr, auc)}``."""
    n = max(len(panels), 1)
    fig, axes = plt.subplots(1, n, figsize=(3.4 * n, 3.6), squeeze=False)
    for ax, (name, curves) in zip(axes[0], panels.items()):
        for k, (label, (fpr, tpr, auc)) in enumerate(curves.items()):
            ax.plot(fpr, tpr, lw=1.2, color=plt.cm.tab10(k % 10), label=f"{label} {auc:.2f}")
        ax.plot([0, 1], [0, 1], color="grey", ls=":", lw=0.8)
        ax.set_title(name, fontsize=8, y=TITLE_Y)
        ax.set_xlabel("1 − specificity", fontsize=8)
        ax.legend(fontsize=5.5, loc="lower right")
    axes[0][0].set_ylabel("sensitivity", fontsize=8)
    fig.suptitle(title, fontsize=9)
    return fig


def froc_curves(curves: dict[str, tuple[Sequence[float], Sequence[float]]], title: str = "FROC", *,
                bands: dict[str, tuple[Sequence[float], Sequence[float]]] | None = None,
                points: Sequence[float] = (), reached: dict[str, float] | None = None,
                operating_fpi: float | None = None) -> Figure:
    """FROC: ``{label: (false positives per image, lesion sensitivity)}``, log-scaled FPI axis.

    ``bands`` (``{label: (low, high)}`` on the same FPI grid) are drawn as shaded 95% bands; ``points``
    (the reported FPI values) get markers; beyond ``reached[label]`` (the FPI every seed's curve got to)
    the curve is dotted; ``operating_fpi`` (the task's FPI) is a vertical line.
    """
    fig, ax = plt.subplots(figsize=(5.2, 3.7))
    for k, (label, (fpi, sens)) in enumerate(curves.items()):
        colour = ARM_COLOURS[k % len(ARM_COLOURS)]
        fpi, sens = np.asarray(fpi, float), np.asarray(sens, float)
        reach = (reached or {}).get(label, np.inf)
        inside = fpi <= reach + 1e-12
        ax.plot(fpi[inside], sens[inside], "-", lw=1.5, color=colour, label=label)
        if (~inside).any():
            tail = np.r_[np.flatnonzero(inside)[-1:], np.flatnonzero(~inside)]
            ax.plot(fpi[tail], sens[tail], ":", lw=1.2, color=colour)
        if bands and label in bands:
            ax.fill_between(fpi, bands[label][0], bands[label][1], color=colour, alpha=0.15, lw=0)
        at = np.isin(np.round(fpi, 6), np.round(np.asarray(points, float), 6))
        ax.plot(fpi[at], sens[at], "o", ms=3.5, color=colour)
    if operating_fpi is not None:
        ax.axvline(operating_fpi, color="#555", ls="--", lw=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("false positives per image")
    ax.set_ylabel("lesion sensitivity")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.set_title(title, fontsize=9, y=TITLE_Y)
    ax.legend(fontsize=7, loc="upper left")
    return fig


def calibration_plot(bins: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]) -> Figure:
    """Reliability diagram: ``{label: (mean predicted, observed fraction, count)}`` per bin."""
    fig, ax = plt.subplots(figsize=(4.2, 4.2))
    for k, (label, (pred, obs, count)) in enumerate(bins.items()):
        ax.plot(pred, obs, "o-", ms=3, color=ARM_COLOURS[k % len(ARM_COLOURS)], label=label)
    ax.plot([0, 1], [0, 1], color="grey", ls=":", lw=0.8)
    ax.set_xlabel("mean predicted score")
    ax.set_ylabel("observed fraction positive")
    ax.set_title("calibration (test split, 10 equal-count bins)", fontsize=9, y=TITLE_Y)
    ax.legend(fontsize=7)
    return fig


def distribution_bars(panels: dict[str, dict[str, dict[str, float]]], title: str) -> Figure:
    """One panel per attribute/check: grouped bars of each group's share per source
    (``{panel: {"real (train)": {group: share}, "synthetic": {...}}}``)."""
    n_cols = min(3, max(len(panels), 1))
    n_rows = -(-len(panels) // n_cols) or 1
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(3.4 * n_cols, 2.6 * n_rows), squeeze=False)
    for ax in axes.flat[len(panels):]:
        ax.axis("off")
    for ax, (panel, series) in zip(axes.flat, panels.items()):
        groups = sorted({g for shares in series.values() for g in shares})
        x = np.arange(len(groups))
        width = 0.8 / max(len(series), 1)
        for k, (label, shares) in enumerate(series.items()):
            values = [shares.get(g) or 0.0 for g in groups]
            ax.bar(x - 0.4 + width * (k + 0.5), values, width, label=label, color=ARM_COLOURS[k % len(ARM_COLOURS)])
        ax.set_xticks(x, groups, fontsize=6, rotation=30)
        ax.set_title(panel, fontsize=8, y=TITLE_Y)
        ax.legend(fontsize=6)
    axes[0][0].set_ylabel("share")
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig


def effect_vs_ratio(series: dict[str, list[tuple[float, float, float | None, float | None]]],
                    metric: str) -> Figure:
    """Change in ``metric`` vs synthetic:real ratio: ``{generator: [(ratio, est, lo, hi), ...]}``."""
    fig, ax = plt.subplots(figsize=(4.8, 3.2))
    for k, (gen, points) in enumerate(series.items()):
        pts = sorted(points, key=lambda p: p[0])  # one point per ratio; CI ends may be None
        colour = ARM_COLOURS[k % len(ARM_COLOURS)]
        ax.plot([p[0] for p in pts], [p[1] for p in pts], "o-", color=colour, label=gen)
        for ratio, _, lo, hi in pts:
            if lo is not None and hi is not None:
                ax.plot([ratio, ratio], [lo, hi], color=colour, lw=1)
    ax.axhline(0, color="grey", ls="--", lw=0.8)
    ax.set_xlabel("synthetic : real ratio")
    ax.set_ylabel(f"Δ {metric} vs control (95% CI)")
    ax.legend(fontsize=7)
    return fig
