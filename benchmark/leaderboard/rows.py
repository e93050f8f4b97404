"""One leaderboard row per verified bundle (generator × task): what the page shows at a glance.

A row holds the ranked arm (best on *validation* data among the generator's arms, never test), the
change in the primary metric against the real-only control with its 95% CI (the primary
comparison family, as in the run's summary verdict), the ranked arm's own metric with its CI, the
change in the worst group with its CI, one audit flag per audit family (worst outcome), and what
the number was measured on: SIMULATED or real data, the profile and the machine. The control
generator's own bundle (``none``) is the reference row: Δ is 0 by definition and the row shows the
control's metric.

Example:
    >>> machine({"environment": {"device": "cpu", "cpu_count": 2, "platform": "Linux-6.1-x86_64"}})
    'cpu, 2 cores, Linux-6.1-x86_64'
"""
from __future__ import annotations

from mammobench.evaluation.primary import primary_comparisons
from mammobench.report.context import worst_group_change
from mammobench.report.formatting import fmt_ci

STATUS_ORDER = ("fail", "warn", "pass", "skip")


def plan_of(report: dict) -> tuple[str, str]:
    """(primary metric, control arm) of the frozen analysis plan recorded in ``report.json``."""
    plan = (report.get("plan") or {}).get("plan") or {}
    return str(plan.get("primary_metric") or "auc"), str(plan.get("control_arm") or "")


def ranked_arm(result: dict, generator: str, metric: str) -> tuple[str, str]:
    """The arm to rank: best on *validation* data when val metrics exist, else the largest ratio."""
    arms = [a for a in result["arms"] if a.get("generator") == generator and (a.get("n_synthetic") or 0) > 0]
    if not arms:
        control = next(a for a in result["arms"] if a.get("generator") == generator)
        return control["arm"], "control (real data only)"
    val = {m["arm"]: m["value"] for m in result["metrics"] if m["metric"] == metric and m.get("split") == "val"
           and m.get("attribute") is None and m.get("seed") is None and m.get("value") is not None}
    if any(a["arm"] in val for a in arms):
        best = max((a for a in arms if a["arm"] in val), key=lambda a: (val[a["arm"]], a["arm"]))
        return best["arm"], "best on validation"
    best = max(arms, key=lambda a: (a.get("ratio") or 0, a["arm"]))
    return best["arm"], "largest ratio (no validation metric)"


def audit_names(result: dict, generator: str) -> set[str]:
    """Names under which a generator's audits are recorded: the generator and each of its arms."""
    return {generator} | {a["arm"] for a in result["arms"] if a.get("generator") == generator}


def _flag(audits: list[dict], names: list[str]) -> str:
    statuses = [a["status"] for a in audits if a["audit"] in names]
    return next((s for s in STATUS_ORDER if s in statuses), "none")


def machine(result: dict) -> str:
    """Where the run ran: device, cores, platform (and GPU when there was one)."""
    env = result.get("environment") or {}
    parts = [str(env.get("device") or "?"), f"{env.get('cpu_count', '?')} cores", str(env.get("platform") or "?")]
    if env.get("gpu"):
        parts.insert(1, str(env["gpu"]))
    return ", ".join(parts)


def _overall_change(result: dict, arm: str, metric: str) -> dict:
    family = primary_comparisons(result, arm, metric) or [c for c in result["comparisons"]
                                                          if c["arm"] == arm and c["metric"] == metric]
    return next((c for c in family if c.get("attribute") is None), {})


def _own_metric(result: dict, arm: str, metric: str) -> dict:
    return next((m for m in result["metrics"] if m["arm"] == arm and m["metric"] == metric and m.get("split") == "test"
                 and m.get("attribute") is None and m.get("seed") is None and "fpi" not in m), {})


def _subgroup_changes(result: dict, arm: str, metric: str) -> list[dict]:
    """Per-group changes of one method (the patient bootstrap, which covers every group, when present)."""
    comps = [c for c in result["comparisons"] if c["arm"] == arm and c["metric"] == metric and c.get("attribute")]
    boot = [c for c in comps if "bootstrap" in str(c.get("method", ""))]
    return boot or comps


def _changes(result: dict, arm: str, metric: str, control: str, is_control: bool) -> dict:
    if is_control:
        return {"delta": 0.0, "delta_ci": (0.0, 0.0), "delta_text": "0 (control)", "worst": None,
                "worst_ci": (None, None), "worst_text": "–"}
    overall = _overall_change(result, arm, metric)
    worst = worst_group_change(result, arm, metric, control or None)
    return {"delta": overall.get("estimate"), "delta_ci": (overall.get("ci_low"), overall.get("ci_high")),
            "delta_text": fmt_ci(overall.get("estimate"), overall.get("ci_low"), overall.get("ci_high"))
            if overall else "–",
            "delta_method": str(overall.get("method", "")),
            "worst": worst["delta"] if worst else None,
            "worst_ci": (worst["ci_low"], worst["ci_high"]) if worst else (None, None),
            "worst_text": (f"{fmt_ci(worst['delta'], worst['ci_low'], worst['ci_high'])}"
                           f" ({worst['attribute']}={worst['group']})") if worst else "–"}


def make_row(entry: dict, display: dict) -> dict:
    """One leaderboard row from a verified bundle."""
    result, card, bundle = entry["result"], entry["card"], entry["bundle"]
    metric, control = plan_of(entry["report"])
    arm, rule = ranked_arm(result, card["name"], metric)
    own = _own_metric(result, arm, metric)
    gen_audits = [a for a in result["audits"] if a["generator"] in audit_names(result, card["name"])]
    subgroups = {f"{c['attribute']}={c['group']}": fmt_ci(c.get("estimate"), c.get("ci_low"), c.get("ci_high"))
                 for c in _subgroup_changes(result, arm, metric)}
    return {"generator": card["name"], "version": card["version"], "task": bundle["task"], "kind": card.get("kind"),
            "arm": arm, "arm_rule": rule, "metric": display["metric_labels"].get(metric, metric),
            "simulated": result["simulated"], "profile": result["profile"], "machine": machine(result),
            "value_text": fmt_ci(own.get("value"), own.get("ci_low"), own.get("ci_high")) if own else "–",
            "n": own.get("n"), "n_pos": own.get("n_pos"), "seeds": len(result.get("seeds") or []),
            **_changes(result, arm, metric, control, rule.startswith("control")),
            "flags": {name: _flag(gen_audits, audits) for name, audits in sorted(display["audit_flags"].items())},
            "subgroups": dict(sorted(subgroups.items())), "signer": bundle.get("key_fingerprint", ""),
            "report": f"results/{card['name']}@{card['version']}/{bundle['task']}/report.html"}
