"""The report's full tables as plain data: columns, rows, and what each row can be filtered by.

Every table is ``{id, caption, note, columns: [{key, label, num}], rows: [{cells: {key: text}, arm,
attribute, cls}], open}``; the HTML template renders each one the same way (a collapsible, sortable
table filterable by arm and attribute) and ``report.json`` stores them as they are. The paired
comparisons come as two tables: the primary test family of the primary metric first (the family
the verdict uses), every other family and metric after it.

Example:
    >>> t = table("t", "caption", [("arm", "arm", False), ("value", "value", True)],
    ...           [{"arm": "gen", "value": "0.1"}])
    >>> t["rows"][0]["arm"], t["columns"][1]["num"]
    ('gen', True)
"""
from __future__ import annotations

from typing import Callable, Sequence

from mammobench.report.context import comparison_row
from mammobench.report.evidence import primary_family

Column = tuple[str, str, bool]


def table(table_id: str, caption: str, columns: Sequence[Column], rows: Sequence[dict], *, note: str = "",
          row_class: str = "", optional: Sequence[str] = ()) -> dict:
    """A table spec; each row dict's ``arm``/``attribute`` (when present) feed the filters; ``optional``
    columns are left out when no row has a value for them."""
    columns = [c for c in columns if c[0] not in optional or any(r.get(c[0]) not in (None, "", "–") for r in rows)]
    keys = [c[0] for c in columns]
    return {"id": table_id, "caption": caption, "note": note,
            "columns": [{"key": k, "label": label, "num": num} for k, label, num in columns],
            "rows": [{"cells": {k: "" if r.get(k) is None else str(r.get(k)) for k in keys},
                      "arm": str(r.get("arm") or ""), "attribute": str(r.get("attribute") or "overall"),
                      "cls": str(r.get(row_class) or "") if row_class else ""} for r in rows]}


def short_method(method: str) -> str:
    """A comparison method's name without its parenthesised detail (the caption keeps the full name)."""
    return method.split(" (")[0] if method else ""


def comparison_tables(result: dict, metric: str) -> list[dict]:
    """Primary-family rows of the primary metric (what the verdict uses), then every other comparison."""
    primary_ids = {id(c) for arm in sorted({c["arm"] for c in result["comparisons"]})
                   for c in primary_family(result, arm, metric)}
    records = sorted(result["comparisons"], key=lambda c: (c["metric"], c["arm"], c.get("attribute") is not None,
                                                           str(c.get("attribute")), str(c.get("group"))))
    primary = [comparison_row(c) for c in records if id(c) in primary_ids]
    other = [comparison_row(c) for c in records if id(c) not in primary_ids]
    cols = [("arm", "arm", False), ("group", "subgroup", False), ("estimate", f"Δ {metric} [95% CI]", True),
            ("n", "n", True), ("n_pos", "n_pos", True), ("p", "p", True), ("p_adj", "p adjusted", True),
            ("margin", "p vs α", True), ("significant", "significant", False), ("flag", "flag", False)]
    out = [table("comparisons", f"Primary test family: Δ {metric} vs control, overall and per subgroup "
                                f"({len(primary)} rows)", cols, primary, row_class="flag", optional=("margin", "flag"),
                 note=f"Method: {'; '.join(sorted({r['method'] for r in primary})) or '–'}. Multiplicity "
                      f"adjustment over this family: {', '.join(sorted({r['adjustment'] for r in primary})) or '–'}.")]
    if other:
        cols_other = [("metric", "metric", False), ("family", "test family", False), *cols[:2],
                      ("estimate", "Δ [95% CI]", True), *cols[3:7]] + [
            ("adjustment", "adjustment", False), ("significant", "significant", False)]
        out.append(table("comparisons-other", f"Other test families and metrics ({len(other)} rows)", cols_other,
                         [{**r, "family": r["family"] or short_method(r["method"])} for r in other],
                         note="Test families: " + "; ".join(sorted({r["method"] for r in other})) + ".",
                         optional=("margin",)))
    return out


def metric_table(rows: list[dict]) -> dict:
    return table("metrics", f"Metrics pooled over seeds ({len(rows)} rows): every value with n, positives and 95% CI",
                 [("metric", "metric", False), ("split", "split", False), ("arm", "arm", False),
                  ("group", "subgroup", False), ("value", "value [95% CI]", True), ("n", "n", True),
                  ("n_pos", "n_pos", True), ("status", "status", False)], rows, row_class="status")


def fairness_table(rows: list[dict]) -> dict:
    return table("fairness-table", f"Fairness: gaps, worst groups and differences ({len(rows)} rows)",
                 [("metric", "metric", False), ("arm", "arm", False), ("attribute", "attribute", False),
                  ("kind", "kind", False), ("group", "group", False), ("value", "value [95% CI]", True),
                  ("delta", "Δ vs control [95% CI]", True), ("status", "status", False)], rows, row_class="status",
                 optional=("status",), note="A status such as 'undefined (no positives)' means the metric has no "
                                            "value for that group; no gap is claimed from it.")


def gap_table(rows: list[dict], control: str) -> dict:
    return table("gaps", "Subgroup gaps of the primary metric per attribute and arm",
                 [("attribute", "attribute", False), ("arm", "arm", False), ("groups", "per group [95% CI] (n)", False),
                  ("gap", "best − worst", True), ("p_gap", "gap p", True), ("trend", "trend (ordered groups)", True),
                  ("p_modification", "effect differs p", True)], rows,
                 note=f"Gap p: Wald test that the metric is equal in every group (pre-specified; no worst group "
                      f"picked on test data). Effect differs p: that the arm's change vs {control} is the same in "
                      "every group. The best − worst difference is descriptive.")


def interaction_table(rows: list[dict]) -> dict:
    return table("interactions", "Heterogeneity tests (subgroup gap; arm × subgroup)",
                 [("metric", "metric", False), ("arm", "arm", False), ("attribute", "attribute", False),
                  ("kind", "test", False), ("statistic", "statistic", True), ("df", "df", True), ("p", "p", True),
                  ("flag", "flag", False), ("method", "method", False)],
                 [{**i, "kind": i.get("kind", "effect_modification")} for i in rows], row_class="flag",
                 optional=("flag",))


def audit_table(rows: list[dict]) -> dict:
    return table("audit-table", f"Audit checks ({len(rows)})",
                 [("generator", "arm", False), ("audit", "audit", False), ("check", "check", False),
                  ("status", "status", False), ("value", "value", True), ("threshold", "threshold", True),
                  ("margin", "p vs α", True), ("flag", "flag", False),
                  ("message", "message", False), ("evidence", "evidence", False)],
                 [{**r, "arm": r["generator"], "attribute": r["audit"]} for r in rows], row_class="status",
                 optional=("margin", "flag"))


def selftest_evidence_text(rec: dict) -> str:
    """A trial record's evidence in one line (the CLI table and the report show this, not the raw dict).

    Example:
        >>> selftest_evidence_text({"trial": "harmful", "evidence": {"overall": [{"estimate": -0.07, "p_adjusted": 4e-4}]}})
        'overall Δ-0.070 p_adj 0.0004'
        >>> selftest_evidence_text({"trial": "dense_helpful", "evidence": {"dense_groups": [
        ...     {"group": "D", "estimate": 0.12, "p_adjusted": 0.004}]}})
        'lesion sensitivity density D: Δ+0.120 p_adj 0.004'
    """
    ev = rec.get("evidence", {})
    if not isinstance(ev, dict):
        return str(ev)
    if rec["trial"] == "null_fpr":
        return f"exact binomial CI, alpha {ev.get('alpha')}; {len(ev.get('runs', []))} runs"
    if rec["trial"].endswith("_rate"):
        return f"exact binomial CI; threads {sorted(set(ev.get('threads', [])))}; {len(ev.get('runs', []))} runs"
    if "checks" in ev:
        return "; ".join(f"{c['check']}={c['status']}" + (f" ({c['value']:.3g})" if isinstance(c.get("value"), float)
                                                          else "") for c in ev["checks"][:2])
    if "dense_groups" in ev:
        parts = [f"density {c['group']}: Δ{c['estimate']:+.3f} p_adj {c['p_adjusted']:.3g}" for c in ev["dense_groups"]]
        return "lesion sensitivity " + ("; ".join(parts) or "not compared")
    if "supplied_group_comparisons" in ev:
        parts = [f"{c['group'] or 'overall'}: Δ{c['estimate']:+.3f} p_adj {c['p_adjusted']:.3g}"
                 for c in ev.get("overall", []) + ev["supplied_group_comparisons"]]
        return "; ".join(parts) + f"; lesion-type gap Δ{ev['lesion_type_gap_delta_vs_control']:+.3f}"
    if "overall" in ev:
        return "; ".join(f"overall Δ{c['estimate']:+.3f} p_adj {c['p_adjusted']:.3g}" for c in ev["overall"])
    if "n_comparisons" in ev:
        return f"{ev['n_significant']}/{ev['n_comparisons']} significant, min p_adj {ev['min_p_adjusted']:.3g}"
    return ""


def selftest_table(rows: list[dict]) -> dict:
    """Known-answer trials; a row's ``status`` (e.g. ``underpowered``) wins over agree yes/NO."""
    shown = [{**t, "status": t.get("status") or ("pass" if t.get("agree") else "fail"),
              "evidence": selftest_evidence_text(t),
              "agree": "yes" if t.get("agree") else "–" if t.get("status") == "underpowered" else "NO"} for t in rows]
    return table("selftest-table", "Self-test: known-answer trials",
                 [("trial", "trial", False), ("expected", "expected", False), ("observed", "observed", False),
                  ("agree", "agree", False), ("status", "status", False), ("power", "power", False),
                  ("evidence", "evidence", False)],
                 shown, row_class="status", optional=("power",),
                 note="underpowered: the profile has too little power for this trial; the row names the profile "
                      "that has it and does not count as a failure.")


#: further table builders ``fn(result, page, metric) -> [table(...), ...]`` (e.g. a detection section's tables)
EXTRA_TABLES: list[Callable[[dict, dict, str], list[dict]]] = []


def all_tables(result: dict, page: dict, metric: str) -> dict[str, dict]:
    """Every full table of the page by id (``page``: the context rows and the verdict)."""
    tables = comparison_tables(result, metric) + [
        metric_table(page["metrics"]), fairness_table(page["fairness"]),
        gap_table(page["verdict"]["gaps"], page["verdict"]["control"]), interaction_table(page["interactions"]),
        audit_table(page["audits"]), selftest_table(page["selftest"])]
    tables += [t for build in EXTRA_TABLES for t in build(result, page, metric)]
    return {t["id"]: t for t in tables}
