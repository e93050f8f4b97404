"""A run killed during its cells (SIGKILL, SIGTERM, Ctrl-C) leaves no worker behind, and the re-run is exact.

The child builds a grid of tiny cells and runs it on a two-worker process pool; it is signalled once
the pool is up and at least one cell is finished (so cells are in flight), then every one of its
descendants must be gone within 5 s. Finishing the grid afterwards must give byte-identical
``predictions.csv`` to an uninterrupted sequential run of the same grid (issue #22).
"""
from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from mammobench.pipeline.cells import CellSpec, collect_predictions, is_done
from mammobench.pipeline.executors import execute
from tests.helpers.cell_inputs import make_run_inputs
from tests.helpers.processes import descendants, pool_workers, signal_and_reap, start_python, wait_until

SEEDS = tuple(range(6))
ATTEMPTS = 3  # a fresh grid per attempt when the child finished every cell before the signal took effect
CHILD = """
import json, os
from mammobench.pipeline.cells import CellSpec
from mammobench.pipeline.executors import execute
kw = json.loads(os.environ["MB_CELLS"])
specs = [CellSpec(seed=s, **kw) for s in json.loads(os.environ["MB_SEEDS"])]
execute(specs, executor="process", workers=2)
"""


def _spec_kwargs(run_dir: Path) -> dict:
    return {"run_dir": str(run_dir), "task": "t", "generator": "none", "arm": "none", "ratio": 0.0,
            "arch": "test_resnet", "epochs": 3, "batch_size": 8, "threads": 1}


def _specs(run_dir: Path) -> list[CellSpec]:
    return [CellSpec(seed=s, **_spec_kwargs(run_dir)) for s in SEEDS]


@pytest.fixture(scope="module")
def reference_predictions(tmp_path_factory) -> bytes:
    run = make_run_inputs(tmp_path_factory.mktemp("ref") / "run", n=64)
    execute(_specs(run), executor="local")
    return collect_predictions(_specs(run)).to_csv(index=False).encode()


@pytest.mark.parametrize("sig, group", [(signal.SIGKILL, False), (signal.SIGTERM, False), (signal.SIGINT, True)],
                         ids=["kill-9", "sigterm", "ctrl-c"])
def test_killed_cells_leave_no_worker_and_rerun_is_exact(tmp_path, reference_predictions, sig, group):
    for attempt in range(ATTEMPTS):
        run = make_run_inputs(tmp_path / f"run{attempt}", n=64)
        specs = _specs(run)
        child = start_python(CHILD, env={"MB_CELLS": json.dumps(_spec_kwargs(run)), "MB_SEEDS": json.dumps(SEEDS)})

        def pool_busy() -> bool:
            return len(pool_workers(child.pid)) >= 2 and any(is_done(s) for s in specs)

        wait_until(pool_busy, timeout=240, what="two workers and a finished cell", child=child)
        survivors = signal_and_reap(child, sig, descendants(child.pid), group=group)
        assert survivors == [], f"still alive 5 s after {sig!r}: {survivors}"
        if not all(is_done(s) for s in specs):
            break
    else:  # seen twice at load ≈ 6–8 on 2 cores for Ctrl-C (not at load ≈ 4): nothing was in flight to test
        pytest.skip(f"in {ATTEMPTS} attempts the grid finished before {sig!r} took effect: no cell in flight")
    execute(specs, executor="local")  # the re-run: finished cells are skipped
    assert collect_predictions(specs).to_csv(index=False).encode() == reference_predictions
