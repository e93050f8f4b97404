"""The summary's subgroup-gap table: per attribute and arm, the primary metric in every group (n, CI)
and the two pre-specified heterogeneity tests (``result.json["interactions"]``).

It answers the question a reader of a fairness claim asks first: *is there a gap in the control arm,
and what does each arm do to it?* — without picking the worst group on the test data.

Example:
    >>> result = {"metrics": [
    ...     {"metric": "auc", "split": "test", "arm": "none", "attribute": "density", "group": g, "seed": None,
    ...      "value": v, "ci_low": v - .05, "ci_high": v + .05, "n": 100, "n_pos": 30, "status": "ok"}
    ...     for g, v in (("A", .85), ("D", .70))],
    ...     "interactions": [{"metric": "auc", "arm": "none", "attribute": "density", "kind": "subgroup_gap",
    ...                       "p_value": 0.003}]}
    >>> row = gap_rows(result, "auc", "none")[0]
    >>> row["groups"], row["gap"], row["p_gap"]
    ('A 0.850 [0.800, 0.900] (n 100) · D 0.700 [0.650, 0.750] (n 100)', '0.150 (A − D)', '0.003')
"""
from __future__ import annotations

from mammobench.report.formatting import fmt, fmt_ci, fmt_p


def _group_values(result: dict, metric: str, arm: str, attribute: str) -> list[dict]:
    return [m for m in result.get("metrics", []) if m.get("metric") == metric and m.get("split", "test") == "test"
            and m.get("arm") == arm and m.get("attribute") == attribute and m.get("seed") is None
            and m.get("status") == "ok"]


def gap_rows(result: dict, metric: str, control: str) -> list[dict]:
    """One row per (attribute, arm), control arm first, for the single-attribute subgroups of the run.

    Columns: per-group value [95% CI] (n), best − worst group difference (descriptive), the p-value that
    the metric is equal in every group (``subgroup_gap``), for ordered attributes the linear trend across
    groups and its p-value, and for non-control arms the p-value that the arm's effect is the same in
    every group (``effect_modification``).
    """
    tests = {(i.get("arm"), i.get("attribute"), i.get("kind", "effect_modification")): i
             for i in result.get("interactions", []) if i.get("metric") == metric}
    attributes = sorted({m["attribute"] for m in result.get("metrics", []) if m.get("attribute")
                         and "×" not in str(m["attribute"]) and m.get("metric") == metric})
    arms = sorted({m["arm"] for m in result.get("metrics", []) if m.get("metric") == metric},
                  key=lambda a: (a != control, a))
    rows = []
    for attribute in attributes:
        for arm in arms:
            values = sorted(_group_values(result, metric, arm, attribute), key=lambda m: str(m["group"]))
            if len(values) < 2:
                continue
            best = max(values, key=lambda m: m["value"])
            worst = min(values, key=lambda m: m["value"])
            gap_test = tests.get((arm, attribute, "subgroup_gap")) or {}
            mod_test = tests.get((arm, attribute, "effect_modification")) or {}
            rows.append({
                "attribute": attribute, "arm": arm, "control": arm == control,
                "groups": " · ".join(f"{m['group']} {fmt_ci(m['value'], m.get('ci_low'), m.get('ci_high'))} "
                                     f"(n {m.get('n')})" for m in values),
                "gap": f"{fmt(best['value'] - worst['value'])} ({best['group']} − {worst['group']})",
                "p_gap": fmt_p(gap_test.get("p_value")) if gap_test else "–",
                "trend": (f"{fmt(gap_test['trend']['slope_per_step'])} per step "
                          f"({' → '.join(gap_test['trend']['order'])}), p {fmt_p(gap_test['trend']['p_value'])}"
                          if gap_test.get("trend") else "–"),
                "p_modification": fmt_p(mod_test.get("p_value")) if mod_test and arm != control else "–",
            })
    return rows
