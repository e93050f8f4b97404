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
    return [{"metric": m["metric"] + (f" @ {m['fpi']} FPI" if m.get("fpi") is not None else ""), "split": m.get("split"),
             "arm": m["arm"], "group": _group_label(m), "attribute": m.get("attribute") or "overall",
             "value": fmt_ci(m.get("value"), m.get("ci_low"), m.get("ci_high")), "n": fmt(m.get("n")),
             "n_pos": fmt(m.get("n_pos")), "status": m.get("status") or ""} for m in recs]


def comparison_row(c: dict) -> dict:
    """One paired comparison as a table row (Δ with CI, n, raw and adjusted p, margin, borderline flag)."""
    p = c.get("p_adjusted") if c.get("p_adjusted") is not None else c.get("p_value", c.get("p"))
    threshold = c.get("threshold", c.get("alpha"))
    return {"metric": c["metric"], "arm": c["arm"], "control": c["control"], "group": _group_label(c),
            "attribute": c.get("attribute") or "overall",
            "estimate": fmt_ci(c.get("estimate"), c.get("ci_low"), c.get("ci_high")), "n": fmt(c.get("n")),
            "n_pos": fmt(c.get("n_pos")), "p": fmt_p(c.get("p_value")), "p_adj": fmt_p(c.get("p_adjusted")),
            "adjustment": c.get("adjustment") or "", "significant": fmt(c.get("significant")),
            "method": c.get("method") or "", "family": c.get("family") or "",
            "margin": f"{fmt_p(p)} vs {fmt(threshold, 2)}" if threshold is not None and p is not None else "–",
            "flag": "borderline" if c.get("borderline") else ""}


def comparison_rows(result: dict) -> list[dict]:
    """Paired arm-vs-control comparisons with raw and adjusted p-values."""
    recs = sorted(result["comparisons"], key=lambda c: (c["metric"], c["arm"], c.get("attribute") is not None,
                                                         str(c.get("attribute")), str(c.get("group"))))
    return [comparison_row(c) for c in recs]


def fairness_rows(result: dict) -> list[dict]:
    """Gap / worst-group records with their change vs control."""
    return [{"metric": f["metric"], "arm": f["arm"], "attribute": f.get("attribute"), "kind": f.get("kind"),
             "group": f.get("group") or "", "value": fmt_ci(f.get("value"), f.get("ci_low"), f.get("ci_high")),
             "delta": fmt_ci(f.get("delta_vs_control"), f.get("delta_ci_low"), f.get("delta_ci_high"))
             if f.get("delta_vs_control") is not None else "–", "status": f.get("status") or f.get("flag") or ""}
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
    """Audit records with status, value vs threshold, message, scalar evidence and (checks decided by a
    p-value) the margin ``p vs α`` with its borderline flag."""
    return [{"generator": a["generator"], "audit": a["audit"], "check": a["check"], "status": a["status"],
             "value": fmt(a.get("value")), "threshold": fmt(a.get("threshold")), "message": a["message"],
             "margin": f"{fmt_p(a['p_value'])} vs {fmt(a['alpha'], 2)}" if a.get("alpha") is not None else "",
             "flag": "borderline" if a.get("borderline") else "",
             "evidence": _evidence_text(a.get("evidence"))} for a in result["audits"]]


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
        "cohort": result["cohort"], "arms": arm_rows(result),
        "plan": data.plan, "metrics": metric_rows(result), "comparisons": comparison_rows(result),
        "fairness": fairness_rows(result), "interactions": [
            {**i, "p": fmt_p(i.get("p_value")), "statistic": fmt(i.get("statistic")),
             "flag": "borderline" if i.get("borderline") else ""} for i in result["interactions"]],
        "audits": audit_rows(result), "cards": generator_cards(result), "checklists": checklists,
        "provenance": provenance(data), "selftest": result.get("selftest") or [],
        "reader_studies": sorted((k, _evidence_text(v)) for k, v in data.reader_studies.items()),
        "figures": {n: {"caption": f["caption"], "anchor": f["anchor"]} for n, f in figures.items()},
        "n_redacted": data.n_redacted,
    }


def checklist_context(data: RunData, figures: dict) -> dict:
    """The evidence context checklist rules are evaluated against."""
    return {"result": data.result, "figures": figures, "run_dir": Path(data.run_dir), "plan": data.plan}
