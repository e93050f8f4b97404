"""End to end: `mammobench run --profile smoke` on the virtual cohort, its progress lines, quiet and re-runs.

Every run here is a real subprocess of the console script with its own cache folder
(``MAMMOBENCH_CACHE``), so the cohort, image cache and generator fits are made once per session. The session's
smoke run (``smoke_run``, tests/conftest.py) is the default profile's; resume after kill -9, the Ray executor and
plug-in generators run the smaller settings in tests/pipeline/test_resume_and_executors.py (a separate module,
so pytest-xdist's ``--dist loadfile`` can give it to the other worker).
"""
from __future__ import annotations

import pandas as pd

from mammobench.results import load_result
from tests.helpers.pipeline_run import run_metrics, run_smoke

SMOKE_ARMS = {"none", "classic", "physics"}


def test_smoke_run_produces_valid_result(smoke_run):
    run_dir, done = smoke_run
    result = load_result(run_dir)
    assert result["profile"] == "smoke" and result["simulated"] is True
    assert {a["arm"] for a in result["arms"]} == SMOKE_ARMS
    assert f"report: {run_dir / 'report.html'}" in done.stdout
    for stage in ("cohort", "ingest", "plan", "cache", "generators", "audits", "cells", "evaluate"):
        assert f"] {stage}: done in" in done.stderr, stage
        assert stage in result["timings"]
    preds = pd.read_csv(run_dir / "predictions.csv")
    assert set(preds["arm"]) == SMOKE_ARMS and set(preds["seed"]) == {0, 1} and set(preds["split"]) == {"val", "test"}
    test = preds[(preds["split"] == "test") & (preds["arm"] == "none") & (preds["seed"] == 0)]
    assert set(test["density"]) == {"A", "B", "C", "D"}
    aucs = [m for m in result["metrics"] if m["metric"] == "auc" and m["attribute"] is None and m["split"] == "test"]
    assert {m["arm"] for m in aucs} == SMOKE_ARMS
    assert result["cohort"]["manifest_sha256"] and result["analysis_plan"]["sha256"]
    # the analysis plan is frozen before any test image is read into the run
    assert (run_dir / "analysis_plan.json").stat().st_mtime <= (run_dir / "data" / "images.npy").stat().st_mtime
    for name in ("report.html", "manifest.json", "manifest.sig", "samples/physics.npz", "audits/physics.json"):
        assert (run_dir / name).is_file(), name


def test_smoke_run_reports_progress_per_unit_and_each_epoch(smoke_run):
    """Not a terminal: one line per finished cell, generator and audited arm; each cell's epochs (from the
    process-pool workers, forwarded to the parent) with loss and validation AUC."""
    _, done = smoke_run
    lines = done.stderr.splitlines()
    cells = [f"{arm}__r{0 if arm == 'none' else 0.5}__s{seed}" for arm in sorted(SMOKE_ARMS) for seed in (0, 1)]
    for cell in cells:
        assert sum(f"] cell {cell} done in" in x for x in lines) == 1, cell
        assert sum(f"] cell {cell} epoch 1/1: loss " in x and "val AUC" in x for x in lines) == 1, cell
    for arm in ("classic", "physics"):
        assert sum(f"] generator {arm}: " in x for x in lines) == 1 and sum(f"] audits {arm}: " in x for x in lines) == 1


def test_quiet_rerun_prints_only_the_report_path_skips_finished_cells_and_reproduces(smoke_run, mb_cache):
    """One re-run checks both: ``--quiet`` prints the report path and nothing else, and every finished cell is
    skipped (its record is not rewritten) with the same metrics. The "skip … (done)" progress lines of a loud
    re-run are checked by tests/pipeline/test_resume_and_executors.py's resumed run."""
    run_dir, _ = smoke_run
    before = run_metrics(run_dir)
    records = sorted((run_dir / "cells").glob("*/cell.json"))
    assert len(records) == 6  # 3 arms × 2 seeds
    stamps = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in records}
    done = run_smoke(run_dir.parent, mb_cache, "--quiet")
    assert done.stderr == "" and done.stdout == f"report: {run_dir / 'report.html'}\n"
    assert {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in records} == stamps
    pd.testing.assert_frame_equal(before, run_metrics(run_dir))
