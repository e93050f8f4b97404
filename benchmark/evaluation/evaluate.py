"""``evaluate_run(predictions, plan)``: predictions table → tidy metric/comparison/fairness records.

Steps (Contract 4): validate (NaN scores raise), align val/test into score cubes, choose one global
threshold per (arm, seed) on validation at ``plan['target_specificity']``, draw ONE patient-level
stratified bootstrap on the test cases (reused for every arm, seed, metric and group), then

* ``metrics``: per arm × group × metric, seed-averaged value with percentile CI, n, n_pos, status;
  plus per-seed AUCs (overall) and calibration slope/intercept and PPV/NPV at the plan prevalence;
* ``comparisons``: each arm − control, paired bootstrap on the seed-averaged metric (and paired
  DeLong/Obuchowski on seed-averaged scores for AUC), plus — with >= 2 seeds — the primary AUC test
  that also counts training randomness (OR–Hillis, seeds as random readers; see seed_variance.py),
  Holm or BH within each (arm, family); each record names its ``family`` and whether it is the
  ``primary`` test (:func:`mammobench.results.mark_primary`);
* ``fairness`` and ``interactions``: see :mod:`mammobench.evaluation.fairness_records`.

Example:
    >>> from mammobench.evaluation.fixtures import make_predictions
    >>> out = evaluate_run(make_predictions(n_patients=120, seeds=(0,)), {"n_boot": 50, "subgroups": ["density"]})
    >>> sorted(out)
    ['comparisons', 'fairness', 'interactions', 'metrics', 'operating_point']
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from mammobench.errors import ConfigError, StatisticsError
from mammobench.evaluation.degenerate import bootstrap_ci, degenerate_warnings, log_warnings
from mammobench.evaluation.families import adjust_in_families
from mammobench.evaluation.fairness_records import fairness_records, interaction_records
from mammobench.evaluation.plan import AnalysisPlan
from mammobench.evaluation.replicates import group_replicates
from mammobench.evaluation.seed_variance import METHOD as SEED_METHOD, seeds_as_readers_test
from mammobench.evaluation.stratify import group_status, subgroup_masks
from mammobench.evaluation.table import ScoreCube, align_split, val_thresholds, validate_predictions
from mammobench.results import mark_primary
from mammobench.stats.bootstrap import PatientBootstrap, bootstrap_p_value
from mammobench.stats.clustered_auc import paired_clustered_test
from mammobench.stats.delong import paired_delong_test
from mammobench.stats.metrics import EnrichedCohortWarning, calibration_slope_intercept, ppv_npv_at_prevalence

BOOT_METHOD = "paired patient bootstrap (seed-averaged metric)"
#: comparison families (the ``family`` field of a comparison record); see evaluation/primary.py
FAMILY_BOOTSTRAP, FAMILY_DELONG, FAMILY_SEEDS = "patient_bootstrap", "delong_conditional", "seeds_as_readers"


def _plan(plan: AnalysisPlan | dict) -> dict:
    """The validated plan (one validator: :class:`AnalysisPlan`) as a working mapping for this module."""
    try:
        return AnalysisPlan.from_mapping(plan).to_dict()
    except ConfigError as err:  # a malformed plan handed to the statistics layer
        raise StatisticsError(str(err)) from None


def _metric_record(metric, arm, sg, value, ci, n, n_pos, status, seed=None) -> dict:
    return {"metric": metric, "split": "test", "arm": arm, "attribute": sg.attribute, "group": sg.group,
            "value": value, "ci_low": ci[0], "ci_high": ci[1], "n": n, "n_pos": n_pos, "status": status,
            "seed": seed}


def _group_metrics(cube, sg, taus, weights, plan, boots) -> list[dict]:
    y, m = cube.y[sg.mask], sg.mask
    n, n_pos = int(m.sum()), int(y.sum())
    status = group_status(n_pos, n - n_pos, plan["min_group_size"])
    records = []
    for metric in plan["metrics"]:
        for arm in cube.arms:
            value, ci, note = float("nan"), (float("nan"), float("nan")), ""
            if status != "undefined":
                try:
                    value, boot = group_replicates(metric, y, cube.scores[arm][:, m],
                                                   [taus[arm][s] for s in cube.seeds[arm]], weights[:, m])
                except StatisticsError:
                    boot = None
                if boot is not None:
                    boots[(metric, sg.attribute, sg.group, arm)] = boot
                    if status == "ok":
                        ci, note = bootstrap_ci(boot, plan["alpha"])
            records.append(_metric_record(metric, arm, sg, value, ci, n, n_pos, status) | ({"ci_note": note} if note else {}))
    return records


def _overall_extras(cube: ScoreCube, taus, plan) -> list[dict]:
    from mammobench.evaluation.stratify import Subgroup
    from mammobench.stats.metrics import roc_auc

    overall, y, nan2 = Subgroup(None, None, np.ones(len(cube.cases), bool)), cube.y, (float("nan"),) * 2
    n, n_pos, out = len(y), int(y.sum()), []
    for arm in cube.arms:
        for seed, row in zip(cube.seeds[arm], cube.scores[arm]):
            out.append(_metric_record("auc", arm, overall, roc_auc(y, row), nan2, n, n_pos, "ok", seed))
        if ((cube.scores[arm] >= 0) & (cube.scores[arm] <= 1)).all():
            fits = np.array([calibration_slope_intercept(y, row) for row in cube.scores[arm]])
            out.append(_metric_record("calibration_intercept", arm, overall, float(fits[:, 0].mean()), nan2, n, n_pos, "ok"))
            out.append(_metric_record("calibration_slope", arm, overall, float(fits[:, 1].mean()), nan2, n, n_pos, "ok"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", EnrichedCohortWarning)
            pv = [ppv_npv_at_prevalence(y, row > taus[arm][s], plan["prevalence"])
                  for s, row in zip(cube.seeds[arm], cube.scores[arm])]
        for key in ("ppv", "npv"):
            rec = _metric_record(f"{key}_at_prevalence", arm, overall, float(np.mean([p[key] for p in pv])),
                                 nan2, n, n_pos, "ok")
            rec["prevalence"], rec["test_prevalence"] = plan["prevalence"], n_pos / n
            out.append(rec)
    return out


def _comparison(metric, arm, control, sg, estimate, ci, p, method, family, n, n_pos, status) -> dict:
    return {"metric": metric, "arm": arm, "control": control, "attribute": sg.attribute, "group": sg.group,
            "estimate": estimate, "ci_low": ci[0], "ci_high": ci[1], "p_value": p, "p_adjusted": float("nan"),
            "adjustment": None, "significant": False, "method": method, "family": family, "primary": False,
            "n": n, "n_pos": n_pos, "status": status}


def _delong_comparison(cube, sg, arm, control, alpha, clustered):
    y, m = cube.y[sg.mask], sg.mask
    s1, s2 = cube.scores[arm][:, m].mean(axis=0), cube.scores[control][:, m].mean(axis=0)
    if clustered:
        t = paired_clustered_test(y, s1, s2, cube.cases["patient_id"].to_numpy()[m], alpha)
        return t, "paired Obuchowski clustered DeLong (seed-averaged scores)"
    return paired_delong_test(y, s1, s2, alpha), "paired DeLong (seed-averaged scores)"


def _seed_comparison(cube, sg, arm, control, alpha):
    """Seeds-as-readers OR–Hillis test (B-1.4), or None with fewer than 2 paired seeds / an undefined jackknife."""
    if cube.seeds[arm] != cube.seeds[control] or len(cube.seeds[arm]) < 2:
        return None
    m = sg.mask
    try:
        return seeds_as_readers_test(cube.y[m], cube.scores[arm][:, m], cube.scores[control][:, m],
                                     patients=cube.cases["patient_id"].to_numpy()[m], alpha=alpha)
    except StatisticsError:
        return None


def _comparisons(cube, groups, control, plan, boots, metric_recs) -> list[dict]:
    value = {(r["metric"], r["attribute"], r["group"], r["arm"]): r for r in metric_recs if r["seed"] is None}
    clustered = cube.cases["patient_id"].duplicated().any()
    out = []
    for arm in [a for a in cube.arms if a != control]:
        for sg in groups:
            for metric in plan["metrics"]:
                rec = value[(metric, sg.attribute, sg.group, arm)]
                est = rec["value"] - value[(metric, sg.attribute, sg.group, control)]["value"]
                key_a, key_c = (metric, sg.attribute, sg.group, arm), (metric, sg.attribute, sg.group, control)
                ci, p, note = (float("nan"),) * 2, float("nan"), ""
                if rec["status"] == "ok" and key_a in boots and key_c in boots:
                    delta = boots[key_a] - boots[key_c]
                    (ci, note), p = bootstrap_ci(delta, plan["alpha"]), bootstrap_p_value(delta)
                out.append(_comparison(metric, arm, control, sg, est, ci, p, BOOT_METHOD, FAMILY_BOOTSTRAP, rec["n"],
                                       rec["n_pos"], rec["status"]) | ({"ci_note": note} if note else {}))
                if metric == "auc" and rec["status"] == "ok":
                    t, method = _delong_comparison(cube, sg, arm, control, plan["alpha"], clustered)
                    out.append(_comparison(metric, arm, control, sg, t.difference, (t.ci_low, t.ci_high),
                                           t.p_value, method, FAMILY_DELONG, rec["n"], rec["n_pos"], rec["status"])
                               | ({"ci_note": t.note} if t.note else {}))
                    sv = _seed_comparison(cube, sg, arm, control, plan["alpha"])
                    if sv is not None:
                        out.append(_comparison(metric, arm, control, sg, sv["difference"],
                                               (sv["ci_low"], sv["ci_high"]), sv["p_value"], SEED_METHOD,
                                               FAMILY_SEEDS, rec["n"], rec["n_pos"], rec["status"]))
    return mark_primary(adjust_in_families(out, plan), plan["primary_metric"])


def _default_control(df: pd.DataFrame, arms: list[str]) -> str:
    """The arm whose generator is ``none`` (real data only) when unique, else the first arm."""
    real = sorted(set(df.loc[df["generator"].astype(str) == "none", "arm_label"]))
    return real[0] if len(real) == 1 else arms[0]


def evaluate_run(predictions: pd.DataFrame, plan: dict, *, marks: pd.DataFrame | None = None,
                 lesions: pd.DataFrame | None = None) -> dict:
    """Evaluate every arm × seed on the test split; see the module docstring for the records.

    Args:
        predictions: Contract-4 predictions table (val and test rows).
        plan: the frozen :class:`~mammobench.evaluation.plan.AnalysisPlan` (or a mapping of its keys;
            missing keys take the plan's defaults).
        marks, lesions: a detection run's marks and lesion boxes; their records (wAFROC, FROC, lesion
            sensitivity; :mod:`mammobench.evaluation.detection`) are added and the result gets a
            ``detection`` summary.

    Returns:
        ``dict(metrics, comparisons, fairness, interactions, operating_point)``.

    Raises:
        StatisticsError: NaN scores (rows named), unpaired cells, unknown plan keys or control arm.
    """
    plan = _plan(plan)
    df = validate_predictions(predictions)
    val, test = align_split(df, "val"), align_split(df, "test")
    control = plan["control_arm"] if plan["control_arm"] is not None else _default_control(df, test.arms)
    if control not in test.arms:
        raise StatisticsError(f"control_arm {control!r} is not an arm of the predictions; arms: {test.arms}")
    taus = val_thresholds(val, plan["target_specificity"])
    missing = [a for a in test.arms if a not in taus]
    if missing:
        raise StatisticsError(f"arm(s) {missing} have no validation predictions to choose the threshold on")
    unpaired = [(a, s) for a in test.arms for s in test.seeds[a] if s not in taus[a]]
    if unpaired:
        raise StatisticsError(f"(arm, seed) {unpaired[:5]} have test but no validation predictions; the "
                              "threshold is chosen on validation — re-run those cells")
    boot = PatientBootstrap.draw(test.cases["patient_id"], test.y, n_boot=plan["n_boot"], seed=plan["seed"])
    weights = boot.case_weights(test.cases["patient_id"])
    groups = subgroup_masks(test.cases, plan["subgroups"], plan["intersections"])
    boots: dict[tuple, np.ndarray] = {}
    metrics = [r for sg in groups for r in _group_metrics(test, sg, taus, weights, plan, boots)]
    log_warnings(degenerate_warnings(test, metrics, plan["min_group_size"]))
    comparisons = _comparisons(test, groups, control, plan, boots, metrics)
    plan["_points"] = {(r["metric"], r["attribute"], r["group"], r["arm"]): r["value"] for r in metrics}
    plan["_status"] = {(r["attribute"], r["group"]): r["status"] for r in metrics}
    metrics += _overall_extras(test, taus, plan)
    fairness = fairness_records(test, groups, taus, weights, control, plan, boots)
    interactions = interaction_records(test, groups, control, plan, boots, metrics)
    operating_point = {"target_specificity": plan["target_specificity"], "chosen_on": "val",
                       "thresholds": {a: {str(s): t for s, t in v.items()} for a, v in taus.items()},
                       "bootstrap": {"n_boot": plan["n_boot"], "seed": plan["seed"], "unit": "patient",
                                     "strata": "patients with >= 1 positive image vs all-negative patients"}}
    out = {"metrics": metrics, "comparisons": comparisons, "fairness": fairness,
           "interactions": interactions, "operating_point": operating_point}
    if marks is not None:
        from mammobench.evaluation.detection import evaluate_detection

        detection = evaluate_detection(predictions, marks, lesions, {k: v for k, v in plan.items() if not k.startswith("_")})
        out["metrics"] += detection["metrics"]
        out["comparisons"] += detection["comparisons"]
        out["detection"] = detection["detection"]
    return out
