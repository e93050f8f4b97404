"""Report rendering: self-contained HTML/MD/JSON, n + CI everywhere, checklists, answers, no identifiers."""
from __future__ import annotations

import base64
import hashlib
import re

import pandas as pd
import pytest
import yaml
from PIL import Image

from mammobench.commands import report as report_cmd
from mammobench.errors import ConfigError
from mammobench.io import read_json
from mammobench.report.provenance import sign_run, verify_run
from mammobench.report.render import render_report
from tests.helpers.run_fixture import FAKE_PATIENT_NAMES, fake_run_copy, rendered_run_copy

SECTIONS = ("verdict", "plan", "cohort", "partitions", "metrics", "comparisons", "fairness", "calibration",
            "audits", "samples", "reader-study", "checklists", "provenance", "selftest")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    run = rendered_run_copy(tmp_path_factory.mktemp("report"), selftest=True, reader_study=True)
    snapshot = {k: (run / f"report.{k}").read_bytes() for k in ("html", "md", "json")}
    render_report(run)  # a second render must give byte-identical files
    return run, snapshot


def test_outputs_written_and_deterministic(rendered):
    run, snapshot = rendered
    for key, name in (("html", "report.html"), ("md", "report.md"), ("json", "report.json")):
        assert (run / name).read_bytes() == snapshot[key]
    assert sorted(p.name for p in (run / "figures").glob("*.png"))


def test_html_loads_nothing_from_outside_the_run(rendered):
    run = rendered[0]
    html = (run / "report.html").read_text()
    assert "<link" not in html and "http://" not in html and "https://" not in html
    for attr, target in re.findall(r"""(src|href)=["']([^"']*)["']""", html):
        if target.startswith(("data:image/png;base64,", "#")):
            continue
        assert re.fullmatch(r"figures/[\w.=-]+\.png", target) and (run / target).is_file(), (attr, target)
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert len(scripts) == 1 and scripts[0][0] == "", "one inline script, nothing loaded"
    digest = base64.b64encode(hashlib.sha256(scripts[0][1].encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in html, "the CSP admits exactly the inline script"
    inline = re.findall(r'<img alt="([^"]+)" src="data:image/png;base64,', html)
    linked = re.findall(r'<img alt="([^"]+)" src="figures/', html)
    for name in ("cohort_flow", "forest", "forest_delta", "roc_density", "calibration", "dist_ddpm", "dist_ddpm_r1",
                 "effect_vs_ratio", "froc"):
        assert name in inline, name
    for name in ("samples_ddpm_density", "samples_ddpm_lesion_type", "samples_ddpm_label",
                 "nn_ddpm_memorisation_nn_copy", "nn_ddpm_r1_memorisation_copy_detection_feature_feature"):
        assert name in linked, name
    for section in SECTIONS:
        assert f'id="{section}"' in html, section
    assert "SIMULATED DATA" in html


def test_every_number_has_n_npos_and_ci(rendered):
    report = read_json(rendered[0] / "report.json")
    assert report["kind"] == "submission" and report["metrics"] and report["comparisons"]
    for row in report["metrics"] + report["comparisons"]:
        assert row["n"] != "–" and row["n_pos"] != "–"
        assert re.fullmatch(r"-?\d\.\d{3} \[-?\d\.\d{3}, -?\d\.\d{3}\]", row.get("value") or row["estimate"])
    for row in report["comparisons"]:
        assert row["p_adj"] != "–" and row["adjustment"] == "holm"
    assert report["plan"]["unchanged"] and report["plan"]["written_before_test_read"]


def test_checklists_filled_with_links(rendered):
    report = read_json(rendered[0] / "report.json")
    lists = {c["id"]: c for c in report["checklists"]}
    assert {"claim_2024", "mi_claim_gen", "esgar_principles", "reader_study", "tripod_ai", "stard_ai"} <= set(lists)
    rows = {r["id"]: r for c in lists.values() for r in c["rows"]}
    assert rows["CLAIM-8"]["status"] == "auto" and rows["CLAIM-8"]["anchor"] == "cohort"
    assert rows["CLAIM-44"]["status"] == "needs human input"
    assert rows["CLAIM-35"]["anchor"] == "fig-cohort_flow"
    assert rows["RS-1"]["status"] == "auto"  # the fixture has reader_study/vtt.json
    html = (rendered[0] / "report.html").read_text()
    for row in rows.values():
        if row["anchor"]:
            assert f'id="{row["anchor"]}"' in html, row


def test_no_patient_identifier_in_any_output(rendered, tmp_path, monkeypatch):
    run = rendered[0]
    monkeypatch.setenv("MAMMOBENCH_SIGNING_KEY", str(tmp_path / "k.pem"))
    sign_run(run)
    ids = set(pd.read_csv(run / "predictions.csv")["patient_id"]) | {"train0001"}
    texts = {n: (run / n).read_text() for n in ("report.html", "report.md", "report.json", "manifest.json")}
    texts["report.html"] = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", texts["report.html"])
    for png in sorted((run / "figures").glob("*.png")):  # text chunks only: pixels carry no identifiers
        texts[png.name] = repr(Image.open(png).text)
    for name, text in texts.items():
        for needle in (*FAKE_PATIENT_NAMES, "MUSTERMANN", *ids):
            assert needle not in text, f"{needle} found in {name}"
    assert read_json(run / "report.json")["n_redacted"] >= 1


def test_unknown_answer_id_is_named(tmp_path):
    run = fake_run_copy(tmp_path)
    answers = tmp_path / "answers.yaml"
    answers.write_text("CLAIM-99: something\n")
    with pytest.raises(ConfigError, match=r"unknown checklist item id 'CLAIM-99'.*Valid ids: .*CLAIM-1, "):
        render_report(run, answers=answers)
    assert not (run / "report.html").exists()


def test_cli_answers_kind_and_resign(tmp_path, monkeypatch, capsys, figures_drawn_once):
    monkeypatch.setenv("MAMMOBENCH_SIGNING_KEY", str(tmp_path / "k.pem"))
    run = fake_run_copy(tmp_path)
    sign_run(run)
    answers = tmp_path / "answers.yaml"
    answers.write_text(yaml.safe_dump({"answers": {"CLAIM-44": "Funded by nobody; no role.",
                                                   "CLAIM-3": {"answer": "Second reader in screening."}}}))
    assert report_cmd.main([str(run), "--answers", str(answers), "--kind", "predeployment"]) == 0
    assert "re-signed" in capsys.readouterr().out and verify_run(run).ok
    report = read_json(run / "report.json")
    assert report["kind"] == "predeployment" and "mi_claim_gen" not in {c["id"] for c in report["checklists"]}
    rows = {r["id"]: r for c in report["checklists"] for r in c["rows"]}
    assert rows["CLAIM-44"]["status"] == "answered" and rows["CLAIM-3"]["answer"] == "Second reader in screening."
    assert "Funded by nobody" in (run / "report.html").read_text()
    # a run whose inputs changed after signing must not be re-signed by a re-render
    result = run / "result.json"
    result.write_text(result.read_text().replace('"profile": "smoke"', '"profile": "quick"'))
    assert report_cmd._only_report_changed(run) == (False, ["result.json"])
