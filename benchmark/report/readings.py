"""Short readings of each section's figure, generated from the run's numbers (never hand-written claims).

Each function takes the run's data and the page built so far and returns a few sentences; every
number in them is one the tables and ``report.json`` also hold. A reading says what the figure shows
and how sure it is (CIs, adjusted p-values), and says so when the data for a statement are missing.

Example:
    >>> verdict_reading(None, {"verdict": {"metric": "auc", "control": "none", "arms": [{
    ...     "arm": "gen", "call": "no detectable change", "overall": "0.010 [-0.010, 0.030]",
    ...     "margin": {"text": "p (adj.) 0.400 vs α 0.05", "borderline": False}, "worst": "–"}]}})
    ['gen: no detectable change in auc overall, Δ 0.010 [-0.010, 0.030] (p (adj.) 0.400 vs α 0.05).']
"""
from __future__ import annotations

import numpy as np

from mammobench.report.formatting import fmt, fmt_ci
from mammobench.report.evidence import RunData
from mammobench.report.figure_set import control_arm, primary_metric, subgroup_attributes
from mammobench.report.evidence import primary_family


def verdict_reading(data: RunData | None, page: dict) -> list[str]:
    """One sentence per arm: the call, Δ overall with CI and margin, the worst pre-specified subgroup."""
    v = page["verdict"]
    out = []
    for a in v["arms"]:
        text = f"{a['arm']}: {a['call']} in {v['metric']} overall, Δ {a['overall']} ({a['margin']['text']})"
        if a["margin"].get("borderline"):
            text += ", borderline: within the machine-to-machine tolerance of the threshold"
        if a["worst"] != "–":
            text += f"; lowest subgroup Δ {a['worst']}"
        out.append(text + ".")
    return out or [f"Only the control arm ({v['control']}) was run: there is no change to report."]


def forest_reading(data: RunData, page: dict) -> list[str]:
    """How many pre-specified subgroup CIs lie above / below zero, and how many survive adjustment."""
    metric, attributes, out = primary_metric(data), subgroup_attributes(data), []
    for arm in [a["arm"] for a in data.result["arms"] if a["arm"] != control_arm(data)]:
        sub = [c for c in primary_family(data.result, arm, metric) if c.get("attribute") in attributes
               and c.get("ci_low") is not None and c.get("ci_high") is not None]
        if not sub:
            continue
        above, below = sum(c["ci_low"] > 0 for c in sub), sum(c["ci_high"] < 0 for c in sub)
        significant = sum(bool(c.get("significant")) for c in sub)
        out.append(f"{arm}: of {len(sub)} pre-specified subgroups, {sum(c['estimate'] > 0 for c in sub)} point to a "
                   f"gain; the 95% CI lies above 0 in {above} and below 0 in {below}; {significant} significant "
                   "after multiplicity adjustment.")
    return out


def gap_reading(data: RunData, page: dict) -> list[str]:
    """Per attribute: the control arm's best and worst group, the gap test, and what each arm does to it."""
    out = []
    for attr in sorted({g["attribute"] for g in page["verdict"]["gaps"]}):
        rows = [g for g in page["verdict"]["gaps"] if g["attribute"] == attr]
        control = next((g for g in rows if g["control"]), None)
        if control is None:
            continue
        text = f"{attr}, control arm: best − worst {control['gap']}, gap p {control['p_gap']}"
        if control["trend"] != "–":
            text += f"; trend {control['trend']}"
        others = [f"{g['arm']} {g['gap']} (effect differs p {g['p_modification']})" for g in rows if not g["control"]]
        out.append(text + (f". Other arms: {'; '.join(others)}." if others else "."))
    return out


def discrimination_reading(data: RunData, page: dict) -> list[str]:
    """The primary metric overall on the test split for every arm, with n and CI."""
    metric = primary_metric(data)
    recs = [m for m in data.result["metrics"] if m["metric"] == metric and m.get("split") == "test"
            and m.get("seed") is None and m.get("attribute") is None and m.get("value") is not None]
    if not recs:
        return [f"No pooled test-split {metric} records in this run."]
    parts = [f"{m['arm']} {fmt_ci(m['value'], m.get('ci_low'), m.get('ci_high'))}" for m in recs]
    return [f"Test {metric} overall (n {recs[0].get('n')}, positives {recs[0].get('n_pos')}): {'; '.join(parts)}. "
            "ROC panels show the same scores split by subgroup."]


def calibration_reading(data: RunData, page: dict) -> list[str]:
    """Calibration slope, intercept and ECE per arm where the run recorded them."""
    out = []
    for arm in [a["arm"] for a in data.result["arms"]]:
        recs = {m["metric"]: m for m in data.result["metrics"] if m["arm"] == arm and m.get("split") == "test"
                and m.get("seed") is None and m.get("attribute") is None and m["metric"] in
                ("calibration_slope", "calibration_intercept", "ece") and m.get("value") is not None}
        if recs:
            out.append(f"{arm}: " + ", ".join(
                f"{k.replace('calibration_', '')} {fmt_ci(r['value'], r.get('ci_low'), r.get('ci_high'))}"
                for k, r in sorted(recs.items())) + ".")
    return out + (["A slope below 1 means over-confident scores; 1 and intercept 0 is perfect calibration."]
                  if out else [])


def audit_reading(data: RunData, page: dict) -> list[str]:
    """Audit outcome counts per generator and the checks that did not pass."""
    out = []
    for gen in sorted({a["generator"] for a in data.result["audits"]}):
        recs = [a for a in data.result["audits"] if a["generator"] == gen]
        flagged = [f"{a['check']} ({a['status']})" for a in recs if a["status"] in ("fail", "warn")]
        counts = ", ".join(f"{s} {sum(a['status'] == s for a in recs)}" for s in ("fail", "warn", "pass", "skip")
                           if any(a["status"] == s for a in recs))
        out.append(f"{gen}: {counts}" + (f"; flagged: {', '.join(flagged)}." if flagged else "."))
    return out or ["No audit records in this run."]


def sample_reading(data: RunData, page: dict) -> list[str]:
    """What the grids hold, and the mean and spread of pixel values of the shown images, real vs synthetic."""
    out = []
    for arm, arrays in data.samples.items():
        stats = {kind: np.concatenate([np.asarray(v, float).ravel() for k, v in sorted(arrays.items())
                                       if k.startswith(f"{kind}__")] or [np.empty(0)]) for kind in ("real", "synthetic")}
        if not all(len(s) for s in stats.values()):
            continue
        n_cond = len({k.split("__", 1)[1] for k in arrays if k.startswith("synthetic__")})
        out.append(f"{arm}: {n_cond} conditions; pixel mean ± SD of the shown images real "
                   f"{fmt(float(stats['real'].mean()), 2)} ± {fmt(float(stats['real'].std()), 2)}, synthetic "
                   f"{fmt(float(stats['synthetic'].mean()), 2)} ± {fmt(float(stats['synthetic'].std()), 2)} "
                   "(descriptive; the fidelity audits test the distributions).")
    return out


def cohort_reading(data: RunData, page: dict) -> list[str]:
    """Patients and images found and included, and each exclusion."""
    flow = data.result["cohort"].get("flow") or []
    if not flow:
        return []
    first, last = flow[0], flow[-1]
    excluded = [f"{f.get('excluded')} at '{f.get('stage')}' ({f.get('reason')})" for f in flow if f.get("excluded")]
    return [f"{first.get('n_patients')} patients / {first.get('n_images')} images found, {last.get('n_patients')} / "
            f"{last.get('n_images')} included" + (f"; excluded: {'; '.join(excluded)}." if excluded else "; none excluded.")]


def utility_reading(data: RunData, page: dict) -> list[str]:
    """How many comparisons each table holds and how many are significant after adjustment."""
    tables = {t["id"]: t for t in page["tables"].values()}
    primary = tables.get("comparisons")
    if not primary or not primary["rows"]:
        return ["No paired comparisons: the run has no arm besides the control."]
    n_sig = sum(r["cells"]["significant"] == "yes" for r in primary["rows"])
    n_border = sum(r["cls"] == "borderline" for r in primary["rows"])
    return [f"Primary family: {len(primary['rows'])} comparisons, {n_sig} significant after adjustment"
            + (f", {n_border} borderline" if n_border else "") + f" (α {fmt(page['verdict']['alpha'], 2)}). The verdict uses this family only; "
            "the other test families and metrics are in the second table."]
