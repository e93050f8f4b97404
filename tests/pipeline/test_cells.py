"""Grid cells: purity/determinism for a seed, atomic done markers, skip on resume, executor equality,
progress lines (one per cell, one per epoch) forwarded from worker processes."""
from __future__ import annotations

import dataclasses
import io
import logging
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mammobench.pipeline.cells import CellSpec, collect_predictions, is_done, run_cell
from mammobench.pipeline.executors import execute
from mammobench.pipeline.stages import CASE_COLUMNS


def make_run_inputs(run_dir: Path, *, n: int = 48, size: int = 24, seed: int = 0) -> Path:
    """Tiny cell inputs: bright blob on noise for positives; three splits, two patients per image pair."""
    rng = np.random.default_rng(seed)
    y = (np.arange(n) % 2).astype(int)
    images = rng.normal(0.3, 0.05, (n, size, size)).astype(np.float32)
    yy, xx = np.mgrid[:size, :size]
    for i in np.flatnonzero(y):
        cy, cx = rng.integers(6, size - 6, 2)
        images[i] += 0.4 * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / 8.0)
    split = np.array(["train"] * (n // 2) + ["val"] * (n // 4) + ["test"] * (n - n // 2 - n // 4))
    cases = pd.DataFrame({"row": np.arange(n), "image_id": [f"img{i:03d}" for i in range(n)],
                          "patient_id": [f"p{i // 2:03d}" for i in range(n)], "split": split,
                          "label": np.where(y == 1, "malignant", "normal"), "y_true": y,
                          "density": rng.choice(list("ABCD"), n), "age_band": "50-59",
                          "lesion_type": np.where(y == 1, "mass", "none"), "vendor": "v", "site": "s",
                          "view": "CC"})
    (run_dir / "data").mkdir(parents=True, exist_ok=True)
    cases.loc[:, list(CASE_COLUMNS)].to_csv(run_dir / "data" / "cases.csv", index=False)
    np.save(run_dir / "data" / "images.npy", np.clip(images, 0, 1))
    return run_dir


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
