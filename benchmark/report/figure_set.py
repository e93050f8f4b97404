"""Build every report figure of a run from its :class:`RunData` (names, PNG bytes, captions).

Each entry of :func:`build_figures` is ``{"png": bytes, "caption": str, "anchor": "fig-<name>"}``
so checklist items and tables can link to ``#fig-<name>``. Figures whose data the run lacks are
simply absent (the report says so), never drawn from made-up numbers.

Example:
    >>> sorted(build_figures.__annotations__)  # doctest: +ELLIPSIS
    ['data', 'return']
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score, roc_curve

from mammobench.report import figures as F
from mammobench.report.evidence import RunData, partition_counts


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
    arms = [a["arm"] for a in data.result["arms"]]
    recs = [m for m in data.result["metrics"] if m["metric"] == metric and m.get("split") == "test"
            and m.get("seed") is None and m.get("value") is not None]
    rows = [{"label": f"{m['arm']} · {m['attribute'] or 'overall'}={m['group'] or 'all'}", **m,
             "colour": _colour(arms, m["arm"])} for m in sorted(recs, key=_group_key)]
    out = {}
    if rows:
        out["forest"] = (F.forest_plot(rows, f"{metric} per subgroup (test, 95% CI)", metric),
                         f"{metric} overall and per pre-specified subgroup for every arm, with n, positives and 95% CI.")
    comps = [c for c in data.result["comparisons"] if c["metric"] == metric and c.get("estimate") is not None]
    drows = [{"label": f"{c['arm']} · {c['attribute'] or 'overall'}={c['group'] or 'all'}", "value": c["estimate"],
              "ci_low": c["ci_low"], "ci_high": c["ci_high"], "n": c.get("n"), "n_pos": c.get("n_pos"),
              "colour": _colour(arms, c["arm"])} for c in sorted(comps, key=_group_key)]
    if drows:
        out["forest_delta"] = (F.forest_plot(drows, f"change in {metric} vs control (paired, 95% CI)",
                                             f"Δ {metric}", ref=0.0),
                               f"Change in {metric} under augmentation against the control arm, per subgroup, "
                               "with paired 95% CIs.")
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
                fpr, tpr, _ = roc_curve(sub["y_true"], sub["y_score"])
                curves.setdefault(arm, {})[f"{group} (n={len(sub)})"] = (fpr, tpr, roc_auc_score(sub["y_true"], sub["y_score"]))
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


def _froc_figure(data: RunData) -> dict:
    recs = [m for m in data.result["metrics"] if m["metric"] == "froc_sensitivity" and "fpi" in m
            and m.get("attribute") is None and m.get("seed") is None]
    curves: dict[str, tuple[list, list]] = {}
    for m in sorted(recs, key=lambda r: (r["arm"], r["fpi"])):
        curves.setdefault(m["arm"], ([], []))
        curves[m["arm"]][0].append(m["fpi"])
        curves[m["arm"]][1].append(m["value"])
    return {"froc": (F.froc_curves(curves), "FROC: lesion sensitivity vs false positives per image.")} if curves else {}


def _image_figures(data: RunData) -> dict:
    out = {}
    for name, arrays in data.samples.items():
        conds = sorted({k.split("__", 1)[1] for k in arrays if "__" in k})
        rows = {}
        for cond in conds:
            for kind in ("real", "synthetic"):
                if f"{kind}__{cond}" in arrays:
                    rows[f"{kind}\n{cond}"] = arrays[f"{kind}__{cond}"]
        if rows:
            out[f"samples_{name}"] = (F.image_grid(rows, f"real vs synthetic per condition: {name}"),
                                      f"Real and synthetic sample images per condition ({name}).")
    for key, arr in data.audit_arrays.items():
        slug = key.replace("/", "_")
        if {"synthetic", "nearest", "similarity"} <= set(arr):
            out[f"nn_{slug}"] = (F.nn_pairs(arr["synthetic"], arr["nearest"], arr["similarity"]),
                                 f"Memorisation audit {key}: synthetic images and their nearest training images.")
        for space in sorted(k[:-len("_synthetic_images")] for k in arr if k.endswith("_synthetic_images")):
            if f"{space}_train_images" in arr and f"{space}_distance" in arr:  # audits/run.py gallery layout
                out[f"nn_{slug}_{space}"] = (
                    F.nn_pairs(arr[f"{space}_synthetic_images"], arr[f"{space}_train_images"],
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


def build_figures(data: RunData) -> dict[str, dict]:
    """All figures the run's files support, in report order."""
    metric = primary_metric(data)
    built: dict = {}
    if data.result["cohort"].get("flow"):
        built["cohort_flow"] = (F.cohort_flow(data.result["cohort"]["flow"]),
                                "Cohort flow: patients and images after each inclusion/exclusion rule.")
    out = {}
    for part in (_partition_figures, lambda d: _forest_figures(d, metric), _roc_figures, _froc_figure,
                 _calibration_figure, _image_figures, lambda d: _audit_figures(d, metric)):
        built.update(part(data))
        for name, (fig, caption) in built.items():  # to PNG (and closed) as soon as drawn
            out[name] = {"png": F.figure_png(fig), "caption": caption, "anchor": f"fig-{name}"}
        built = {}
    return out


__all__ = ["build_figures", "primary_metric", "control_arm", "subgroup_attributes", "np"]
