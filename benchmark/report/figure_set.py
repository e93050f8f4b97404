"""Build every report figure of a run from its :class:`RunData` (names, PNG bytes, captions).

Each entry of :func:`build_figures` is ``{"png": bytes, "caption": str, "anchor": "fig-<name>",
"gallery": bool}`` so checklist items and tables can link to ``#fig-<name>``. Figures whose data the
run lacks are simply absent (the report says so), never drawn from made-up numbers. The figure
functions are registered in one place, :data:`FIGURE_BUILDERS`; a new figure is one more entry there and
a name in its section (``report/sections.py``). The detection section's figures (FROC overlay with bands,
sensitivity forest, false marks by density, galleries) are ``report/detection_figures.py``.

Example:
    >>> [b.gallery for b in FIGURE_BUILDERS].count(True)
    3
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import pandas as pd

from mammobench.report import figures as F
from mammobench.report.detection_figures import detection_figures, detection_gallery
from mammobench.report.evidence import RunData, partition_counts
from mammobench.report.png import figure_png
from mammobench.report.sample_grids import nn_pairs
from mammobench.stats.roc import roc_points


def primary_metric(data: RunData) -> str:
    """The plan's primary metric (``auc`` when the plan does not say)."""
    return str(data.plan.get("plan", {}).get("primary_metric") or "auc")


def control_arm(data: RunData) -> str:
    """The plan's control arm, else the first arm."""
    arms = [a.get("arm") for a in data.result["arms"]]
    return str(data.plan.get("plan", {}).get("control_arm") or (arms[0] if arms else "control"))


def subgroup_attributes(data: RunData) -> list[str]:
    """Pre-specified subgroup attributes (plan), else those present in the metric records."""
    planned = data.plan.get("plan", {}).get("subgroups")
    if planned:
        return [str(a) for a in planned]
    return sorted({m["attribute"] for m in data.result["metrics"] if m.get("attribute")})


def _colour(arms: list[str], arm: str) -> str:
    return F.ARM_COLOURS[arms.index(arm) % len(F.ARM_COLOURS)] if arm in arms else "k"


def _forest_figures(data: RunData, metric: str) -> dict:
    """The headline Δ forest plot (primary test family) and the per-subgroup metric values, arms dodged."""
    from mammobench.report.forest import forest_rows, grouped_forest
    from mammobench.report.evidence import primary_family

    control, attributes = control_arm(data), subgroup_attributes(data)
    arms = [a["arm"] for a in data.result["arms"]]
    colours = {a: _colour(arms, a) for a in arms}
    out = {}
    family = [c for a in arms if a != control for c in primary_family(data.result, a, metric)]
    if any(c.get("estimate") is not None for c in family):
        methods = sorted({str(c.get("method", "")).split(" (")[0] for c in family})
        out["forest_delta"] = (
            grouped_forest(forest_rows(family, value_key="estimate", attributes=attributes),
                           [a for a in arms if a != control], colours=colours, ref=0.0, significance_legend=True,
                           title=f"Δ {metric} vs control ({control}), 95% CI — {', '.join(methods)}",
                           value_label=f"Δ {metric} (arm − {control}); right of the dashed line = better"),
            f"Change in {metric} against the control arm, overall and per pre-specified subgroup, for every arm "
            "(primary test family, paired 95% CIs; hollow markers are not significant after multiplicity "
            "adjustment).")
    recs = [m for m in data.result["metrics"] if m["metric"] == metric and m.get("split") == "test"
            and m.get("seed") is None]
    if any(m.get("value") is not None for m in recs):
        out["forest"] = (grouped_forest(forest_rows(recs, value_key="value", attributes=attributes), arms,
                                        colours=colours, title=f"{metric} per subgroup (test split, 95% CI)",
                                        value_label=metric),
                         f"{metric} overall and per pre-specified subgroup for every arm, with n, positives and "
                         "95% CI.")
    return out


def _group_key(rec: dict) -> tuple:
    return (str(rec.get("attribute") or ""), str(rec.get("group") or ""), str(rec.get("arm")))


def _test_scores(data: RunData, arm: str) -> pd.DataFrame:
    pred = data.predictions
    sel = pred[(pred["split"] == "test") & (pred["arm"] == arm)]
    key = "image_id" if "image_id" in sel.columns else None
    if key is None or sel.empty:
        return sel
    extra = [c for c in sel.columns if c not in ("seed", "y_score", "generator", "ratio")]
    return sel.groupby(extra, dropna=False, as_index=False)["y_score"].mean()


def _group_rows(frame: pd.DataFrame, attr: str, group: str) -> pd.DataFrame:
    if attr == "lesion_type":  # Contract 4: positives of this type plus all negatives
        return frame[(frame[attr] == group) | (frame["y_true"] == 0)]
    return frame[frame[attr] == group]


def _roc_figures(data: RunData) -> dict:
    if data.predictions.empty or "y_score" not in data.predictions.columns:
        return {}
    frames = {a["arm"]: _test_scores(data, a["arm"]) for a in data.result["arms"]}
    out = {}
    for attr in subgroup_attributes(data):
        curves = {}
        for arm, frame in frames.items():
            if attr not in frame.columns:
                continue
            for group in sorted(frame[attr].dropna().astype(str).unique()):
                sub = _group_rows(frame, attr, group)
                if attr == "lesion_type" and group == "none" or sub["y_true"].nunique() < 2:
                    continue
                curves.setdefault(arm, {})[f"{group} (n={len(sub)})"] = roc_points(sub["y_true"], sub["y_score"])
        if curves:
            out[f"roc_{attr}"] = (F.roc_panels(curves, f"ROC by {attr}"),
                                  f"ROC curves per {attr} group on the test split, one panel per arm; scores "
                                  "averaged over training seeds per image.")
    return out


def _calibration_figure(data: RunData) -> dict:
    if data.predictions.empty:
        return {}
    bins = {}
    for arm in [a["arm"] for a in data.result["arms"]]:
        frame = _test_scores(data, arm)
        if len(frame) < 20:
            continue
        q = pd.qcut(frame["y_score"].rank(method="first"), 10, labels=False)
        g = frame.groupby(q)
        bins[arm] = (g["y_score"].mean().to_numpy(), g["y_true"].mean().to_numpy(), g.size().to_numpy())
    return {"calibration": (F.calibration_plot(bins), "Reliability diagram per arm on the test split.")} if bins else {}


def _sample_figures(data: RunData) -> dict:
    from mammobench.report.sample_grids import sample_figures

    return sample_figures(data.samples)


def _gallery_figures(data: RunData) -> dict:
    out = {}
    for key, arr in data.audit_arrays.items():
        slug = key.replace("/", "_")
        if {"synthetic", "nearest", "similarity"} <= set(arr):
            out[f"nn_{slug}"] = (nn_pairs(arr["synthetic"], arr["nearest"], arr["similarity"]),
                                 f"Memorisation audit {key}: synthetic images and their nearest training images.")
        for space in sorted(k[:-len("_synthetic_images")] for k in arr if k.endswith("_synthetic_images")):
            if f"{space}_train_images" in arr and f"{space}_distance" in arr:  # audits/run.py gallery layout
                out[f"nn_{slug}_{space}"] = (
                    nn_pairs(arr[f"{space}_synthetic_images"], arr[f"{space}_train_images"],
                               arr[f"{space}_distance"], label="distance"),
                    f"Memorisation audit {key} ({space} space): closest synthetic–training pairs and their distance.")
    return out


def _distribution_series(rec: dict) -> dict[str, dict[str, dict[str, float]]]:
    """``{attribute: {source: shares}}`` from a bias record (either evidence layout)."""
    ev = rec.get("evidence") or {}
    out = {}
    for attr, d in sorted((ev.get("distributions") or {}).items()):  # {attr: {"real": {...}, "synthetic": {...}}}
        if isinstance(d, dict) and isinstance(d.get("real"), dict) and isinstance(d.get("synthetic"), dict):
            out[attr] = {"real (train)": d["real"], "synthetic": d["synthetic"]}
    if isinstance(ev.get("synthetic"), dict) and isinstance(ev.get("train"), dict):  # one attribute per record
        attr = str(rec.get("check", "")).split("_distribution")[0]
        out[attr] = {"real (train)": ev["train"], "synthetic": ev["synthetic"],
                     **({"target": ev["target"]} if isinstance(ev.get("target"), dict) else {})}
    return out


def _audit_figures(data: RunData, metric: str) -> dict:
    out, panels = {}, {}
    for rec in data.result["audits"]:
        for attr, series in _distribution_series(rec).items():
            panels.setdefault(rec["generator"], {})[f"{rec['check']}" if attr in rec["check"] else
                                                   f"{rec['check']}: {attr}"] = series
    for generator, gen_panels in sorted(panels.items()):
        out[f"dist_{generator}"] = (F.distribution_bars(gen_panels, f"bias audit: {generator}"),
                                    f"Bias audit ({generator}): subgroup mix of the real training data, the "
                                    "synthetic set and (when given) the target population.")
    ratios = {a["arm"]: (a.get("generator"), a.get("ratio")) for a in data.result["arms"]}
    series: dict[str, list] = {}
    for c in data.result["comparisons"]:
        gen, ratio = ratios.get(c["arm"], (None, None))
        if c["metric"] == metric and c.get("attribute") is None and ratio is not None and c.get("estimate") is not None:
            series.setdefault(str(gen), []).append((float(ratio), c["estimate"], c.get("ci_low"), c.get("ci_high")))
    if series:
        out["effect_vs_ratio"] = (F.effect_vs_ratio(series, metric),
                                  f"Overall change in {metric} against the synthetic:real ratio, per generator.")
    return out


def _partition_figures(data: RunData) -> dict:
    out = {}
    for attr in subgroup_attributes(data):
        counts = partition_counts(data.predictions, attr)
        if counts:
            out[f"partition_{attr}"] = (F.partition_bars(counts, attr),
                                        f"Composition of the evaluation partitions by {attr}.")
    return out


@dataclass(frozen=True)
class FigureBuilder:
    """One registered figure function: ``fn(data, metric) -> {name: (Figure, caption)}``.

    ``gallery`` figures (image grids) are written at ``dpi`` as files beside the report and linked from
    it; the others are small charts embedded in the HTML (and written as files too).
    """

    fn: Callable[[RunData, str], dict]
    gallery: bool = False
    dpi: int = 80


#: every report figure, in report order; a new figure is one entry here plus its section in sections.py
FIGURE_BUILDERS: list[FigureBuilder] = [
    FigureBuilder(lambda d, m: _cohort_figure(d)),
    FigureBuilder(lambda d, m: _partition_figures(d)),
    FigureBuilder(_forest_figures, dpi=100),
    FigureBuilder(lambda d, m: _roc_figures(d)),
    FigureBuilder(detection_figures, dpi=100),
    FigureBuilder(lambda d, m: _calibration_figure(d)),
    FigureBuilder(lambda d, m: _sample_figures(d), gallery=True, dpi=100),
    FigureBuilder(lambda d, m: _gallery_figures(d), gallery=True, dpi=100),
    FigureBuilder(detection_gallery, gallery=True, dpi=110),
    FigureBuilder(_audit_figures),
]


def _cohort_figure(data: RunData) -> dict:
    flow = data.result["cohort"].get("flow")
    return {"cohort_flow": (F.cohort_flow(flow), "Cohort flow: patients and images after each inclusion/exclusion "
                                                 "rule.")} if flow else {}


def build_figures(data: RunData) -> dict[str, dict]:
    """All figures the run's files support, in report order: ``{name: {png, caption, anchor, gallery}}``."""
    metric = primary_metric(data)
    out = {}
    for builder in FIGURE_BUILDERS:
        for name, (fig, caption) in builder.fn(data, metric).items():  # to PNG (and closed) as soon as drawn
            png = figure_png(fig, dpi=builder.dpi, palette=not builder.gallery)  # galleries keep every grey level
            out[name] = {"png": png, "caption": caption,
                         "anchor": f"fig-{name}", "gallery": builder.gallery}
    return out


__all__ = ["FIGURE_BUILDERS", "FigureBuilder", "build_figures", "primary_metric", "control_arm",
           "subgroup_attributes"]
