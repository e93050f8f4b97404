"""Cross-check a bundle's numbers before the leaderboard ranks it.

A valid signature says who vouches for a result, not that its numbers hang together. Before a bundle
is ranked, its ``result.json`` must be internally consistent:

* every estimate lies inside its own CI (metrics, paired comparisons, worst-group changes; not ECE, whose
  percentile bootstrap is biased upward), p-values
  lie in [0, 1], an adjusted p is never below the raw one, and "significant" agrees with the adjusted
  p and the plan's alpha; bounded metrics (AUC, sensitivity …) lie in [0, 1];
* counts are whole numbers with 0 ≤ n_pos ≤ n; the overall test n equals the cohort's test split;
  the groups of each partitioning attribute (density, age band, vendor, their intersections) add up
  to the overall n, and each lesion-type group holds every negative;
* attributes are the plan's subgroups, groups are in the manifest's vocabularies;
* arms are consistent: every arm named in a record exists, comparisons are against the plan's
  control arm (an arm without synthetic images), synthetic counts match ratio × real count, and the
  submitted card is the card recorded for that generator's arms.

Example:
    >>> result_problems({"metrics": [{"metric": "auc", "value": 0.9, "ci_low": 0.5, "ci_high": 0.8}],
    ...                  "comparisons": [], "fairness": [], "arms": [], "cohort": {}}, {}, {})[0]
    'metrics[0] auc: value 0.9 outside its CI [0.5, 0.8]'
"""
from __future__ import annotations

import math
from collections import defaultdict

from mammobench.data.manifest import AGE_BANDS, DENSITIES, LESION_TYPES

EPS = 1e-9
BOUNDED = {"auc", "sensitivity", "specificity", "balanced_accuracy", "ppv_at_prevalence", "npv_at_prevalence",
           "ece", "froc_sensitivity", "sens_at_spec", "spec_at_sens", "accuracy"}
# metrics whose percentile bootstrap is biased away from the estimate: expected calibration error is biased
# upward under resampling (binning noise only adds), so its CI can lie wholly above a small ECE (seen: ECE 0.028
# with CI [0.030, 0.093] on a quick detection run). Their estimates are not required to lie inside the CI.
BIASED_UNDER_RESAMPLING = frozenset({"ece"})
VOCABULARY = {"density": set(DENSITIES), "age_band": set(AGE_BANDS), "lesion_type": set(LESION_TYPES)}
MAX_PROBLEMS = 5


def _num(x) -> float | None:
    return float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) else None


def _inside(value, lo, hi) -> bool:
    v, a, b = _num(value), _num(lo), _num(hi)
    return v is None or a is None or b is None or a - EPS <= v <= b + EPS


def _interval_problems(result: dict, alpha: float) -> list[str]:
    out = []
    for i, m in enumerate(result.get("metrics", [])):
        if m.get("metric") not in BIASED_UNDER_RESAMPLING and not _inside(m.get("value"), m.get("ci_low"),
                                                                         m.get("ci_high")):
            out.append(f"metrics[{i}] {m.get('metric')}: value {m.get('value')} outside its CI "
                       f"[{m.get('ci_low')}, {m.get('ci_high')}]")
        if m.get("metric") in BOUNDED and _num(m.get("value")) is not None and not -EPS <= m["value"] <= 1 + EPS:
            out.append(f"metrics[{i}] {m['metric']}: value {m['value']} outside [0, 1]")
    for i, c in enumerate(result.get("comparisons", [])):
        if not _inside(c.get("estimate"), c.get("ci_low"), c.get("ci_high")):
            out.append(f"comparisons[{i}] {c.get('arm')} {c.get('metric')}: estimate {c.get('estimate')} outside "
                       f"its CI [{c.get('ci_low')}, {c.get('ci_high')}]")
        p, q = _num(c.get("p_value")), _num(c.get("p_adjusted"))
        if any(v is not None and not 0 <= v <= 1 for v in (p, q)) or (p is not None and q is not None and q < p - EPS):
            out.append(f"comparisons[{i}] {c.get('arm')}: p {p} / adjusted p {q} impossible")
        elif q is not None and isinstance(c.get("significant"), bool) and c["significant"] != (q <= alpha):
            out.append(f"comparisons[{i}] {c.get('arm')}: significant={c['significant']} but adjusted p {q} "
                       f"vs alpha {alpha}")
    for i, f in enumerate(result.get("fairness", [])):
        if not _inside(f.get("delta_vs_control"), f.get("delta_ci_low"), f.get("delta_ci_high")):
            out.append(f"fairness[{i}] {f.get('arm')} {f.get('attribute')}: change {f.get('delta_vs_control')} "
                       f"outside its CI [{f.get('delta_ci_low')}, {f.get('delta_ci_high')}]")
    return out


def _count_problems(result: dict, metric: str, control: str) -> list[str]:
    out = []
    for kind in ("metrics", "comparisons"):
        for i, r in enumerate(result.get(kind, [])):
            n, n_pos = r.get("n"), r.get("n_pos")
            if n is None and n_pos is None:
                continue
            if not all(isinstance(v, int) and not isinstance(v, bool) for v in (n, n_pos)) or not 0 <= n_pos <= n:
                out.append(f"{kind}[{i}] {r.get('arm')}: impossible counts n={n!r}, n_pos={n_pos!r}")
    test = [m for m in result.get("metrics", []) if m.get("metric") == metric and m.get("split") == "test"
            and m.get("seed") is None and m.get("arm") == control and "fpi" not in m]
    overall = next((m for m in test if m.get("attribute") is None), None)
    if overall is None or not isinstance(overall.get("n"), int):
        return out + [f"no overall test {metric} record for the control arm {control!r}"]
    split_n = ((result.get("cohort") or {}).get("splits") or {}).get("test", {}).get("n")
    if isinstance(split_n, int) and split_n != overall["n"]:
        out.append(f"overall test n {overall['n']} differs from the cohort's test split n {split_n}")
    sums, pos = defaultdict(int), defaultdict(int)
    for m in test:
        attr = m.get("attribute")
        if attr is None or not isinstance(m.get("n"), int) or not isinstance(m.get("n_pos"), int):
            continue
        sums[attr] += m["n"]
        pos[attr] += m["n_pos"]
        if attr == "lesion_type" and m["n"] - m["n_pos"] != overall["n"] - overall["n_pos"]:
            out.append(f"lesion_type={m.get('group')}: {m['n'] - m['n_pos']} negatives, the test split has "
                       f"{overall['n'] - overall['n_pos']} (a lesion-type group holds every negative)")
    for attr, total in sorted(sums.items()):
        if attr != "lesion_type" and total != overall["n"]:
            out.append(f"the {attr} groups hold {total} test images, the overall record {overall['n']}")
        if pos[attr] > overall["n_pos"] or (attr != "lesion_type" and pos[attr] != overall["n_pos"]):
            out.append(f"the {attr} groups hold {pos[attr]} positives, the overall record {overall['n_pos']}")
    return out


def _group_problems(result: dict, plan: dict) -> list[str]:
    allowed = set(plan.get("subgroups") or []) | {"×".join(p) for p in plan.get("intersections") or []}
    out = []
    for kind in ("metrics", "comparisons", "fairness"):
        for i, r in enumerate(result.get(kind, [])):
            attr = r.get("attribute")
            if attr is None:
                continue
            if allowed and attr not in allowed:
                out.append(f"{kind}[{i}]: attribute {attr!r} is not a subgroup of the analysis plan {sorted(allowed)}")
            group = r.get("group")
            if attr in VOCABULARY and group is not None and group not in VOCABULARY[attr]:
                out.append(f"{kind}[{i}]: {attr} group {group!r} is not in the vocabulary {sorted(VOCABULARY[attr])}")
    return out


def _arm_problems(result: dict, card: dict, control: str) -> list[str]:
    arms = {a.get("arm"): a for a in result.get("arms", [])}
    out = [f"{kind}[{i}]: arm {r.get('arm')!r} is not one of the run's arms {sorted(arms)}"
           for kind in ("metrics", "comparisons", "fairness") for i, r in enumerate(result.get(kind, []))
           if r.get("arm") not in arms]
    if control not in arms or (arms[control].get("n_synthetic") or 0) != 0:
        out.append(f"control arm {control!r} is missing or uses synthetic images")
    out += [f"comparisons[{i}]: control {c.get('control')!r}, the plan's control arm is {control!r}"
            for i, c in enumerate(result.get("comparisons", [])) if c.get("control") not in (None, control)]
    for name, a in sorted(arms.items()):
        ratio, real, synth = _num(a.get("ratio")), a.get("n_real"), a.get("n_synthetic")
        if ratio is not None and isinstance(real, int) and isinstance(synth, int) and abs(synth - ratio * real) > 1:
            out.append(f"arm {name}: {synth} synthetic images for ratio {ratio} × {real} real")
        recorded = a.get("generator_card")
        if a.get("generator") == card.get("name") and recorded and recorded != card:
            out.append(f"arm {name}: its recorded generator card differs from the submitted generator_card.json")
    return out


def result_problems(result: dict, card: dict, plan: dict) -> list[str]:
    """Every inconsistency found in a bundle's numbers (at most a few per kind, then a count).

    Args:
        result: the bundle's ``result.json``.
        card: the bundle's ``generator_card.json``.
        plan: the frozen analysis plan (``report.json`` ``plan.plan``): primary metric, control arm,
            subgroups, alpha.
    """
    metric, control = str(plan.get("primary_metric") or "auc"), str(plan.get("control_arm") or "none")
    alpha = _num(plan.get("alpha")) or 0.05
    out = []
    for found in (_interval_problems(result, alpha), _count_problems(result, metric, control),
                  _group_problems(result, plan), _arm_problems(result, card, control)):
        out += found[:MAX_PROBLEMS] + ([f"… and {len(found) - MAX_PROBLEMS} more"] if len(found) > MAX_PROBLEMS else [])
    return out
