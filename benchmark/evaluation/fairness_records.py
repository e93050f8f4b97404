"""Fairness and interaction records of ``result.json`` (``reference/statistics.md`` B-2, B-3).

Fairness, per arm and attribute, over the groups with status ``ok`` (others are listed in
``groups_excluded``, never hidden): worst-group AUC, AUC gap (max − min), equalized-odds difference
at the one global threshold chosen on validation (max of TPR gap and FPR gap, seed-averaged), and
sensitivity per group; each with a patient-bootstrap CI and its change vs the control arm with a
paired CI (same replicates). Interactions: per arm and attribute, a bootstrap Wald χ² test that the
arm − control effect on the primary metric is the same in every group (B-2).

Example:
    >>> kinds = [k for k, _ in FAIRNESS_KINDS]
    >>> kinds
    ['worst_group', 'gap']
"""
from __future__ import annotations

import numpy as np

from benchmark.errors import StatisticsError
from benchmark.stats.bootstrap import percentile_ci, weighted_rate
from benchmark.stats.fairness import equalized_odds_difference
from benchmark.stats.multiplicity import heterogeneity_wald

FAIRNESS_KINDS = (("worst_group", np.min), ("gap", lambda a, axis=0: np.max(a, axis=axis) - np.min(a, axis=axis)))


def _by_attribute(groups, metric_ok):
    out: dict[str, list] = {}
    for sg in groups:
        if sg.attribute is not None:
            out.setdefault(sg.attribute, []).append(sg)
    return out


def _record(metric, arm, attribute, kind, value, ci, group, delta, delta_ci, **extra) -> dict:
    return {"metric": metric, "arm": arm, "attribute": attribute, "kind": kind, "value": value,
            "ci_low": ci[0], "ci_high": ci[1], "group": group, "delta_vs_control": delta,
            "delta_ci_low": delta_ci[0], "delta_ci_high": delta_ci[1], **extra}


def _eod(cube, members, arm, taus, weights):
    """Seed-averaged equalized-odds difference: point value and [B] replicates."""
    points, boots = [], []
    labels = np.concatenate([[sg.group] * int(sg.mask.sum()) for sg in members])
    order = np.concatenate([np.flatnonzero(sg.mask) for sg in members])
    for seed, row in zip(cube.seeds[arm], cube.scores[arm]):
        pred = row > taus[arm][seed]
        points.append(equalized_odds_difference(cube.y[order], pred[order], labels))
        tpr = np.vstack([weighted_rate(cube.y & pred & sg.mask, cube.y & sg.mask, weights) for sg in members])
        fpr = np.vstack([weighted_rate(~cube.y & pred & sg.mask, ~cube.y & sg.mask, weights) for sg in members])
        gap = lambda r: np.nanmax(r, axis=0) - np.nanmin(r, axis=0)  # noqa: E731
        boots.append(np.maximum(gap(tpr), gap(fpr)))
    return float(np.mean(points)), np.mean(np.vstack(boots), axis=0)


def _arm_fairness(cube, attribute, members, arm, taus, weights, plan, boots, primary):
    """Point values and replicates of each fairness summary for one arm: {(metric, kind, group): (v, boot)}."""
    out = {}
    point = {sg.group: boots[(primary, attribute, sg.group, arm)] for sg in members}
    values = {sg.group: plan["_points"][(primary, attribute, sg.group, arm)] for sg in members}
    stack = np.vstack(list(point.values()))
    worst = min(values, key=values.get)
    out[(primary, "worst_group")] = (values[worst], np.nanmin(stack, axis=0), worst)
    out[(primary, "gap")] = (max(values.values()) - min(values.values()),
                             np.nanmax(stack, axis=0) - np.nanmin(stack, axis=0), None)
    out[("equalized_odds_difference", "difference")] = (*_eod(cube, members, arm, taus, weights), None)
    for sg in members:
        key = ("sensitivity", attribute, sg.group, arm)
        if key in boots:
            out[("sensitivity", f"per_group:{sg.group}")] = (plan["_points"][key], boots[key], sg.group)
    return out


def fairness_records(cube, groups, taus, weights, control, plan, boots) -> list[dict]:
    """Fairness records for every arm × attribute (see module docstring)."""
    records = []
    alpha, primary = plan["alpha"], plan["primary_metric"]
    for attribute, members in _by_attribute(groups, None).items():
        ok = [sg for sg in members if all((primary, attribute, sg.group, a) in boots for a in cube.arms)
              and plan["_status"].get((attribute, sg.group)) == "ok"]
        excluded = [sg.group for sg in members if sg not in ok]
        if len(ok) < 2:
            continue
        per_arm = {a: _arm_fairness(cube, attribute, ok, a, taus, weights, plan, boots, primary) for a in cube.arms}
        for arm, summaries in per_arm.items():
            for (metric, kind), (value, boot, group) in summaries.items():
                base = per_arm[control].get((metric, kind))
                delta, dci = float("nan"), (float("nan"), float("nan"))
                if base is not None and arm != control:
                    delta, dci = value - base[0], percentile_ci(boot - base[1], alpha)
                records.append(_record(metric, arm, attribute, kind.split(":")[0], value,
                                       percentile_ci(boot, alpha), group, delta, dci,
                                       groups_excluded=excluded))
    return records


def interaction_records(cube, groups, control, plan, boots, metrics) -> list[dict]:
    """Bootstrap Wald heterogeneity test of the arm − control effect across groups of each attribute."""
    status = {(r["attribute"], r["group"]): r["status"] for r in metrics if r["seed"] is None}
    primary, out = plan["primary_metric"], []
    for attribute, members in _by_attribute(groups, None).items():
        ok = [sg.group for sg in members if status.get((attribute, sg.group)) == "ok"
              and all((primary, attribute, sg.group, a) in boots for a in cube.arms)]
        for arm in [a for a in cube.arms if a != control]:
            rec = {"metric": primary, "arm": arm, "attribute": attribute, "statistic": float("nan"), "df": 0,
                   "p_value": float("nan"), "method": "bootstrap Wald chi-square on per-group paired differences",
                   "groups": ok}
            if len(ok) >= 2:
                deltas = np.vstack([boots[(primary, attribute, g, arm)] - boots[(primary, attribute, g, control)]
                                    for g in ok])
                deltas = deltas[:, np.isfinite(deltas).all(axis=0)]
                points = [plan["_points"][(primary, attribute, g, arm)] - plan["_points"][(primary, attribute, g, control)]
                          for g in ok]
                try:
                    rec["statistic"], rec["df"], rec["p_value"] = heterogeneity_wald(points, np.cov(deltas))
                except StatisticsError:
                    pass
            out.append(rec)
    return out
