"""The report's detection section: its tables and its reading (its figures: ``report/detection_figures.py``).

The section ``detection`` (after ``results``) is declared in ``report/sections.py``, which imports this
module; importing it adds :func:`detection_tables` to ``tables.EXTRA_TABLES``. The figures are entries of
``figure_set.FIGURE_BUILDERS``. A run without detection records has none of them and the section is left out.

Tables:

* ``detection-wafroc``: the wAFROC figure of merit per arm, overall and per subgroup, with n images,
  n lesions and 95% CI, and for every non-control arm Δ vs control [95% CI], p, the multiplicity-adjusted
  p (Holm unless the plan says otherwise), ``p vs α`` and the borderline flag — the comparison of the
  primary test family (seeds as random readers when the run has ≥ 2 seeds), as the AUC table shows it;
* ``detection-sensitivity``: lesion sensitivity at the task's FPI by subgroup, false marks per image
  by density, FROC sensitivity at the reported FPI points and the CPM, each with its Δ vs control.

Example:
    >>> tables = detection_tables({"metrics": [], "comparisons": []}, {}, "wafroc")
    >>> tables
    []
"""
from __future__ import annotations

from mammobench.report.context import comparison_row
from mammobench.report.detection_figures import control_of as _control
from mammobench.report.evidence import RunData
from mammobench.report.formatting import fmt, fmt_ci, fmt_p
from mammobench.report.tables import EXTRA_TABLES, table

SECONDARY = ("lesion_sensitivity", "false_marks_per_image", "froc_sensitivity", "cpm")


def _label(rec: dict) -> str:
    return "overall" if rec.get("attribute") is None else f"{rec['attribute']} = {rec.get('group')}"


def _key(rec: dict) -> tuple:
    return rec["metric"], str(rec["arm"]), rec.get("attribute"), rec.get("group"), rec.get("fpi")


def _comparisons(result: dict) -> dict[tuple, dict]:
    """One comparison per (metric, arm, subgroup, fpi): the primary one, else seeds-as-readers, else any."""
    out: dict[tuple, dict] = {}
    rank = lambda c: (not c.get("primary"), c.get("family") != "seeds_as_readers")  # noqa: E731
    for c in sorted(result["comparisons"], key=rank):
        out.setdefault(_key(c), c)
    return out


def _order(rec: dict, control: str) -> tuple:
    return (rec.get("attribute") is not None, str(rec.get("attribute")), str(rec.get("group")),
            rec["arm"] != control, str(rec["arm"]))


def _row(rec: dict, comp: dict | None, **extra) -> dict:
    c = comparison_row(comp) if comp else {}
    return {"arm": rec["arm"], "attribute": rec.get("attribute") or "overall", "group": _label(rec),
            "value": fmt_ci(rec.get("value"), rec.get("ci_low"), rec.get("ci_high")), "n": fmt(rec.get("n")),
            "delta": c.get("estimate", "–" if comp is None else ""), "p": c.get("p", "–"), "p_adj": c.get("p_adj", "–"),
            "adjustment": c.get("adjustment", ""), "margin": c.get("margin", ""), "flag": c.get("flag", ""),
            "method": (comp or {}).get("family", ""), **extra}


def detection_tables(result: dict, page: dict, metric: str) -> list[dict]:
    """The ``detection-wafroc`` and ``detection-sensitivity`` tables (none for a run without detection records)."""
    recs = [m for m in result["metrics"] if m.get("seed") is None and m["metric"] in ("wafroc", *SECONDARY)]
    if not recs:
        return []
    control, comps = _control(result), _comparisons(result)
    out = []
    wafroc = sorted((m for m in recs if m["metric"] == "wafroc"), key=lambda r: _order(r, control))
    if wafroc:
        rows = [_row(m, comps.get(_key(m)), n_lesions=fmt(m.get("n_lesions")), n_normal=fmt(m.get("n_normal")))
                for m in wafroc]
        out.append(table("detection-wafroc", f"wAFROC figure of merit per arm and Δ vs control ({control}), "
                                             f"overall and per subgroup ({len(rows)} rows)",
                         [("arm", "arm", False), ("group", "subgroup", False), ("value", "wAFROC [95% CI]", True),
                          ("n", "images", True), ("n_lesions", "lesions", True), ("n_normal", "normal images", True),
                          ("delta", "Δ wAFROC [95% CI]", True), ("p", "p", True), ("p_adj", "p adjusted", True),
                          ("adjustment", "adjustment", False), ("margin", "p vs α", True), ("flag", "flag", False),
                          ("method", "test family", False)], rows, row_class="flag", optional=("flag", "margin"),
                         note="wAFROC (JAFROC figure of merit, lesions weighted equally within an image), seed-averaged "
                              "with a 95% patient-bootstrap CI. Δ: the comparison of the primary test family "
                              "(seeds_as_readers: OR–Hillis with the training seeds as random readers and a patient "
                              "jackknife; patient_bootstrap: paired bootstrap of the seed-averaged FOM), p adjusted "
                              "within each arm's family; 'borderline' = within the machine-to-machine tolerance of α."))
    other = sorted((m for m in recs if m["metric"] in SECONDARY and (m["metric"] != "froc_sensitivity"
                                                                     or m.get("fpi_point"))),
                   key=lambda r: (SECONDARY.index(r["metric"]), r.get("fpi") or 0, *_order(r, control)))
    if other:
        rows = [_row(m, comps.get(_key(m)), metric=m["metric"] + (f" @ {m['fpi']:g} FPI" if m.get("fpi") is not None
                                                                  else "")) for m in other]
        out.append(table("detection-sensitivity", f"Lesion sensitivity, false marks per image and FROC points with Δ vs "
                                                  f"control ({len(rows)} rows)",
                         [("metric", "metric", False), ("arm", "arm", False), ("group", "subgroup", False),
                          ("value", "value [95% CI]", True), ("n", "n (lesions or images)", True),
                          ("delta", "Δ vs control [95% CI]", True), ("p", "p", True), ("p_adj", "p adjusted", True),
                          ("flag", "flag", False)], rows, row_class="flag", optional=("flag",),
                         note="Thresholds chosen per arm and seed on validation for the task's FPI, applied to test. "
                              "n: lesions for lesion sensitivity, images for false marks per image. Δ: paired patient "
                              "bootstrap of the seed-averaged value; p adjusted within each (arm, metric) family."))
    return out


def detection_reading(data: RunData, page: dict) -> list[str]:
    """The control's wAFROC, each arm's Δ with its adjusted p, and where the operating point came from."""
    result = data.result
    det = result.get("detection") or {}
    control, comps = _control(result), _comparisons(result)
    overall = {m["arm"]: m for m in result["metrics"] if m["metric"] == "wafroc" and m.get("seed") is None
               and m.get("attribute") is None}
    if not overall:
        return []
    out = []
    if control in overall:
        m = overall[control]
        out.append(f"Control ({control}): wAFROC {fmt_ci(m['value'], m.get('ci_low'), m.get('ci_high'))} on "
                   f"{fmt(m.get('n'))} test images with {fmt(m.get('n_lesions'))} lesions.")
    for arm, m in sorted(overall.items()):
        c = comps.get(("wafroc", arm, None, None, None))
        if arm == control or c is None:
            continue
        flag = ", borderline" if c.get("borderline") else ""
        out.append(f"{arm}: Δ wAFROC {fmt_ci(c['estimate'], c.get('ci_low'), c.get('ci_high'))} vs {control} "
                   f"(p {fmt_p(c.get('p_value'))}, adjusted {fmt_p(c.get('p_adjusted'))}{flag}; {c.get('family')}).")
    if det.get("fpi") is not None:
        fpi = f"{det['fpi']:g} false mark{'' if det['fpi'] == 1 else 's'} per image"
        out.append(f"Lesion sensitivity and false marks are read at {fpi}, the score "
                   f"threshold chosen on the {det.get('chosen_on', 'val')} split per arm and seed; a mark hits a lesion "
                   + ("when its centre lies inside the lesion's box." if det.get("hit_criterion") == "centre" else
                      f"when its box overlaps the lesion's with IoU ≥ {fmt(det.get('iou_threshold'))}."))
    return out


if detection_tables not in EXTRA_TABLES:
    EXTRA_TABLES.append(detection_tables)

__all__ = ["detection_reading", "detection_tables"]
