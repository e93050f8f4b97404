"""Leaderboard: submit signed bundles, build a deterministic page, reject tampered or leaky bundles."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mammobench.commands import leaderboard as leaderboard_cmd
from mammobench.commands import submit as submit_cmd
from mammobench.errors import IntegrityError, LeakageError
from mammobench.io import read_json
from mammobench.leaderboard.build import build_leaderboard, check_up_to_date
from mammobench.leaderboard import bundle as bundle_module
from mammobench.leaderboard.bundle import submit
from mammobench.report.provenance import sign_run
from tests.helpers.browser import open_page, require_chromium
from tests.helpers.run_fixture import FAKE_PATIENT_NAMES, fake_run_copy, rendered_run_copy

REPO_LEADERBOARD = Path(__file__).resolve().parents[2] / "leaderboard"


def _signed_rendered_run(root: Path, **options) -> Path:
    run = rendered_run_copy(root, selftest=True, reader_study=True)
    if options.get("training_data"):  # only the card changes; the rendered report is reused for speed
        fresh = fake_run_copy(root / "fresh", **options)
        shutil.copy(fresh / "result.json", run / "result.json")
    sign_run(run)
    return run


@pytest.fixture(scope="module")
def key_env(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("MAMMOBENCH_SIGNING_KEY", str(tmp_path_factory.mktemp("keys") / "k.pem"))
    yield
    mp.undo()


@pytest.fixture(scope="module")
def good_run(tmp_path_factory, key_env):
    return _signed_rendered_run(tmp_path_factory.mktemp("good"))


@pytest.fixture()
def board(tmp_path, good_run):
    shutil.copy(REPO_LEADERBOARD / "display.yaml", tmp_path / "display.yaml")
    bundle = submit(good_run, tmp_path)
    return tmp_path, bundle


def test_submit_and_build(board, capsys):
    root, bundle = board
    assert bundle.relative_to(root).as_posix() == "results/ddpm@0.3.0/vc_malignancy"
    report = build_leaderboard(root)
    assert report.rejected == [] and len(report.rows) == 1
    row = report.rows[0]
    result = read_json(bundle / "result.json")
    best_val = max((m for m in result["metrics"] if m["split"] == "val" and m["arm"] != "real_only"),
                   key=lambda m: m["value"])
    assert row["arm"] == best_val["arm"] and row["arm_rule"] == "best on validation"
    overall = next(c for c in result["comparisons"] if c["arm"] == row["arm"] and c["attribute"] is None)
    assert row["delta"] == overall["estimate"] and row["flags"]["privacy"] == "warn"
    assert row["flags"]["fidelity"] == "pass" and row["flags"]["leakage"] == "pass"
    readme = (root / "README.md").read_text()
    assert "ddpm" in readme and row["delta_text"] in readme and "SIMULATED" in readme
    assert check_up_to_date(root) == []
    assert leaderboard_cmd.main(["check", "--dir", str(root)]) == 0


def test_build_is_byte_deterministic(board):
    root, _ = board
    build_leaderboard(root)
    first = {n: (root / n).read_bytes() for n in ("README.md", "index.html")}
    build_leaderboard(root)
    assert first == {n: (root / n).read_bytes() for n in ("README.md", "index.html")}


@pytest.mark.parametrize("target, expect", [
    ("result.json", "changed: result.json"),
    ("report.html", "changed: report.html"),
    ("bundle.json", "bundle signature invalid"),
    ("run_manifest.json", "changed: run_manifest.json"),
])
def test_tampered_bundle_rejected_with_reason(board, target, expect):
    root, bundle = board
    path = bundle / target
    data = bytearray(path.read_bytes())
    data[len(data) // 3] ^= 0x01
    path.write_bytes(bytes(data))
    report = build_leaderboard(root)
    assert report.rows == [] and len(report.rejected) == 1
    assert expect in report.rejected[0][1]
    assert expect in (root / "README.md").read_text()
    assert leaderboard_cmd.main(["check", "--dir", str(root)]) == 0  # just built
    assert check_up_to_date(root) == []


def test_added_file_and_stale_output(board):
    root, bundle = board
    build_leaderboard(root)
    (bundle / "extra.csv").write_text("x")
    assert check_up_to_date(root) == ["README.md", "index.html"]
    assert leaderboard_cmd.main(["check", "--dir", str(root)]) == 1
    report = build_leaderboard(root)
    assert "added: extra.csv" in report.rejected[0][1]


def test_generator_trained_on_test_split_refused_at_submit_and_rejected_at_build(tmp_path, key_env, monkeypatch):
    run = _signed_rendered_run(tmp_path, training_data=("virtual_cohort:train", "virtual_cohort:test"))
    with pytest.raises(LeakageError, match="virtual_cohort:test"):
        submit(run, tmp_path / "lb")
    assert not (tmp_path / "lb" / "results").exists()
    # a bundle made without that check (by hand, or by an older harness) is still rejected by the build
    monkeypatch.setattr(bundle_module, "training_data_problem", lambda card, result: "")
    submit(run, tmp_path / "lb")
    report = build_leaderboard(tmp_path / "lb")
    assert report.rows == [] and "virtual_cohort:test" in report.rejected[0][1]


def test_submit_refuses_tampered_run(tmp_path, good_run, capsys):
    run = tmp_path / "run"
    shutil.copytree(good_run, run)
    (run / "predictions.csv").write_text((run / "predictions.csv").read_text() + "\n")
    with pytest.raises(IntegrityError, match="changed: predictions.csv"):
        submit(run, tmp_path / "lb")
    assert not (tmp_path / "lb" / "results").exists()
    with pytest.raises(IntegrityError):
        submit_cmd.main([str(run), "--leaderboard", str(tmp_path / "lb")])


def test_no_patient_identifier_in_bundle_or_page(board):
    root, bundle = board
    build_leaderboard(root)
    files = sorted(bundle.iterdir()) + [root / "README.md", root / "index.html"]
    for path in files:
        text = path.read_text(errors="replace")
        for needle in (*FAKE_PATIENT_NAMES, "MUSTERMANN", "train0001"):
            assert needle not in text, f"{needle} in {path.name}"
    assert read_json(bundle / "bundle.json")["redactions"] >= 1


def test_committed_leaderboard_is_up_to_date():
    assert check_up_to_date(REPO_LEADERBOARD) == [], "run `mammobench leaderboard build` and commit the result"


@pytest.mark.browser
def test_leaderboard_page_in_chromium(board):
    require_chromium()
    root, _ = board
    build_leaderboard(root)
    with open_page(root / "index.html") as (page, errors):
        assert page.locator("table.board tbody tr").count() == 1
        page.locator("table.board th", has_text="Δ overall").click()
        page.locator("select.subgroup-select").select_option("density")
        visible = page.locator("table.subgroups th:not(.hidden)").all_inner_texts()
        page.screenshot(path=str(root / "leaderboard.png"), full_page=True)
    assert errors == []
    assert any(t.startswith("density=") for t in visible) and not any(t.startswith("vendor=") for t in visible)
