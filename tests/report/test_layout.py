"""Report layout: the answer first, primary family first, flags from other streams, sections registry, sample grids."""
from __future__ import annotations

import numpy as np
import pytest

from mammobench.io import read_json
from mammobench.report import sections as S
from mammobench.report.forest import forest_rows
from mammobench.report.render import render_report
from mammobench.report.sample_grids import grid_panels, sample_figures
from mammobench.results import mark_primary
from tests.helpers.run_fixture import fake_run_copy, rendered_run_copy


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    run = rendered_run_copy(tmp_path_factory.mktemp("layout"), selftest=True, reader_study=True)  # test_render's run
    return run, read_json(run / "report.json"), (run / "report.html").read_text()


def test_answer_is_the_first_section_and_names_every_arm(report):
    _, rep, html = report
    assert [s["id"] for s in rep["sections"]][:2] == ["verdict", "utility"]
    assert html.index('id="verdict"') < html.index('id="fig-forest_delta"') < html.index('id="utility"')
    arms = {a["arm"]: a for a in rep["verdict"]["arms"]}
    assert set(arms) == {"ddpm_r0.5", "ddpm_r1"}
    for a in arms.values():  # Δ [CI], margin against the plan's alpha, the lowest subgroup with its n
        assert "[" in a["overall"] and a["margin"]["text"].endswith("vs α 0.05")
        assert a["worst_detail"]["n_subgroups"] == 12 and a["worst_detail"]["n"] > 0
    badges = {b["label"].split()[0]: b["status"] for b in arms["ddpm_r1"]["badges"]}
    assert badges == {"bias": "pass", "fidelity": "pass", "leakage": "pass", "memorisation": "warn"}


def test_worst_subgroup_is_the_smallest_primary_delta(report):
    run, rep, _ = report
    result = read_json(run / "result.json")
    deltas = [c["estimate"] for c in result["comparisons"] if c["arm"] == "ddpm_r1" and c.get("attribute")]
    worst = next(a for a in rep["verdict"]["arms"] if a["arm"] == "ddpm_r1")["worst_detail"]
    assert worst["delta"] == min(deltas)


def test_primary_family_first_other_families_on_request(tmp_path, figures_drawn_once):
    run = fake_run_copy(tmp_path)
    result = read_json(run / "result.json")
    extra = [{**c, "method": "paired Obuchowski clustered DeLong (seed-averaged scores)", "estimate": 0.5,
              "family": "delong_conditional"} for c in result["comparisons"]]
    # schema 1.1: the family is a field and the evaluator flags the primary one (one seed per arm → DeLong)
    result["comparisons"] = mark_primary(extra + result["comparisons"], "auc")
    (run / "result.json").write_text(__import__("json").dumps(result))
    render_report(run)
    rep = read_json(run / "report.json")
    primary, other = rep["tables"]["comparisons"], rep["tables"]["comparisons-other"]
    assert len(primary["rows"]) == len(other["rows"]) == len(extra)
    assert "DeLong" in primary["note"] and "bootstrap" in other["note"]  # one seed per arm → DeLong is primary
    assert all(not r["cells"]["estimate"].startswith("0.500") for r in other["rows"])
    sections = {s["id"]: s for s in rep["sections"]}
    assert sections["utility"]["tables"] == ["comparisons", "comparisons-other"]


def test_flags_from_other_streams_are_shown(tmp_path, figures_drawn_once):
    """borderline comparisons with their margin, undefined fairness groups, underpowered self-test rows."""
    run = fake_run_copy(tmp_path, selftest=True)
    result = read_json(run / "result.json")
    overall = next(c for c in result["comparisons"] if c["arm"] == "ddpm_r1" and c["attribute"] is None)
    overall.update(p_adjusted=0.052, threshold=0.05, borderline=True)
    result["fairness"][0]["status"] = "undefined (no positives)"
    result["selftest"].append({"trial": "planted_gain", "expected": "better", "observed": "no change", "agree": False,
                               "status": "underpowered", "evidence": "power 0.41 at smoke; use --profile quick"})
    result["selftest"].append({"trial": "harmful", "expected": "loss", "observed": "loss", "agree": True, "status": "pass",
                               "evidence": {"overall": [{"estimate": -0.07, "p_adjusted": 4e-4, "ci_low": -0.09}]}})
    (run / "result.json").write_text(__import__("json").dumps(result))
    render_report(run)
    html, rep = (run / "report.html").read_text(), read_json(run / "report.json")
    arm = next(a for a in rep["verdict"]["arms"] if a["arm"] == "ddpm_r1")
    assert arm["margin"] == {"p": 0.052, "threshold": 0.05, "text": "p (adj.) 0.052 vs α 0.05", "borderline": True}
    assert 'class="badge b-borderline"' in html and "0.052 vs 0.05" in html
    assert '<tr data-arm="ddpm_r1" data-attribute="overall" class="borderline">' in html
    assert "undefined (no positives)" in html and ">underpowered</span>" in html
    assert "overall Δ-0.070 p_adj 0.0004" in html and "'ci_low'" not in html  # evidence in one line, not a dict


def test_register_section_needs_no_template_change(tmp_path, monkeypatch, figures_drawn_once):
    monkeypatch.setattr(S, "SECTIONS", dict(S.SECTIONS))
    monkeypatch.setattr(S, "OUTLINES", {k: list(v) for k, v in S.OUTLINES.items()})
    S.register_section(S.Section("detection", "Detection: FROC", lead=("froc",),
                                 readings=(lambda data, page: ["FROC reading."],), nav="detection"), after="results")
    assert S.OUTLINES["submission"].index("detection") == S.OUTLINES["submission"].index("results") + 1
    run = fake_run_copy(tmp_path)
    render_report(run)
    html = (run / "report.html").read_text()
    assert html.index('id="results"') < html.index('id="detection"') < html.index('id="calibration"')
    assert html.index('id="detection"') < html.index('id="fig-froc"') and "FROC reading." in html
    assert '<a href="#detection">detection</a>' in html


def test_sample_grids_read_boxes_and_say_when_there_are_none():
    rng = np.random.default_rng(0)
    arrays = {f"{kind}__lesion_type=mass": rng.random((8, 24, 24)) for kind in ("real", "synthetic")}
    arrays["boxes_real__lesion_type=mass"] = np.array([[[2, 3, 9, 10], [np.nan] * 4]] * 8)
    panel = grid_panels(arrays)["lesion_type"][0]
    assert panel["value"] == "mass" and panel["boxes"]["synthetic"] is None
    assert [b.tolist() for b in panel["boxes"]["real"]] == [[[2.0, 3.0, 9.0, 10.0]]] * 8
    fig, caption = sample_figures({"gen": arrays})["samples_gen_lesion_type"]
    assert "8 real" in caption and "8 synthetic" in caption and "lesion boxes" in caption
    boxes = fig.axes[0].patches  # one per real image (8), none on the synthetic row
    assert len(boxes) == 8 and {b.get_y() for b in boxes} == {3 * 6 - 0.5}
    old = sample_figures({"gen": {"real__density_A__mass": arrays["real__lesion_type=mass"],
                                  "synthetic__density_A__mass": arrays["synthetic__lesion_type=mass"]}})
    assert "records no lesion boxes" in old["samples_gen_condition"][1]


def test_forest_rows_order_and_status_labels():
    recs = [{"arm": a, "attribute": attr, "group": g, "value": v, "ci_low": None if st else v - .1,
             "ci_high": None if st else v + .1, "n": 10, "n_pos": 3, "status": st}
            for a in ("x", "y") for attr, g, v, st in ((None, None, .8, ""), ("density", "B", .7, ""),
                                                       ("density", "A", .6, "insufficient_n"), ("site", "s", .5, ""))]
    rows = forest_rows(recs, value_key="value", attributes=["density"])
    assert [r["label"] for r in rows] == ["overall (n 10, pos 3)", "density = A (n 10, pos 3) — insufficient n",
                                          "density = B (n 10, pos 3)"]
    assert set(rows[1]["points"]) == {"x", "y"}
