"""Lesion-detection endpoints: marks + lesions → tidy metric and comparison records (``result.json``).

Pre-specified primary: the **wAFROC figure of merit** (JAFROC; :mod:`mammobench.stats.wafroc`), compared
arm vs control with the OR–Hillis test that treats training seeds as random readers (patient-jackknife
covariance), Holm within each arm (overall + subgroups), as for the image-level AUC. Secondary:

* ``froc_sensitivity``: lesion sensitivity read off the test FROC curve at a grid of false marks per
  image (``fpi``; the plan's ``fpi_points`` 0.25, 0.5, 1, 2, 4 flagged ``fpi_point``), seed-averaged,
  with pointwise patient-bootstrap bands; ``reached`` says whether every seed's curve got that far;
* ``cpm``: mean sensitivity over the ``fpi_points``;
* ``lesion_sensitivity`` per lesion type, density, age band, vendor (and overall) at the task's ``fpi``:
  the score threshold is chosen per (arm, seed) on **validation** so that it gives at most ``fpi`` false
  marks per image there, then applied to test; n = lesions, with a bootstrap CI;
* ``false_marks_per_image`` at the same threshold, overall and per density;
* image-level AUC from the image score (the highest mark): computed by :func:`evaluate_run` on
  ``predictions.csv`` like any classifier's score.

One patient-level bootstrap (the same draw as the image-level metrics: same patients, labels, B and
seed) serves every record, so all differences are paired. Every value carries n (images; ``n_lesions``
for lesion-level rates), n_pos (lesion images) and a 95 % CI.

Example:
    >>> from mammobench.evaluation.detection_fixtures import make_detection_run
    >>> preds, marks, lesions = make_detection_run(n_patients=60, seeds=(0, 1))
    >>> out = evaluate_detection(preds, marks, lesions, {"n_boot": 50, "subgroups": ["density"], "control_arm": "none"})
    >>> sorted({r["metric"] for r in out["metrics"]})
    ['cpm', 'false_marks_per_image', 'froc_sensitivity', 'lesion_sensitivity', 'wafroc']
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from mammobench.errors import StatisticsError
from mammobench.evaluation.detection_compare import detection_comparisons
from mammobench.evaluation.detection_table import DetectionCube, detection_cube, fpi_threshold
from mammobench.evaluation.stratify import Subgroup, group_status, subgroup_masks
from mammobench.stats.bootstrap import PatientBootstrap, percentile_ci, weighted_rate
from mammobench.stats.froc import froc_replicates
from mammobench.stats.wafroc import wafroc

DETECTION_DEFAULTS: dict[str, Any] = {"hit_criterion": "centre", "iou_threshold": 0.1, "fpi": 1.0,
                                      "fpi_points": [0.25, 0.5, 1.0, 2.0, 4.0]}
FALSE_MARK_ATTRIBUTES = ("density",)
SUBGROUP_COLUMNS = ("density", "age_band", "lesion_type", "vendor", "site", "view")


def froc_grid(fpi_points: list[float]) -> np.ndarray:
    """FPI values at which the FROC curve is stored: 24 log-spaced points 0.05–8 plus the reported ones.

    Example:
        >>> g = froc_grid([0.25, 1.0]); bool(0.25 in g), float(g.min()), len(g)
        (True, 0.05, 26)
    """
    return np.unique(np.r_[np.round(np.geomspace(0.05, 8.0, 24), 4), np.asarray(fpi_points, float)])


def _images(predictions: pd.DataFrame, split: str) -> pd.DataFrame:
    """One row per image of ``split`` with its patient, label and subgroup columns."""
    cols = ["image_id", "patient_id", "y_true", *[c for c in SUBGROUP_COLUMNS if c in predictions.columns]]
    rows = predictions.loc[predictions["split"] == split, cols].drop_duplicates("image_id")
    return rows.astype({"image_id": str, "patient_id": str}).reset_index(drop=True)


def _record(metric: str, arm: str, sg: Subgroup, value: float, ci, n: int, n_pos: int, status: str,
            seed: int | None = None, **extra) -> dict:
    return {"metric": metric, "split": "test", "arm": arm, "attribute": sg.attribute, "group": sg.group,
            "value": float(value), "ci_low": float(ci[0]), "ci_high": float(ci[1]), "n": int(n), "n_pos": int(n_pos),
            "status": status, "seed": seed, **extra}


class _Context:
    """What every record of one evaluation shares: cube, bootstrap weights, thresholds, plan."""

    def __init__(self, cube: DetectionCube, weights: np.ndarray, taus: dict, plan: dict, det: dict):
        self.cube, self.w, self.taus, self.plan, self.det = cube, weights, taus, plan, det
        self.lesion_img = cube.lesions["img"].to_numpy()
        self.lesion_type = cube.lesions["lesion_type"].astype(str).to_numpy()
        self.normal = cube.normal
        self.boots: dict[tuple, np.ndarray] = {}

    def lesion_mask(self, sg: Subgroup) -> np.ndarray:
        keep = sg.mask[self.lesion_img]
        return keep & (self.lesion_type == sg.group) if sg.attribute == "lesion_type" else keep

    def ci(self, boot: np.ndarray, status: str) -> tuple[float, float]:
        return percentile_ci(boot, self.plan["alpha"]) if status == "ok" else (float("nan"), float("nan"))


def _wafroc_records(ctx: _Context, sg: Subgroup) -> list[dict]:
    normals, keep = ctx.normal & sg.mask, ctx.lesion_mask(sg)
    n_lesion_images = int(np.unique(ctx.lesion_img[keep]).size)
    status = group_status(n_lesion_images, int(normals.sum()), ctx.plan["min_group_size"])
    out = []
    for arm in ctx.cube.arms:
        if status == "undefined":
            out.append(_record("wafroc", arm, sg, np.nan, (np.nan, np.nan), sg.mask.sum(), n_lesion_images, status))
            continue
        weights = ctx.cube.lesion_weights(keep)[keep]
        rep_w = np.hstack([ctx.w[:, normals], ctx.w[:, ctx.lesion_img[keep]]])
        runs = ctx.cube.runs[arm]
        values = [wafroc(r.image_fp_max[normals], r.lesion_scores[keep], weights) for r in runs]
        boot = np.mean([wafroc(r.image_fp_max[normals], r.lesion_scores[keep], weights, rep_w) for r in runs], axis=0)
        ctx.boots[("wafroc", sg.attribute, sg.group, arm)] = boot
        out.append(_record("wafroc", arm, sg, np.mean(values), ctx.ci(boot, status), sg.mask.sum(), n_lesion_images,
                           status, n_lesions=int(keep.sum()), n_normal=int(normals.sum())))
        if sg.attribute is None:
            out += [_record("wafroc", arm, sg, v, (np.nan, np.nan), sg.mask.sum(), n_lesion_images, status, seed=r.seed)
                    for r, v in zip(runs, values)]
    return out


def _froc_records(ctx: _Context, overall: Subgroup) -> list[dict]:
    grid, points = froc_grid(ctx.det["fpi_points"]), np.asarray(ctx.det["fpi_points"], float)
    n, n_pos, out = len(ctx.cube.images), int((~ctx.normal).sum()), []
    ones = np.ones((1, n))
    for arm in ctx.cube.arms:
        runs = ctx.cube.runs[arm]
        args = [(r.lesion_scores, ctx.lesion_img, r.fp_scores, r.fp_image) for r in runs]
        point = np.mean([froc_replicates(*a, ones, grid)[0] for a in args], axis=0)
        boot = np.mean([froc_replicates(*a, ctx.w, grid) for a in args], axis=0)
        reach = min(r.fp_scores.size for r in runs) / n
        for j, f in enumerate(grid):
            ctx.boots[("froc_sensitivity", f, arm)] = boot[:, j]
            out.append(_record("froc_sensitivity", arm, overall, point[j], percentile_ci(boot[:, j], ctx.plan["alpha"]),
                               n, n_pos, "ok", fpi=float(f), fpi_point=bool(np.isclose(points, f).any()),
                               reached=bool(f <= reach), n_lesions=int(len(ctx.lesion_img))))
        sel = np.isin(grid, points)
        ctx.boots[("cpm", None, None, arm)] = boot[:, sel].mean(axis=1)
        out.append(_record("cpm", arm, overall, point[sel].mean(), percentile_ci(boot[:, sel].mean(axis=1),
                           ctx.plan["alpha"]), n, n_pos, "ok", fpi_points=[float(f) for f in points]))
    return out


def _sensitivity_records(ctx: _Context, sg: Subgroup) -> list[dict]:
    keep = ctx.lesion_mask(sg)
    n_les = int(keep.sum())
    status = "undefined" if n_les == 0 else ("insufficient_n" if n_les < ctx.plan["min_group_size"] else "ok")
    out, w_les = [], ctx.w[:, ctx.lesion_img]
    for arm in ctx.cube.arms:
        runs = ctx.cube.runs[arm]
        hits = [r.lesion_scores > ctx.taus[arm][r.seed] for r in runs]
        value = np.mean([h[keep].mean() for h in hits]) if n_les else np.nan
        boot = np.mean([weighted_rate(h & keep, keep, w_les) for h in hits], axis=0)
        ctx.boots[("lesion_sensitivity", sg.attribute, sg.group, arm)] = boot
        out.append(_record("lesion_sensitivity", arm, sg, value, ctx.ci(boot, status), n_les, n_les, status,
                           n_lesions=n_les, fpi=float(ctx.det["fpi"]), threshold_chosen_on="val",
                           thresholds={str(r.seed): ctx.taus[arm][r.seed] for r in runs}))
    return out


def _false_mark_records(ctx: _Context, sg: Subgroup) -> list[dict]:
    n_img = int(sg.mask.sum())
    status = "ok" if n_img >= ctx.plan["min_group_size"] else ("undefined" if n_img == 0 else "insufficient_n")
    out, denom = [], ctx.w @ sg.mask.astype(float)
    for arm in ctx.cube.arms:
        counts = [(r.fp_scores > ctx.taus[arm][r.seed]) & sg.mask[r.fp_image] for r in ctx.cube.runs[arm]]
        value = np.mean([c.sum() / max(n_img, 1) for c in counts])
        with np.errstate(invalid="ignore", divide="ignore"):
            boot = np.mean([ctx.w[:, r.fp_image] @ c.astype(float) / denom for r, c in zip(ctx.cube.runs[arm], counts)],
                           axis=0)
        ctx.boots[("false_marks_per_image", sg.attribute, sg.group, arm)] = boot
        out.append(_record("false_marks_per_image", arm, sg, value, ctx.ci(boot, status), n_img,
                           int((~ctx.normal & sg.mask).sum()), status, fpi=float(ctx.det["fpi"]),
                           threshold_chosen_on="val"))
    return out


def _thresholds(val: DetectionCube, fpi: float) -> dict[str, dict[int, float]]:
    return {arm: {r.seed: fpi_threshold(r, len(val.images), fpi) for r in runs} for arm, runs in val.runs.items()}


def evaluate_detection(predictions: pd.DataFrame, marks: pd.DataFrame, lesions: pd.DataFrame, plan: dict) -> dict:
    """Detection records of a run: ``{"metrics", "comparisons", "detection"}`` (see the module docstring).

    Args:
        predictions: Contract-4 predictions (image rows of val and test, with subgroup columns).
        marks: every cell's marks (``marks.csv``); lesions: ``data/lesions.csv`` (boxes of positive images).
        plan: analysis plan; ``plan["detection"]`` overrides :data:`DETECTION_DEFAULTS`.

    Raises:
        StatisticsError: an arm or seed without validation marks, or a test split without lesions or normals.
    """
    from mammobench.errors import ConfigError
    from mammobench.evaluation.plan import AnalysisPlan

    try:  # the one plan validator; evaluate.py hands over the same plan
        plan = AnalysisPlan.from_mapping(plan).to_dict()
    except ConfigError as err:
        raise StatisticsError(str(err)) from None
    det = {**DETECTION_DEFAULTS, **(plan["detection"] or {})}
    rule = {"criterion": det["hit_criterion"], "iou_threshold": float(det["iou_threshold"])}
    test = detection_cube(marks[marks["split"] == "test"], lesions, _images(predictions, "test"), **rule)
    val = detection_cube(marks[marks["split"] == "val"], lesions, _images(predictions, "val"), **rule)
    taus = _thresholds(val, float(det["fpi"]))
    missing = [(a, r.seed) for a in test.arms for r in test.runs[a] if r.seed not in taus.get(a, {})]
    if missing:
        raise StatisticsError(f"(arm, seed) {missing[:5]} have test marks but no validation marks to choose the "
                              "threshold on; re-run those cells")
    if test.normal.all() or not test.normal.any():
        raise StatisticsError("detection evaluation needs test images with and without lesions")
    images = test.images.assign(y_true=(~test.normal).astype(int))
    boot = PatientBootstrap.draw(images["patient_id"], images["y_true"], n_boot=plan["n_boot"], seed=plan["seed"])
    ctx = _Context(test, boot.case_weights(images["patient_id"]), taus, plan, det)
    groups = subgroup_masks(images, [a for a in plan["subgroups"] if a in images.columns], [])
    metrics = [r for sg in groups for r in _wafroc_records(ctx, sg)] + _froc_records(ctx, groups[0])
    metrics += [r for sg in groups for r in _sensitivity_records(ctx, sg)]
    metrics += [r for sg in groups if sg.attribute in (None, *FALSE_MARK_ATTRIBUTES) for r in _false_mark_records(ctx, sg)]
    control = plan["control_arm"] or ("none" if "none" in test.arms else test.arms[0])
    comparisons = detection_comparisons(ctx, groups, metrics, control)
    summary = {"hit_criterion": det["hit_criterion"], "iou_threshold": float(det["iou_threshold"]),
               "fpi": float(det["fpi"]), "fpi_points": [float(f) for f in det["fpi_points"]],
               "thresholds": {a: {str(s): t for s, t in v.items()} for a, v in taus.items()}, "chosen_on": "val",
               "excluded_positive_without_boxes": {"test": test.excluded, "val": val.excluded},
               "n_test_images": len(test.images), "n_test_lesions": len(test.lesions)}
    return {"metrics": metrics, "comparisons": comparisons, "detection": summary}


__all__ = ["DETECTION_DEFAULTS", "evaluate_detection", "froc_grid"]
