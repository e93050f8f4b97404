"""Executors: run the missing grid cells locally (sequential or a process pool) or on a Ray cluster.

All executors call the same pure :func:`~mammobench.pipeline.cells.run_cell` with the same
:class:`~mammobench.pipeline.cells.CellSpec` (whose ``threads`` fixes torch's CPU thread count), so
they give bit-identical results for the same seeds. Cells already done are skipped and logged as
``skip <cell> (done)``; a cell's files appear atomically, so killing any executor loses at most the
cells in flight. Process-pool workers die with the run (:class:`mammobench.lifetime.WorkerInit`):
``kill -9``, ``kill -TERM`` or Ctrl-C of the run leaves no worker writing cells behind it.

With Ray the run folder must be on a file system every node can read and write (the cells read
``data/`` and write ``cells/`` there).

Example:
    >>> execute([], executor="local")
    []
"""
from __future__ import annotations

import concurrent.futures as cf
import functools
import logging
import multiprocessing as mp
import os
from typing import Any

from mammobench.errors import ConfigError
from mammobench.io import read_json
from mammobench.lifetime import WorkerInit, stop_pool
from mammobench.pipeline.cells import CellSpec, is_done, run_cell
from mammobench.progress import Progress, forward_worker_logs, progress, worker_logging
from mammobench.workers import default_workers

EXECUTORS = ("local", "process", "ray")
logger = logging.getLogger(__name__)



def execute_cell(spec: CellSpec) -> dict:
    """Run one cell with its recipe's runner: lesion-detection cells (``spec.detection`` set) write marks
    (:mod:`mammobench.pipeline.detection_cells`), the others :func:`~mammobench.pipeline.cells.run_cell`."""
    if not spec.detection:
        return run_cell(spec)
    if is_done(spec):
        return read_json(spec.out_dir / "cell.json")
    from mammobench.pipeline.detection_cells import run_detection_cell

    return run_detection_cell(spec)

def _report(bar: Progress, spec: CellSpec, record: dict[str, Any]) -> None:
    """One line per finished cell (on a terminal the bar adds rate and ETA)."""
    bar.update(line=f"cell {spec.cell_id} done in {record['seconds']:.1f}s (best epoch {record['best_epoch']}, "
                    f"{record['images_per_second']:.0f} img/s) [{bar.done + 1}/{bar.total}, {bar.elapsed():.0f}s]")


def _local(todo: list[CellSpec], bar: Progress) -> list[dict]:
    out = []
    for spec in todo:
        record = execute_cell(spec)
        _report(bar, spec, record)
        out.append(record)
    return out


def _process(todo: list[CellSpec], bar: Progress, workers: int) -> list[dict]:
    """A spawn pool; the workers' log records (epoch lines) are forwarded to this process's handlers."""
    out: dict[str, dict] = {}
    context = mp.get_context("spawn")
    with forward_worker_logs(context) as (queue, level):
        # WorkerInit binds each worker to this process first (issue #22.1), then sets up log forwarding
        pool = cf.ProcessPoolExecutor(max_workers=workers, mp_context=context,
                                      initializer=WorkerInit(functools.partial(worker_logging, queue, level)))
        try:
            futures = {pool.submit(execute_cell, spec): spec for spec in todo}
            for fut in cf.as_completed(futures):
                spec = futures[fut]
                out[spec.cell_id] = fut.result()
                _report(bar, spec, out[spec.cell_id])
        except BaseException:  # Ctrl-C or a failed cell: stop the busy workers now instead of waiting for them
            stop_pool(pool)
            raise
        pool.shutdown(wait=True)
    return [out[s.cell_id] for s in todo]


def _curve_lines(spec: CellSpec, record: dict[str, Any]) -> None:
    """Ray workers do not share our log handlers: their cells' epoch lines are logged when they finish."""
    for point in record.get("curve", []):
        val = next(((k, v) for k, v in point.items() if k.startswith("val_")), ("val_auc", None))
        logger.info(f"cell {spec.cell_id} epoch {point['epoch']}/{spec.epochs}: loss {point['train_loss']:.4f}, "
                    f"{val[0].replace('_', ' ')} " + ("–" if val[1] is None else f"{val[1]:.3f}"))


def _ray(todo: list[CellSpec], bar: Progress, address: str | None) -> list[dict]:
    try:
        import ray
    except ImportError as err:  # pragma: no cover - ray is a declared optional dependency
        raise ConfigError("--executor ray needs the 'ray' package: pip install 'mammobench[ray]'") from err
    if not ray.is_initialized():
        # offline: Ray reports usage statistics over the network unless told not to (the user may opt in)
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        ray.init(address=address or "local", include_dashboard=False, log_to_driver=False)
    threads = max(s.threads for s in todo)
    remote = ray.remote(num_cpus=threads, max_retries=2)(execute_cell)
    refs = {remote.remote(spec): spec for spec in todo}
    out: dict[str, dict] = {}
    pending = list(refs)
    while pending:
        ready, pending = ray.wait(pending, num_returns=1)
        spec = refs[ready[0]]
        out[spec.cell_id] = ray.get(ready[0])
        _curve_lines(spec, out[spec.cell_id])
        _report(bar, spec, out[spec.cell_id])
    return [out[s.cell_id] for s in todo]


def execute(specs: list[CellSpec], *, executor: str = "local", workers: int = 1,
            address: str | None = None) -> list[dict]:
    """Run every cell not yet done; return the records of the cells computed now.

    Logs ``skip <cell> (done)`` per finished cell, then one line per cell as it finishes (a progress
    bar with rate and ETA on a terminal; :mod:`mammobench.progress`), and each cell's epochs.

    Args:
        specs: the grid.
        executor: ``local`` (sequential), ``process`` (a pool of ``workers`` processes) or ``ray``.
        workers: process-pool size (at most one worker per cell still to run; one runs them in this process).
        address: Ray cluster address (``None`` starts a local one; ``auto`` joins a running one).

    Raises:
        ConfigError: unknown executor.
    """
    if executor not in EXECUTORS:
        raise ConfigError(f"--executor {executor!r}; valid choices: {list(EXECUTORS)}")
    todo = []
    for spec in specs:
        if is_done(spec):
            logger.info(f"skip {spec.cell_id} (done)")
        else:
            todo.append(spec)
    if not todo:
        return []
    pool_size = min(workers, len(todo))  # no idle workers: each imports torch and timm
    with progress(len(todo), "cells", unit="cell", logger=logger) as bar:
        if executor == "process" and pool_size > 1:
            return _process(todo, bar, pool_size)
        if executor == "ray":
            return _ray(todo, bar, address)
        return _local(todo, bar)


def resolve_executor(executor: str, workers: int | None, device: str) -> tuple[str, int]:
    """``auto`` → a process pool of :func:`~mammobench.workers.default_workers` workers (one per usable core, ≤ 4,
    ≤ ``$MAMMOBENCH_WORKERS``) on a CPU-only machine where that is more than one, else local (in this process).

    Every cell uses a fixed thread count, so the choice changes the wall time, never the results.

    Example:
        >>> resolve_executor("local", None, "cpu")
        ('local', 1)
    """
    if executor != "auto":
        return executor, int(workers or (default_workers() if executor == "process" else 1))
    from mammobench.torchutil import resolve_device

    if resolve_device(device).type == "cuda":
        return "local", 1
    count = int(workers or default_workers())
    return ("process", count) if count > 1 else ("local", 1)
