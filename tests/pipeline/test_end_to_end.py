"""End to end: `mammobench run --profile smoke` on the virtual cohort, resume after kill -9, Ray, plug-ins.

Every run here is a real subprocess of the console script with its own cache folder
(``MAMMOBENCH_CACHE``), so the cohort, image cache and generator fits are made once per session.
"""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from mammobench.results import load_result
from tests.helpers.pipeline_run import cli_env, run_smoke

MAMMOBENCH = [sys.executable, "-m", "mammobench.cli"]
SMOKE_ARMS = {"none", "classic", "physics"}


def _metrics(run_dir: Path) -> pd.DataFrame:
    """The numbers of result.json (metrics + comparisons), sorted, for run-to-run comparison."""
    result = load_result(run_dir)
    cols = ["metric", "split", "arm", "attribute", "group", "value", "ci_low", "ci_high", "n", "n_pos"]
    frame = pd.DataFrame(result["metrics"]).reindex(columns=cols)
    return frame.astype(str).sort_values(cols).reset_index(drop=True)


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


def test_quiet_run_prints_nothing_but_the_report_path(smoke_run, mb_cache):
    run_dir, _ = smoke_run
    done = run_smoke(run_dir.parent, mb_cache, "--quiet")
    assert done.stderr == "" and done.stdout == f"report: {run_dir / 'report.html'}\n"


def test_rerun_skips_finished_cells_and_reproduces(smoke_run, mb_cache):
    run_dir, _ = smoke_run
    before = _metrics(run_dir)
    done = run_smoke(run_dir.parent, mb_cache)
    skipped = [line for line in done.stderr.splitlines() if "skip " in line and "(done)" in line]
    assert len([s for s in skipped if "__s" in s]) == 6  # 3 arms × 2 seeds
    pd.testing.assert_frame_equal(before, _metrics(run_dir))


def test_killed_run_resumes_to_identical_result(smoke_run, mb_cache, tmp_path):
    """kill -9 at a random moment of the cells stage, re-run, compare with the uninterrupted run."""
    reference, _ = smoke_run
    out = tmp_path / "runs"
    cmd = [*MAMMOBENCH, "run", "--profile", "smoke", "--out", str(out)]
    proc = subprocess.Popen(cmd, env=cli_env(mb_cache), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    cells = out / "vc_lesion-smoke" / "cells"
    deadline = time.time() + 600
    while time.time() < deadline and proc.poll() is None and not list(cells.glob("*/cell.json")):
        time.sleep(0.2)
    time.sleep(random.uniform(0.0, 3.0))
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    n_done = len(list(cells.glob("*/cell.json")))
    assert n_done >= 1
    done = run_smoke(out, mb_cache)
    assert len([line for line in done.stderr.splitlines() if line.strip().endswith("(done)") and "__s" in line]) >= n_done
    pd.testing.assert_frame_equal(_metrics(reference), _metrics(out / "vc_lesion-smoke"))
    assert (reference / "predictions.csv").read_bytes() == (out / "vc_lesion-smoke" / "predictions.csv").read_bytes()


def test_ray_executor_matches_local(smoke_run, mb_cache, tmp_path):
    pytest.importorskip("ray")
    reference, _ = smoke_run
    run_smoke(tmp_path / "runs", mb_cache, "--executor", "ray")
    ray_dir = tmp_path / "runs" / "vc_lesion-smoke"
    assert (reference / "predictions.csv").read_bytes() == (ray_dir / "predictions.csv").read_bytes()
    pd.testing.assert_frame_equal(_metrics(reference), _metrics(ray_dir))


def test_entry_point_generator_runs_through_mammobench_run(mb_cache, tmp_path):
    from tests.helpers.generator_plugin import write_plugin_package

    name = write_plugin_package(tmp_path / "plugin")
    run_smoke(tmp_path / "runs", mb_cache, "--generator", name, extra_path=tmp_path / "plugin")
    result = load_result(tmp_path / "runs" / f"vc_lesion-smoke-{name}")
    assert name in {a["arm"] for a in result["arms"]}
    assert any(c["arm"] == name for c in result["comparisons"])
