"""Paired arm-vs-control comparisons of the detection endpoints.

* ``wafroc`` (primary): with ≥ 2 training seeds shared by arm and control, the OR–Hillis RRRC test with
  seeds as random readers (:func:`mammobench.evaluation.seed_variance.paired_or_hillis`) on the ``2 × S``
  table of per-seed wAFROC FOMs, the case covariance being the jackknife over **patients** of those FOMs
  (:func:`mammobench.stats.wafroc.wafroc_jackknife`) — the analysis RJafroc runs with readers, here with
  training runs; plus the paired patient bootstrap of the seed-averaged FOM (conditional on the trained
  detectors).
* ``lesion_sensitivity``, ``false_marks_per_image``, ``froc_sensitivity`` at the reported FPI points and
  ``cpm``: the paired patient bootstrap of the seed-averaged value.

Multiplicity: Holm (or the plan's method) within each (arm, metric, method) family — the wAFROC
seeds-as-readers family of an arm is its overall test plus every pre-specified subgroup, exactly as the
image-level AUC's.

Example:
    >>> r = paired_bootstrap(np.array([0.8, 0.82, 0.81]), np.array([0.7, 0.71, 0.69]), 0.05)
    >>> r[1] < 0.5
    True
"""
from __future__ import annotations

import numpy as np

from mammobench.evaluation.families import adjust_in_families
from mammobench.evaluation.seed_variance import METHOD as SEED_METHOD, paired_or_hillis
from mammobench.evaluation.stratify import Subgroup
from mammobench.results import mark_primary
from mammobench.stats.bootstrap import bootstrap_p_value, percentile_ci
from mammobench.stats.wafroc import jackknife_covariance, wafroc, wafroc_jackknife

BOOT_METHOD = "paired patient bootstrap (seed-averaged metric)"
FAMILY_BOOTSTRAP, FAMILY_SEEDS = "patient_bootstrap", "seeds_as_readers"  # as evaluation/evaluate.py
SECONDARY = ("lesion_sensitivity", "false_marks_per_image")


def paired_bootstrap(arm_boot: np.ndarray, control_boot: np.ndarray, alpha: float) -> tuple[tuple[float, float], float]:
    """CI and two-sided p of the paired replicate differences."""
    delta = np.asarray(arm_boot) - np.asarray(control_boot)
    return percentile_ci(delta, alpha), bootstrap_p_value(delta)


def _comparison(rec: dict, control_rec: dict, estimate: float, ci, p: float, method: str, **extra) -> dict:
    return {"metric": rec["metric"], "arm": rec["arm"], "control": control_rec["arm"], "attribute": rec["attribute"],
            "group": rec["group"], "estimate": float(estimate), "ci_low": float(ci[0]), "ci_high": float(ci[1]),
            "p_value": float(p), "p_adjusted": float("nan"), "adjustment": None, "significant": False,
            "method": method, "family": FAMILY_SEEDS if method == SEED_METHOD else FAMILY_BOOTSTRAP,
            "primary": False, "n": rec["n"], "n_pos": rec["n_pos"], "status": rec["status"], **extra}


def _seed_test(ctx, sg: Subgroup, arm: str, control: str) -> dict | None:
    """OR–Hillis on per-seed wAFROC FOMs with a patient jackknife, or None (< 2 paired seeds)."""
    runs_a, runs_c = ctx.cube.runs[arm], ctx.cube.runs[control]
    if [r.seed for r in runs_a] != [r.seed for r in runs_c] or len(runs_a) < 2:
        return None
    normals, keep = ctx.normal & sg.mask, ctx.lesion_mask(sg)
    patients = ctx.cube.images["patient_id"].to_numpy()
    weights = ctx.cube.lesion_weights(keep)[keep]
    loo = [wafroc_jackknife(r.image_fp_max[normals], patients[normals], r.lesion_scores[keep], weights,
                            patients[ctx.lesion_img[keep]]) for r in (*runs_a, *runs_c)]
    theta = np.array([[wafroc(r.image_fp_max[normals], r.lesion_scores[keep], weights) for r in runs]
                      for runs in (runs_a, runs_c)])
    return paired_or_hillis(theta, jackknife_covariance(np.vstack(loo)), ctx.plan["alpha"])


def _key(rec: dict) -> tuple:
    return (rec["metric"], rec["attribute"], rec["group"]) if rec["metric"] != "froc_sensitivity" else \
        (rec["metric"], rec["fpi"], None)


def detection_comparisons(ctx, groups: list[Subgroup], metrics: list[dict], control: str) -> list[dict]:
    """Every arm − control comparison of the detection records (see the module docstring)."""
    pooled = {(*_key(m), m["arm"]): m for m in metrics if m.get("seed") is None and
              (m["metric"] != "froc_sensitivity" or m.get("fpi_point"))}
    by_group = {(sg.attribute, sg.group): sg for sg in groups}
    out = []
    for (metric, attr, group, arm), rec in pooled.items():
        base = pooled.get((metric, attr, group, control))
        if arm == control or base is None or rec["status"] == "undefined":
            continue
        boot_key = (metric, attr, arm) if metric == "froc_sensitivity" else (metric, attr, group, arm)
        control_key = boot_key[:-1] + (control,)
        estimate = rec["value"] - base["value"]
        ci, p = (float("nan"),) * 2, float("nan")
        if rec["status"] == "ok" and boot_key in ctx.boots:
            ci, p = paired_bootstrap(ctx.boots[boot_key], ctx.boots[control_key], ctx.plan["alpha"])
        extra = {"fpi": rec["fpi"]} if "fpi" in rec else {}
        out.append(_comparison(rec, base, estimate, ci, p, BOOT_METHOD, **extra))
        if metric == "wafroc" and rec["status"] == "ok":
            test = _seed_test(ctx, by_group[(attr, group)], arm, control)
            if test is not None:
                out.append(_comparison(rec, base, test["difference"], (test["ci_low"], test["ci_high"]),
                                       test["p_value"], SEED_METHOD, df2=test["df2"], se=test["se"],
                                       n_seeds=test["n_seeds"]))
    return mark_primary(adjust_in_families(out, ctx.plan, ("arm", "metric", "family")), ctx.plan["primary_metric"])


__all__ = ["detection_comparisons", "paired_bootstrap"]
