"""The report's detection section from a small seeded detection run (issue #19.6).

The run is :func:`tests.helpers.detection_run.make_detection_run_folder`: records computed by the evaluator
from seeded marks; arm ``augmented`` has a lesion-score shift of +1 logit, so its wAFROC is higher — but no
test here asserts a statistical decision: the checks are about what the section shows (every figure and
table, every arm, n and CI on every row, the adjusted p next to the raw one), never which side of α a p is on.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from mammobench.errors import DataError
from mammobench.io import read_json
from mammobench.report.detection_data import gallery_picks, load_detection
from mammobench.report.render import render_report

from tests.helpers.browser import LAYOUT_JS, open_report, require_chromium
from tests.helpers.detection_run import make_detection_run_folder

FIGURES = ("froc", "det_sens_forest", "det_false_marks", "det_gallery_none", "det_gallery_augmented")
TABLES = ("detection-wafroc", "detection-sensitivity")


@pytest.fixture
def only_detection_figures(monkeypatch):
    """Render only the detection section's figures: for tests about whether and how that section shows (the
    other figures are drawn by the tests of their own sections)."""
    from mammobench.report import detection_figures as D
    from mammobench.report import figure_set

    kept = [b for b in figure_set.FIGURE_BUILDERS if b.fn in (D.detection_figures, D.detection_gallery)]
    assert len(kept) == 2
    monkeypatch.setattr(figure_set, "FIGURE_BUILDERS", kept)


@pytest.fixture(scope="module")
def det_run(tmp_path_factory):
    run = make_detection_run_folder(tmp_path_factory.mktemp("det"))
    render_report(run)
    return run


def test_section_has_every_figure_and_table(det_run):
    rep = read_json(det_run / "report.json")
    section = next(s for s in rep["sections"] if s["id"] == "detection")
    assert section["lead"] == ["froc", "det_sens_forest", "det_false_marks"]
    assert section["more"] == ["det_gallery_none", "det_gallery_augmented"]  # control first
    assert section["tables"] == list(TABLES)
    assert any(s.startswith("Control (none): wAFROC") for s in section["reading"])
    assert any(s.startswith("augmented: Δ wAFROC") and "adjusted" in s for s in section["reading"])
    for name in FIGURES:
        png = det_run / "figures" / f"{name}.png"
        assert png.is_file() and rep["figures"][name]["caption"], name
        width, height = Image.open(png).size
        assert width > 300 and height > 200, (name, width, height)
    assert sum(1 for s in rep["sections"] for f in s["lead"] + s["more"] if f == "froc") == 1  # shown once
    html = (det_run / "report.html").read_text()
    assert 'id="detection"' in html and 'src="figures/det_gallery_none.png"' in html
    for t in TABLES:
        assert f'id="{t}"' in html, t


def test_section_is_a_pure_function_of_the_run_files(det_run):
    files = [det_run / "report.html", det_run / "report.json", *sorted((det_run / "figures").glob("det_*.png"))]
    before = {p.name: p.read_bytes() for p in files}
    render_report(det_run)
    assert {p.name: p.read_bytes() for p in files} == before and len(before) == 2 + 4


def test_wafroc_table_has_delta_p_holm_and_borderline_columns(det_run):
    table = read_json(det_run / "report.json")["tables"]["detection-wafroc"]
    labels = [c["label"] for c in table["columns"]]
    for label in ("wAFROC [95% CI]", "lesions", "Δ wAFROC [95% CI]", "p", "p adjusted", "adjustment", "p vs α"):
        assert label in labels, label
    rows = [r["cells"] for r in table["rows"]]
    overall = {r["arm"]: r for r in rows if r["group"] == "overall"}
    assert set(overall) == {"none", "augmented"}
    assert overall["none"]["delta"] == "–"  # the control has no comparison
    arm = overall["augmented"]
    assert re.fullmatch(r"-?\d\.\d{3} \[-?\d\.\d{3}, -?\d\.\d{3}\]", arm["delta"]), arm
    assert arm["adjustment"] == "holm" and arm["p_adj"] != "–" and arm["method"] == "seeds_as_readers"
    result = read_json(det_run / "result.json")
    primary = next(c for c in result["comparisons"] if c["metric"] == "wafroc" and c["arm"] == "augmented"
                   and c.get("attribute") is None and c.get("primary"))
    assert arm["p_adj"] == (f"{primary['p_adjusted']:.3f}" if primary["p_adjusted"] >= 0.001 else "<0.001")
    subgroup_rows = {r["group"] for r in rows if r["group"] != "overall"}
    assert {"density = a", "lesion_type = mass"} <= subgroup_rows


def test_sensitivity_table_covers_every_subgroup_and_false_marks_by_density(det_run):
    rows = [r["cells"] for r in read_json(det_run / "report.json")["tables"]["detection-sensitivity"]["rows"]]
    sens = {(r["arm"], r["group"]) for r in rows if r["metric"] == "lesion_sensitivity @ 1 FPI"}
    for attr in ("lesion_type", "density", "age_band", "vendor"):
        assert any(g.startswith(f"{attr} = ") for _, g in sens), attr
    assert {a for a, _ in sens} == {"none", "augmented"}
    fm = {r["group"] for r in rows if r["metric"] == "false_marks_per_image @ 1 FPI"}
    assert "overall" in fm and {g for g in fm if g != "overall"} == {f"density = {d}" for d in "abcd"}
    assert {r["metric"] for r in rows if r["metric"].startswith("froc")} == {f"froc_sensitivity @ {f:g} FPI"
                                                                  for f in (0.25, 0.5, 1, 2, 4)}
    assert all(r["n"] != "–" and "[" in r["value"] for r in rows if not r["value"].startswith("nan"))


def test_gallery_picks_follow_the_threshold_and_the_hit_rule(det_run):
    files = load_detection(det_run, read_json(det_run / "result.json"))
    tau = float(files.summary["thresholds"]["none"]["0"])
    picks = gallery_picks(files.marks, files.lesions, "none", 0, threshold=tau, k=50)
    tp, miss, fp = picks["true positives"], picks["misses"], picks["false marks"]
    assert tp and fp and all(p.score > tau for p in tp) and all(p.score <= tau for p in miss)
    assert [p.score for p in tp] == sorted((p.score for p in tp), reverse=True)
    assert [p.score for p in fp] == sorted((p.score for p in fp), reverse=True)
    test_ids = set(files.marks.loc[files.marks["split"] == "test", "image_id"])
    assert {p.image_id for p in tp + miss + fp} <= test_ids
    for p in tp:  # the featured lesion's best mark of this detector lies in its box (centre rule)
        m = files.marks[(files.marks["image_id"] == p.image_id) & (files.marks["arm"] == "none")
                        & (files.marks["seed"] == 0)]
        cx, cy = (m["x0"] + m["x1"]) / 2, (m["y0"] + m["y1"]) / 2
        inside = (cx >= p.box[0]) & (cx <= p.box[2]) & (cy >= p.box[1]) & (cy <= p.box[3])
        assert np.isclose(m.loc[inside, "score"].max(), p.score)


def test_without_the_image_cache_the_section_keeps_figures_and_tables(tmp_path, only_detection_figures):
    run = make_detection_run_folder(tmp_path, n_patients=40, images=False)
    render_report(run)
    rep = read_json(run / "report.json")
    section = next(s for s in rep["sections"] if s["id"] == "detection")
    assert section["lead"] == ["froc", "det_sens_forest", "det_false_marks"] and section["more"] == []
    (run / "marks.csv").unlink()
    with pytest.raises(DataError, match="marks.csv is missing"):
        render_report(run)


def test_a_classification_run_has_no_detection_section(tmp_path, only_detection_figures):
    from tests.helpers.run_fixture import fake_run_copy

    run = fake_run_copy(tmp_path)
    result = read_json(run / "result.json")
    result["metrics"] = [m for m in result["metrics"] if m["metric"] != "froc_sensitivity"]
    (run / "result.json").write_text(__import__("json").dumps(result))
    render_report(run)
    assert "detection" not in [s["id"] for s in read_json(run / "report.json")["sections"]]


def test_unreadable_cases_file_is_a_clear_error(tmp_path):
    run = make_detection_run_folder(tmp_path, n_patients=30)
    np.save(run / "data" / "images.npy", np.zeros((2, 8, 8), np.float32))  # fewer rows than cases.csv names
    with pytest.raises(DataError, match="does not hold the rows"):
        load_detection(run, read_json(run / "result.json"))
    assert len(pd.read_csv(run / "data" / "cases.csv")) > 2


@pytest.mark.browser
def test_detection_section_renders_in_chromium(det_run):
    require_chromium()
    with open_report(det_run / "report.html") as (page, errors):
        layout = page.evaluate(LAYOUT_JS)
        for name in FIGURES:
            assert page.locator(f"#detection img[alt='{name}']").count() == 1, name
        text = page.locator("#detection").inner_text()
        for t in TABLES:
            assert page.locator(f"#{t} tbody tr").count() > 0, t
    assert errors == [] and layout["broken"] == [], (errors, layout["broken"])
    assert "wAFROC" in text and "Lesion sensitivity" in text
