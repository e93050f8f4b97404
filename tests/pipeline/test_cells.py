"""Grid cells: purity/determinism for a seed, atomic done markers, skip on resume, executor equality,
progress lines (one per cell, one per epoch) forwarded from worker processes."""
from __future__ import annotations

import dataclasses
import io
import logging
import os
import sys
import types
from pathlib import Path

import pandas as pd
import pytest

from mammobench.pipeline.cells import CellSpec, collect_predictions, is_done, run_cell
from mammobench.pipeline.executors import execute
from tests.helpers.cell_inputs import make_run_inputs


def _spec(run_dir: Path, seed: int = 0, **kw) -> CellSpec:
    return CellSpec(run_dir=str(run_dir), task="t", generator="none", arm="none", ratio=0.0, seed=seed,
                    arch="test_resnet", epochs=2, batch_size=8, threads=1, **kw)


def test_cell_is_pure_function_of_inputs(tmp_path: Path):
    a, b = make_run_inputs(tmp_path / "a"), make_run_inputs(tmp_path / "b")
    rec_a, rec_b = run_cell(_spec(a)), run_cell(_spec(b))
    pa = (a / "cells" / "none__r0__s0" / "predictions.csv").read_bytes()
    pb = (b / "cells" / "none__r0__s0" / "predictions.csv").read_bytes()
    assert pa == pb and rec_a["predictions_sha256"] == rec_b["predictions_sha256"]
    preds = pd.read_csv(io.BytesIO(pa))
    assert set(preds["split"]) == {"val", "test"} and preds["y_score"].between(0, 1).all()
    assert len(rec_a["curve"]) == 2 and rec_a["best_epoch"] in (1, 2)
    other = run_cell(_spec(a, seed=1))
    assert other["predictions_sha256"] != rec_a["predictions_sha256"]  # the seed matters


def _lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name.startswith("mammobench")]


def test_done_marker_and_skip(tmp_path: Path, caplog):
    caplog.set_level(logging.INFO, logger="mammobench")
    run = make_run_inputs(tmp_path / "r")
    spec = _spec(run)
    assert not is_done(spec)
    execute([spec], executor="local")
    lines = _lines(caplog)
    assert is_done(spec) and any(line.startswith("cell none__r0__s0 done") for line in lines)
    assert [line.split(":")[0] for line in lines if ": loss " in line] == ["cell none__r0__s0 epoch 1/2",
                                                                         "cell none__r0__s0 epoch 2/2"]
    before = (spec.out_dir / "cell.json").stat().st_mtime_ns
    caplog.clear()
    execute([spec], executor="local")
    assert _lines(caplog) == ["skip none__r0__s0 (done)"]
    assert (spec.out_dir / "cell.json").stat().st_mtime_ns == before
    # a marker naming other inputs (changed epochs) does not count as done
    assert not is_done(dataclasses.replace(spec, epochs=3))
    # predictions without a marker (a kill between the two writes) are recomputed
    (spec.out_dir / "cell.json").unlink()
    assert not is_done(spec)


def test_worker_processes_forward_epoch_lines_to_the_parent(tmp_path: Path, caplog):
    """Cells in a spawn pool log through a queue: the parent sees every cell's epochs and one line per cell."""
    caplog.set_level(logging.INFO, logger="mammobench")
    run = make_run_inputs(tmp_path / "p", n=24, size=16)
    specs = [dataclasses.replace(_spec(run, seed=s), epochs=1) for s in (0, 1)]
    execute(specs, executor="process", workers=2)
    lines = _lines(caplog)
    for spec in specs:
        assert sum(line.startswith(f"cell {spec.cell_id} epoch 1/1: loss ") for line in lines) == 1, lines
        assert sum(line.startswith(f"cell {spec.cell_id} done in") for line in lines) == 1, lines
    epochs = [r for r in caplog.records if ": loss " in r.getMessage()]
    assert epochs and all(r.name == "mammobench.training.train" and r.process != os.getpid() for r in epochs)


@pytest.mark.slow
def test_process_pool_matches_local(tmp_path: Path):
    a, b = make_run_inputs(tmp_path / "a"), make_run_inputs(tmp_path / "b")
    specs_a = [_spec(a, seed=s) for s in (0, 1)]
    specs_b = [_spec(b, seed=s) for s in (0, 1)]
    execute(specs_a, executor="local")
    execute(specs_b, executor="process", workers=2)
    pa, pb = collect_predictions(specs_a), collect_predictions(specs_b)
    pd.testing.assert_frame_equal(pa, pb)


@pytest.mark.slow
def test_ray_matches_local(tmp_path: Path):
    ray = pytest.importorskip("ray")
    a, b = make_run_inputs(tmp_path / "a"), make_run_inputs(tmp_path / "b")
    specs_a = [_spec(a, seed=s) for s in (0, 1)]
    specs_b = [_spec(b, seed=s) for s in (0, 1)]
    execute(specs_a, executor="local")
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        execute(specs_b, executor="ray")
    finally:
        ray.shutdown()
    pd.testing.assert_frame_equal(collect_predictions(specs_a), collect_predictions(specs_b))


def test_ray_executor_turns_off_usage_reporting_unless_the_user_chose(tmp_path: Path, monkeypatch):
    """Offline: Ray's clusters report usage statistics over the network by default; ours do not, unless
    ``RAY_USAGE_STATS_ENABLED`` is already set (the user's choice stands)."""
    seen = []

    class _Stop(Exception):
        pass

    def init(**kwargs):
        seen.append(os.environ.get("RAY_USAGE_STATS_ENABLED"))
        raise _Stop

    fake = types.SimpleNamespace(is_initialized=lambda: False, init=init)
    monkeypatch.setitem(sys.modules, "ray", fake)
    specs = [_spec(make_run_inputs(tmp_path / "a"), seed=0)]
    for chosen, expected in ((None, "0"), ("1", "1")):
        if chosen is None:
            monkeypatch.delenv("RAY_USAGE_STATS_ENABLED", raising=False)
        else:
            monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", chosen)
        with pytest.raises(_Stop):
            execute(specs, executor="ray")
        assert seen[-1] == expected
