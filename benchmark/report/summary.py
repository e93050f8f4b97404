"""The report's first screen: per arm, the call on the primary metric with its uncertainty, the worst
pre-specified subgroup, the decision margin and the audit flags.

Everything comes from the primary test family (``comparisons`` records with ``primary: true``, else
:func:`mammobench.evaluation.primary.primary_comparisons`), so the verdict, the headline forest plot and
the first table rows show the same numbers. Where a record carries the decision margin (``p`` or
``p_adjusted`` against ``threshold``/``alpha``) and a ``borderline`` flag, both are shown.

Example:
    >>> margin({"p_adjusted": 0.012, "alpha": 0.05, "borderline": False}, 0.05)
    {'p': 0.012, 'threshold': 0.05, 'text': 'p (adj.) 0.012 vs α 0.05', 'borderline': False}
    >>> margin({"p_value": 0.3}, 0.05)["text"]
    'p 0.300 vs α 0.05'
"""
from __future__ import annotations

from mammobench.report.context import worst_group_change
from mammobench.report.formatting import fmt, fmt_ci, fmt_p
from mammobench.report.evidence import RunData, primary_family
from mammobench.report.figure_set import control_arm, primary_metric, subgroup_attributes
from mammobench.report.gaps import gap_rows

BADGE_ORDER = ("fail", "warn", "skip", "pass")


def margin(comparison: dict, alpha: float) -> dict:
    """The decision margin: the p-value the decision used, its threshold and the borderline flag."""
    adjusted = comparison.get("p_adjusted") is not None
    p = comparison.get("p_adjusted") if adjusted else comparison.get("p_value", comparison.get("p"))
    threshold = next((t for t in (comparison.get("threshold"), comparison.get("alpha")) if t is not None), alpha)
    text = "–" if p is None else f"{'p (adj.)' if adjusted else 'p'} {fmt_p(p)} vs α {fmt(threshold, 2)}"
    return {"p": p, "threshold": threshold, "text": text, "borderline": bool(comparison.get("borderline"))}


def call(comparison: dict | None) -> str:
    """improves / harms when the family's multiplicity-controlled decision says so; the CI alone is flagged."""
    if comparison is None or comparison.get("ci_low") is None or comparison.get("ci_high") is None:
        return "no paired comparison recorded"
    direction = "improves" if comparison["ci_low"] > 0 else "harms" if comparison["ci_high"] < 0 else ""
    if not direction:
        return "no detectable change"
    if comparison.get("significant") is False:
        return f"{direction} (95% CI excludes 0; not significant after {comparison.get('adjustment') or 'adjustment'})"
    return direction


def worst_subgroup(family: list[dict], attributes: list[str]) -> dict | None:
    """The pre-specified subgroup with the smallest Δ in the family (descriptive: picked on test data)."""
    subgroup = [c for c in family if c.get("attribute") in attributes and c.get("estimate") is not None]
    if not subgroup:
        return None
    worst = min(subgroup, key=lambda c: (c["estimate"], str(c["attribute"]), str(c["group"])))
    return {"attribute": worst["attribute"], "group": worst["group"], "delta": worst["estimate"],
            "ci_low": worst.get("ci_low"), "ci_high": worst.get("ci_high"), "n": worst.get("n"),
            "n_subgroups": len(subgroup), "p_adj": fmt_p(worst.get("p_adjusted"))}


def audit_badges(result: dict, arm: str, generator: str | None) -> list[dict]:
    """One badge per audit family of an arm, coloured by its worst check (fail > warn > skip > pass), with
    the count of checks in that state and, on hover, the checks and their messages."""
    recs = [a for a in result["audits"] if a.get("generator") in {arm, generator}]
    badges = []
    for audit in sorted({a["audit"] for a in recs}):
        checks = [a for a in recs if a["audit"] == audit]
        worst = min((a["status"] for a in checks), key=lambda s: BADGE_ORDER.index(s) if s in BADGE_ORDER else 0)
        flagged = [a for a in checks if a["status"] == worst]
        badges.append({"status": worst, "label": f"{audit} {worst} {len(flagged)}/{len(checks)}",
                       "title": "; ".join(f"{a['check']}: {a.get('message', '')}" for a in flagged)})
    return badges


def _arm_verdict(data: RunData, arm: dict, metric: str, control: str, alpha: float) -> dict:
    result = data.result
    family = primary_family(result, arm["arm"], metric)
    overall = next((c for c in family if c.get("attribute") is None), None)
    worst = worst_subgroup(family, subgroup_attributes(data))
    if worst is None:  # no subgroup comparisons in the family: the evaluator's worst-group record
        fallback = worst_group_change(result, arm["arm"], metric, control)
        worst = fallback and {**fallback, "n": None, "n_subgroups": None, "p_adj": "–"}
    verdict_call = call(overall)
    return {
        "arm": arm["arm"], "generator": arm.get("generator"), "ratio": fmt(arm.get("ratio")), "call": verdict_call,
        "call_class": verdict_call.split()[0] if verdict_call.split()[0] in ("improves", "harms") else "none",
        "overall": fmt_ci(overall["estimate"], overall["ci_low"], overall["ci_high"]) if overall else "–",
        "n": fmt(overall.get("n")) if overall else "–", "n_pos": fmt(overall.get("n_pos")) if overall else "–",
        "p_adj": fmt_p(overall.get("p_adjusted")) if overall else "–",
        "margin": margin(overall, alpha) if overall else margin({}, alpha),
        "method": str(overall.get("method", "")) if overall else "",
        "worst": (f"{worst['attribute']} = {worst['group']}: {fmt_ci(worst['delta'], worst['ci_low'], worst['ci_high'])}"
                  if worst else "–"), "worst_detail": worst,
        "badges": audit_badges(result, arm["arm"], arm.get("generator"))}


def criteria(result: dict, plan: dict) -> list[dict]:
    """Pre-specified acceptance criteria (plan ``acceptance_criteria``) checked against metric records."""
    out = []
    for crit in plan.get("acceptance_criteria") or []:
        stat, op, thr = crit.get("statistic", "ci_low"), crit.get("op", ">="), crit.get("threshold")
        rec = next((m for m in result["metrics"] if m["metric"] == crit.get("metric") and m.get("seed") is None
                    and m["arm"] == crit.get("arm", m["arm"]) and m.get("attribute") == crit.get("attribute")
                    and m.get("group") == crit.get("group") and m.get("split", "test") == "test"), None)
        value = rec.get(stat) if rec else None
        met = None if value is None or thr is None else (value >= thr if op == ">=" else value <= thr)
        group = "overall" if crit.get("attribute") is None else f"{crit['attribute']} = {crit.get('group')}"
        out.append({"criterion": f"{crit.get('metric')} {stat} ({group}, arm {crit.get('arm', 'any')}) {op} {thr}",
                    "observed": fmt_ci(rec["value"], rec["ci_low"], rec["ci_high"]) if rec else "not computed",
                    "met": "yes" if met else "no" if met is False else "unknown"})
    return out


def verdict(data: RunData) -> dict:
    """Summary verdict: per-arm call on the primary metric, acceptance criteria, audit outcome counts."""
    result, metric, control = data.result, primary_metric(data), control_arm(data)
    plan = data.plan.get("plan", {})
    alpha = float(plan.get("alpha") or 0.05)
    arms = [a for a in result["arms"] if a["arm"] != control]
    statuses = [a["status"] for a in result["audits"]]
    return {"metric": metric, "control": control, "alpha": alpha,
            "arms": [_arm_verdict(data, a, metric, control, alpha) for a in arms],
            "gaps": gap_rows(result, metric, control), "criteria": criteria(result, plan),
            "audits": {s: statuses.count(s) for s in ("fail", "warn", "pass", "skip")}}
