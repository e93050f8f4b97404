"""Checklists as data: every YAML loads, ids are unique, bad files and evidence rules are refused."""
from __future__ import annotations

import pytest

from mammobench.errors import ConfigError
from mammobench.report.checklists import fill_item, load_answers, load_checklist, load_checklists
from mammobench.report.evidence import REDACTED, scrub


def test_all_checklists_load_with_unique_ids():
    lists = load_checklists()
    assert {c["id"] for c in lists} == {"claim_2024", "mi_claim_gen", "esgar_principles", "reader_study",
                                        "tripod_ai", "stard_ai"}
    ids = [i["id"] for c in lists for i in c["items"]]
    assert len(ids) == len(set(ids))
    claim = next(c for c in lists if c["id"] == "claim_2024")
    assert [i["id"] for i in claim["items"]] == [f"CLAIM-{n}" for n in range(1, 45)]
    assert "mi_claim_gen" not in {c["id"] for c in load_checklists(kind="predeployment")}


@pytest.mark.parametrize("text, match", [
    ("id: x\ntitle: t\nsource: s\nreports: [submission]\nitems:\n  - {id: A, source: s, text: t}\n", "exactly the keys"),
    ("id: x\ntitle: t\nsource: s\nreports: [submission]\nitems:\n  - {id: A, source: s, text: t, "
     "evidence: {result: a, figure: b}}\n", "exactly one of"),
    ("id: x\ntitle: t\nsource: s\nreports: [submission]\nitems:\n  - {id: A, source: s, text: t, "
     "evidence: {records: bogus}}\n", "records 'bogus'"),
    ("id: x\ntitle: t\nreports: [submission]\nitems: []\n", "missing key 'source'"),
    ("id: x\ntitle: t\nsource: s\nreports: [a]\nitems:\n  - {id: A, source: s, text: t, evidence: human}\n"
     "  - {id: A, source: s, text: t, evidence: human}\n", "duplicate item ids"),
    ("!!python/object/apply:os.system ['true']\n", "cannot read checklist"),
])
def test_bad_checklist_refused(tmp_path, text, match):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=match):
        load_checklist(path)


def test_fill_item_statuses(tmp_path):
    context = {"result": {"cohort": {"flow": [1]}, "metrics": []}, "figures": {}, "run_dir": tmp_path,
               "plan": {"unchanged": True, "written_before_test_read": True, "recorded_sha256": "ab" * 32}}
    auto = fill_item({"id": "A", "source": "s", "text": "t", "evidence": {"result": "cohort.flow",
                                                                          "section": "cohort"}}, context, {})
    partial = fill_item({"id": "B", "source": "s", "text": "t", "evidence": {"plan": True, "human": True}},
                        context, {})
    missing = fill_item({"id": "C", "source": "s", "text": "t", "evidence": {"records": "metrics"}}, context, {})
    answered = fill_item({"id": "D", "source": "s", "text": "t", "evidence": "human"}, context, {"D": "yes"})
    assert (auto["status"], auto["anchor"]) == ("auto", "cohort")
    assert partial["status"] == "partial" and missing["status"] == "needs human input"
    assert answered["status"] == "answered" and answered["answer"] == "yes"


def test_answers_validation(tmp_path):
    path = tmp_path / "a.yaml"
    path.write_text("CLAIM-1: ''\n")
    with pytest.raises(ConfigError, match="non-empty text"):
        load_answers(path, ["CLAIM-1"])
    path.write_text("CLAIM-2: x\n")
    with pytest.raises(ConfigError, match="Did you mean 'CLAIM-1'"):
        load_answers(path, ["CLAIM-1"])


def test_scrub_identifiers():
    data = {"message": "closest to P12345 (image IMG-77)", "patient_ids": ["P12345"], "n_patients": 40,
            "training_patients_sha256": "ab" * 32, "note": "DOE^JANE^Q", "dots": "1.2.3.P12345.4"}
    clean = scrub(data, {"P12345", "IMG-77"})
    assert clean["message"] == f"closest to {REDACTED} (image {REDACTED})"
    assert clean["patient_ids"] == REDACTED and clean["note"] == REDACTED
    assert clean["n_patients"] == 40 and clean["training_patients_sha256"] == "ab" * 32
    assert clean["dots"] == f"1.2.3.{REDACTED}.4"  # also inside file names and dotted tokens
