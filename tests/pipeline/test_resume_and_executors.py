"""End to end at the smoke settings: resume after kill -9 and the Ray executor.

Each test exercises one behaviour of ``mammobench run`` (a real subprocess of the console script, sharing the
session's cache folder, so the cohort, image cache and fits are the session smoke run's). Where a test compares
with an uninterrupted run, the reference is the session's ``smoke_run`` (tests/conftest.py: 3 arms × 2 seeds,
cells in this process: the suite caps the pools MammoBench sizes itself at one worker, tests/conftest.py): the
killed-then-resumed run (in-process cells, then a pool of two asked for explicitly) and the Ray run must each match
it bit for bit, so the three executors are compared with each other too. (A separate
smaller reference run, made only for these comparisons, cost a whole run: about 20 CPU-s of `make test`.) Both
runs start from a copy of the reference as it entered its cells stage (``copy_before_cells``): the executor changes
only how cells are computed, and the generators and audits before them cost about 10 CPU-s a run.
An entry-point generator running through ``mammobench run`` is tested from the wheel (tests/test_wheel.py: a
user's own task folder with the plug-in as an extra arm), where its own run here cost ≈ 12 CPU-s more.
"""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from tests.helpers.pipeline_run import cli_env, copy_before_cells, run_metrics, run_smoke

MAMMOBENCH = [sys.executable, "-m", "mammobench.cli"]


def test_killed_run_resumes_to_identical_result(smoke_run, mb_cache, tmp_path):
    """kill -9 at a random moment of the cells stage, re-run, compare with the uninterrupted run.

    The killed run computes its cells in-process (``--executor local``: ≈ 0.5 s a cell, no pool warming up), so
    the 0–3 s after its first finished cell mostly end inside the cells stage — with a pool, whose workers finish
    the rest of the grid within a second of the first cell, the kill mostly landed after it. The re-run computes the
    rest in a process pool of two (what ``--executor auto`` picks on a 2-core machine), so a pool's cells are
    compared with in-process ones through the whole command; killing a pool's workers is
    tests/pipeline/test_worker_lifetime.py's.
    """
    reference, _ = smoke_run
    out = tmp_path / "runs"
    copy_before_cells(reference, out)  # the run as it entered its cells: generators and audits are done
    cmd = [*MAMMOBENCH, "run", "--profile", "smoke", "--out", str(out), "--executor", "local"]
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
    done = run_smoke(out, mb_cache, "--executor", "process", "--workers", "2")
    assert len([line for line in done.stderr.splitlines() if line.strip().endswith("(done)") and "__s" in line]) >= n_done
    pd.testing.assert_frame_equal(run_metrics(reference), run_metrics(out / "vc_lesion-smoke"))
    assert (reference / "predictions.csv").read_bytes() == (out / "vc_lesion-smoke" / "predictions.csv").read_bytes()


def test_ray_executor_matches_the_in_process_run(smoke_run, mb_cache, tmp_path):
    pytest.importorskip("ray")
    reference, _ = smoke_run
    copy_before_cells(reference, tmp_path / "runs")  # its cells run on Ray: the stages before them are the same
    run_smoke(tmp_path / "runs", mb_cache, "--executor", "ray")
    ray_dir = tmp_path / "runs" / "vc_lesion-smoke"
    assert (reference / "predictions.csv").read_bytes() == (ray_dir / "predictions.csv").read_bytes()
    pd.testing.assert_frame_equal(run_metrics(reference), run_metrics(ray_dir))
