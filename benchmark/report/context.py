"""The report's content as plain data: verdict, tables, audits, cards, provenance, checklists.

:func:`build_context` turns a :class:`RunData` plus figures and filled checklists into the mapping
the templates render and ``report.json`` stores. Every metric row carries ``n``, ``n_pos`` and its
CI; every comparison its raw and adjusted p-value and the adjustment used.

Example:
    >>> comparison_rows({"comparisons": []})
    []
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from mammobench.io import sha256_file
from mammobench.report.evidence import RunData
from mammobench.report.figure_set import control_arm, primary_metric
from mammobench.report.formatting import fmt, fmt_ci, fmt_p
from mammobench.report.gaps import gap_rows

REPORT_OUTPUTS = ("report.html", "report.md", "report.json", "manifest.json", "manifest.sig", "signing_key.pub",
                  ".lock")
KIND_TITLES = {"predeployment": "Pre-deployment validation report", "submission": "Generator submission report"}


def _group_label(rec: dict) -> str:
    return "overall" if rec.get("attribute") is None else f"{rec['attribute']} = {rec.get('group')}"


def metric_rows(result: dict) -> list[dict]:
    """Pooled-over-seeds metric records as table rows (value with CI, n, n_pos, status)."""
    recs = [m for m in result["metrics"] if m.get("seed") is None]
    recs.sort(key=lambda m: (m["metric"], str(m.get("split")), str(m["arm"]), m.get("attribute") is not None,
                             str(m.get("attribute")), str(m.get("group")), m.get("fpi") or 0))
    return [{"metric": m["metric"] + (f" @ {m['fpi']} FPI" if m.get("fpi") is not None else ""), "split": m.get("split"), "arm": m["arm"], "group": _group_label(m),
             "value": fmt_ci(m.get("value"), m.get("ci_low"), m.get("ci_high")), "n": fmt(m.get("n")),
             "n_pos": fmt(m.get("n_pos")), "status": m.get("status") or ""} for m in recs]


def comparison_rows(result: dict) -> list[dict]:
    """Paired arm-vs-control comparisons with raw and adjusted p-values."""
    recs = sorted(result["comparisons"], key=lambda c: (c["metric"], c["arm"], c.get("attribute") is not None,
                                                         str(c.get("attribute")), str(c.get("group"))))
    return [{"metric": c["metric"], "arm": c["arm"], "control": c["control"], "group": _group_label(c),
             "estimate": fmt_ci(c.get("estimate"), c.get("ci_low"), c.get("ci_high")), "n": fmt(c.get("n")),
             "n_pos": fmt(c.get("n_pos")), "p": fmt_p(c.get("p_value")), "p_adj": fmt_p(c.get("p_adjusted")),
             "adjustment": c.get("adjustment") or "", "significant": fmt(c.get("significant")),
             "method": c.get("method") or ""} for c in recs]


def fairness_rows(result: dict) -> list[dict]:
    """Gap / worst-group records with their change vs control."""
    return [{"metric": f["metric"], "arm": f["arm"], "attribute": f.get("attribute"), "kind": f.get("kind"),
             "group": f.get("group") or "", "value": fmt_ci(f.get("value"), f.get("ci_low"), f.get("ci_high")),
             "delta": fmt_ci(f.get("delta_vs_control"), f.get("delta_ci_low"), f.get("delta_ci_high"))
             if f.get("delta_vs_control") is not None else "–"}
            for f in sorted(result["fairness"], key=lambda f: (f["metric"], f["arm"], str(f.get("attribute")),
                                                                str(f.get("kind"))))]


def _evidence_text(evidence: Any) -> str:
    if not isinstance(evidence, dict):
        return fmt(evidence)
    parts = [f"{k}={fmt(v)}" for k, v in sorted(evidence.items()) if isinstance(v, (str, int, float, bool))]
    parts += [f"{k}=[{', '.join(fmt(x) for x in v)}]" for k, v in sorted(evidence.items())
              if isinstance(v, list) and all(isinstance(x, (int, float)) for x in v)]
    return "; ".join(parts)


def audit_rows(result: dict) -> list[dict]:
    """Audit records with status, value vs threshold, message and scalar evidence."""
    return [{"generator": a["generator"], "audit": a["audit"], "check": a["check"], "status": a["status"],
             "value": fmt(a.get("value")), "threshold": fmt(a.get("threshold")), "message": a["message"],
             "evidence": _evidence_text(a.get("evidence"))} for a in result["audits"]]


def _call(comparison: dict | None) -> str:
    """improves / harms when the evaluator's multiplicity-controlled decision says so; the CI alone is flagged."""
    if comparison is None or comparison.get("ci_low") is None or comparison.get("ci_high") is None:
        return "no paired comparison recorded"
    direction = "improves" if comparison["ci_low"] > 0 else "harms" if comparison["ci_high"] < 0 else ""
    if not direction:
        return "no detectable change"
    if comparison.get("significant") is False:
        return f"{direction} (95% CI excludes 0; not significant after {comparison.get('adjustment') or 'adjustment'})"
    return direction


def worst_group_change(result: dict, arm: str, metric: str, control: str | None = None) -> dict | None:
    """Change for the worst-performing group: ``{attribute, group, delta, ci_low, ci_high}`` or None.

    Uses the evaluator's ``worst_group`` fairness records (smallest change over attributes); when there
    are none, the subgroup with the lowest control-arm test metric and its paired comparison.
    """
    recs = [f for f in result["fairness"] if f["arm"] == arm and f["metric"] == metric
            and f.get("kind") == "worst_group" and f.get("delta_vs_control") is not None]
    if recs:
        f = min(recs, key=lambda r: (r["delta_vs_control"], str(r.get("attribute"))))
        return {"attribute": f["attribute"], "group": f["group"], "delta": f["delta_vs_control"],
                "ci_low": f.get("delta_ci_low"), "ci_high": f.get("delta_ci_high")}
    comps = {(c.get("attribute"), c.get("group")): c for c in result["comparisons"] if c["arm"] == arm
             and c["metric"] == metric and c.get("primary") and c.get("attribute") and c.get("estimate") is not None}
    base = [m for m in result["metrics"] if m["metric"] == metric and m.get("split") == "test"
            and m.get("seed") is None and m.get("attribute") and m.get("value") is not None
            and (control is None or m["arm"] == control) and (m.get("attribute"), m.get("group")) in comps]
    if not base:
        return None
    m = min(base, key=lambda r: (r["value"], str(r["attribute"]), str(r["group"])))
    c = comps[(m["attribute"], m["group"])]
    return {"attribute": m["attribute"], "group": m["group"], "delta": c["estimate"], "ci_low": c.get("ci_low"),
            "ci_high": c.get("ci_high")}


def _verdict_for_arm(result: dict, arm: str, metric: str, control: str) -> dict:
    from mammobench.evaluation.primary import primary_comparisons

    family = primary_comparisons(result, arm, metric) or [c for c in result["comparisons"] if c["arm"] == arm
                                                          and c["metric"] == metric]
    overall = next((c for c in family if c.get("attribute") is None), None)
    worst = worst_group_change(result, arm, metric, control)
    return {"arm": arm, "call": _call(overall),
            "overall": fmt_ci(overall["estimate"], overall["ci_low"], overall["ci_high"]) if overall else "–",
            "n": fmt(overall.get("n")) if overall else "–", "n_pos": fmt(overall.get("n_pos")) if overall else "–",
            "p_adj": fmt_p(overall.get("p_adjusted")) if overall else "–",
            "method": str(overall.get("method", "")) if overall else "",
            "worst": f"{worst['attribute']} = {worst['group']}: {fmt_ci(worst['delta'], worst['ci_low'], worst['ci_high'])}"
            if worst else "–"}


def _criteria(result: dict, plan: dict) -> list[dict]:
    """Pre-specified acceptance criteria (plan ``acceptance_criteria``) checked against metric records."""
    out = []
    for crit in plan.get("acceptance_criteria") or []:
        stat, op, thr = crit.get("statistic", "ci_low"), crit.get("op", ">="), crit.get("threshold")
        rec = next((m for m in result["metrics"] if m["metric"] == crit.get("metric") and m.get("seed") is None
                    and m["arm"] == crit.get("arm", m["arm"]) and m.get("attribute") == crit.get("attribute")
                    and m.get("group") == crit.get("group") and m.get("split", "test") == "test"), None)
        value = rec.get(stat) if rec else None
        met = None if value is None or thr is None else (value >= thr if op == ">=" else value <= thr)
        out.append({"criterion": f"{crit.get('metric')} {stat} ({_group_label(crit)}, arm {crit.get('arm', 'any')}) "
                                 f"{op} {thr}", "observed": fmt_ci(rec["value"], rec["ci_low"], rec["ci_high"])
                    if rec else "not computed", "met": "yes" if met else "no" if met is False else "unknown"})
    return out


def verdict(data: RunData) -> dict:
    """Summary verdict: per-arm call on the primary metric, acceptance criteria, audit outcome counts."""
    result, metric, control = data.result, primary_metric(data), control_arm(data)
    arms = [a["arm"] for a in result["arms"] if a["arm"] != control]
    statuses = [a["status"] for a in result["audits"]]
    return {"metric": metric, "control": control, "arms": [_verdict_for_arm(result, a, metric, control) for a in arms],
            "gaps": gap_rows(result, metric, control),
            "criteria": _criteria(result, data.plan.get("plan", {})),
            "audits": {s: statuses.count(s) for s in ("fail", "warn", "pass", "skip")}}


def generator_cards(result: dict) -> list[dict]:
    """Distinct generator cards of the run's arms, as (key, value) rows."""
    seen, out = set(), []
    for arm in sorted(result["arms"], key=lambda a: (a.get("generator_card") or {}).get("kind") == "control"):
        card = arm.get("generator_card") or {}
        key = (card.get("name"), card.get("version"))
        if card and key not in seen:
            seen.add(key)
            out.append({"name": card.get("name"), "version": card.get("version"),
                        "fields": [(k, fmt(v) if not isinstance(v, (list, dict)) else ", ".join(
                            f"{a}={b}" if isinstance(v, dict) else str(a) for a, b in
                            (v.items() if isinstance(v, dict) else ((x, None) for x in v))))
                                   for k, v in sorted(card.items())]})
    return out


def provenance(data: RunData) -> dict:
    """Git SHA, hashes, seeds, environment, timings, and SHA-256 of every input artefact."""
    result, run_dir = data.result, data.run_dir
    files = sorted(p for p in run_dir.rglob("*") if p.is_file())
    artefacts = [{"path": p.relative_to(run_dir).as_posix(), "sha256": sha256_file(p)} for p in files
                 if p.relative_to(run_dir).as_posix() not in REPORT_OUTPUTS
                 and not p.relative_to(run_dir).as_posix().startswith("figures/")]
    return {"git_sha": result["benchmark"].get("git_sha", ""), "version": result["benchmark"].get("version", ""),
            "task_config_sha256": result["task"].get("config_sha256", ""),
            "cohort_manifest_sha256": result["cohort"].get("manifest_sha256", ""),
            "predictions_sha256": result["predictions"].get("sha256", ""), "seeds": result["seeds"],
            "environment": sorted((k, fmt(v)) for k, v in result["environment"].items() if not isinstance(v, dict)),
            "packages": sorted((result["environment"].get("packages") or {}).items()),
            "timings": sorted((k, fmt(v, 1)) for k, v in result["timings"].items()), "artefacts": artefacts,
            "signed": (run_dir / "manifest.sig").is_file()}


def arm_rows(result: dict) -> list[dict]:
    """The arms: generator, ratio and real/synthetic counts."""
    return [{"arm": a["arm"], "generator": a.get("generator"), "ratio": fmt(a.get("ratio")),
             "n_real": fmt(a.get("n_real")), "n_synthetic": fmt(a.get("n_synthetic"))} for a in result["arms"]]


def report_kind(result: dict, kind: str) -> str:
    """Resolve ``auto``: a submission when any arm trains on synthetic images, else pre-deployment."""
    if kind != "auto":
        return kind
    return "submission" if any((a.get("n_synthetic") or 0) > 0 for a in result["arms"]) else "predeployment"


def build_context(data: RunData, figures: dict[str, dict], checklists: list[dict], kind: str) -> dict:
    """Everything the templates need (figures as name → caption/anchor; PNG bytes added by render)."""
    result = data.result
    gens = sorted({str(a.get("generator")) for a in result["arms"] if (a.get("n_synthetic") or 0) > 0})
    return {
        "kind": kind, "kind_title": KIND_TITLES[kind], "run_id": result["run_id"], "created": result["created"],
        "simulated": result["simulated"], "profile": result["profile"], "task": result["task"],
        "title": f"{KIND_TITLES[kind]}: {result['task'].get('name', '')}" + (f" — {', '.join(gens)}" if gens else ""),
        "verdict": verdict(data), "cohort": result["cohort"], "arms": arm_rows(result),
        "plan": data.plan, "metrics": metric_rows(result), "comparisons": comparison_rows(result),
        "fairness": fairness_rows(result), "interactions": [
            {**i, "p": fmt_p(i.get("p_value")), "statistic": fmt(i.get("statistic"))} for i in result["interactions"]],
        "audits": audit_rows(result), "cards": generator_cards(result), "checklists": checklists,
        "provenance": provenance(data), "selftest": result.get("selftest") or [],
        "reader_studies": sorted((k, _evidence_text(v)) for k, v in data.reader_studies.items()),
        "figures": {n: {"caption": f["caption"], "anchor": f["anchor"]} for n, f in figures.items()},
        "n_redacted": data.n_redacted,
    }


def checklist_context(data: RunData, figures: dict) -> dict:
    """The evidence context checklist rules are evaluated against."""
    return {"result": data.result, "figures": figures, "run_dir": Path(data.run_dir), "plan": data.plan}
