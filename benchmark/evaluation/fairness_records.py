"""Fairness and interaction records of ``result.json`` (``reference/statistics.md`` B-2, B-3).

Fairness, per arm and attribute, over the groups with status ``ok`` (others are listed in
``groups_excluded``, never hidden): worst-group AUC, AUC gap (max − min), equalized-odds difference
at the one global threshold chosen on validation (max of TPR gap and FPR gap, seed-averaged), and
sensitivity per group; each with a patient-bootstrap CI and its change vs the control arm with a
paired CI (same replicates). ``groups_excluded_reason`` says why each excluded group is out:
``undefined (no positives)`` / ``undefined (no negatives)`` (a rate that does not exist — fairlearn
would count it as 0, see :mod:`mammobench.stats.fairness`) or ``insufficient_n (n_pos=…, n_neg=…)``. Interactions: per arm and attribute, two bootstrap Wald χ² tests on the
primary metric — ``subgroup_gap`` (is the arm's metric the same in every group: does a gap exist, a
pre-specified test that does not pick the worst group on test data) and ``effect_modification``
(is the arm − control effect the same in every group, B-2). Each test (and its trend contrast) carries
its decision margin: ``threshold`` (α) and ``borderline`` (:mod:`mammobench.stats.margin`).

Example:
    >>> from types import SimpleNamespace as G
    >>> sorted(_by_attribute([G(attribute="density"), G(attribute=None), G(attribute="density")]))
    ['density']
"""
from __future__ import annotations

import numpy as np

from mammobench.errors import StatisticsError
from mammobench.stats.bootstrap import percentile_ci, weighted_rate
from mammobench.stats.fairness import equalized_odds_difference, rate_status
from mammobench.stats.margin import is_borderline
from mammobench.stats.multiplicity import heterogeneity_wald

def _by_attribute(groups):
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


def exclusion_reason(cube, sg, status: str | None) -> str:
    """Why a group is not in the fairness summaries (the flag the report shows)."""
    n_pos = int((cube.y & sg.mask).sum())
    n_neg = int((~cube.y & sg.mask).sum())
    if rate_status(n_pos, n_neg) != "ok":
        return rate_status(n_pos, n_neg)
    if status == "insufficient_n":
        return f"insufficient_n (n_pos={n_pos}, n_neg={n_neg})"
    return "no bootstrap replicates for every arm"


def fairness_records(cube, groups, taus, weights, control, plan, boots) -> list[dict]:
    """Fairness records for every arm × attribute (see module docstring)."""
    records = []
    alpha, primary = plan["alpha"], plan["primary_metric"]
    for attribute, members in _by_attribute(groups).items():
        ok = [sg for sg in members if all((primary, attribute, sg.group, a) in boots for a in cube.arms)
              and plan["_status"].get((attribute, sg.group)) == "ok"]
        excluded = [sg.group for sg in members if sg not in ok]
        reasons = {sg.group: exclusion_reason(cube, sg, plan["_status"].get((attribute, sg.group)))
                   for sg in members if sg not in ok}
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
                                       groups_excluded=excluded, groups_excluded_reason=reasons))
    return records


#: attributes whose groups have a natural order (a monotone gap is the hypothesis: masking rises with density)
ORDERED_GROUPS = {"density": ("A", "B", "C", "D"), "age_band": ("<50", "50-59", "60-69", "70+")}


def trend_test(points, replicates) -> tuple[float, float, float]:
    """1-df test of a linear trend across ordered groups: (slope per step, z, two-sided p).

    The contrast is centred ranks (e.g. −1.5, −0.5, 0.5, 1.5 for four groups) scaled so the estimate is
    the least-squares slope of the metric per group step; its variance comes from the bootstrap
    replicates (which carry the dependence between groups).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> reps = [rng.normal(v, 0.02, 2000) for v in (0.85, 0.80, 0.75, 0.70)]
        >>> slope, z, p = trend_test([0.85, 0.80, 0.75, 0.70], reps)
        >>> round(slope, 3), p < 0.001
        (-0.05, True)
    """
    from scipy.stats import norm

    k = len(points)
    ranks = np.arange(k, dtype=float) - (k - 1) / 2.0
    weights = ranks / float(ranks @ ranks)
    reps = np.vstack(replicates)
    reps = reps[:, np.isfinite(reps).all(axis=0)]
    slope = float(weights @ np.asarray(points, dtype=float))
    sd = float(np.std(weights @ reps, ddof=1)) if reps.shape[1] > 1 else float("nan")
    if not sd > 0:
        return slope, float("nan"), float("nan")
    z = slope / sd
    return slope, float(z), float(2 * norm.sf(abs(z)))


def _wald(points, replicates) -> tuple[float, int, float]:
    reps = np.vstack(replicates)
    reps = reps[:, np.isfinite(reps).all(axis=0)]
    try:
        return heterogeneity_wald(points, np.cov(reps))
    except StatisticsError:
        return float("nan"), 0, float("nan")


def _margin(p: float, alpha: float) -> dict:
    """``threshold`` (α, unadjusted: each test is reported on its own) and ``borderline`` of one p-value."""
    return {"threshold": float(alpha), "borderline": is_borderline(p, alpha)}


def interaction_records(cube, groups, control, plan, boots, metrics) -> list[dict]:
    """Bootstrap Wald tests per attribute: is each arm's metric equal across groups (``subgroup_gap``),
    and is each arm's effect vs control equal across groups (``effect_modification``)."""
    status = {(r["attribute"], r["group"]): r["status"] for r in metrics if r["seed"] is None}
    primary, points, out = plan["primary_metric"], plan["_points"], []
    for attribute, members in _by_attribute(groups).items():
        ok = [sg.group for sg in members if status.get((attribute, sg.group)) == "ok"
              and all((primary, attribute, sg.group, a) in boots for a in cube.arms)]
        for arm in cube.arms:
            rec = {"metric": primary, "arm": arm, "attribute": attribute, "kind": "subgroup_gap",
                   "statistic": float("nan"), "df": 0, "p_value": float("nan"), "groups": ok,
                   "method": f"bootstrap Wald chi-square: equal {primary} in every group (is there a gap?)"}
            if len(ok) >= 2:
                rec["statistic"], rec["df"], rec["p_value"] = _wald(
                    [points[(primary, attribute, g, arm)] for g in ok], [boots[(primary, attribute, g, arm)] for g in ok])
                order = [g for g in ORDERED_GROUPS.get(attribute, ()) if g in ok]
                if len(order) >= 3:  # pre-specified ordinal alternative: a monotone trend (more power, 1 df)
                    slope, z, p = trend_test([points[(primary, attribute, g, arm)] for g in order],
                                             [boots[(primary, attribute, g, arm)] for g in order])
                    rec["trend"] = {"order": order, "slope_per_step": slope, "z": z, "p_value": p,
                                    **_margin(p, plan["alpha"]),
                                    "method": "linear-trend contrast over ordered groups, bootstrap SE"}
            out.append(rec)
        for arm in [a for a in cube.arms if a != control]:
            rec = {"metric": primary, "arm": arm, "attribute": attribute, "kind": "effect_modification",
                   "statistic": float("nan"), "df": 0, "p_value": float("nan"), "groups": ok,
                   "method": "bootstrap Wald chi-square on per-group paired differences"}
            if len(ok) >= 2:
                rec["statistic"], rec["df"], rec["p_value"] = _wald(
                    [points[(primary, attribute, g, arm)] - points[(primary, attribute, g, control)] for g in ok],
                    [boots[(primary, attribute, g, arm)] - boots[(primary, attribute, g, control)] for g in ok])
            out.append(rec)
    for rec in out:
        rec.update(_margin(rec["p_value"], plan["alpha"]))
    return out
