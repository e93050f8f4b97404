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
    >>> execute([], executor="local", log=print)
    []
"""
from __future__ import annotations

import concurrent.futures as cf
import multiprocessing as mp
import os
import time
from typing import Any, Callable

from mammobench.errors import ConfigError
from mammobench.lifetime import WorkerInit, stop_pool
from mammobench.pipeline.cells import CellSpec, is_done, run_cell

EXECUTORS = ("local", "process", "ray")
Log = Callable[[str], None]


def _report(log: Log, spec: CellSpec, record: dict[str, Any], done: int, total: int, start: float) -> None:
    log(f"cell {spec.cell_id} done in {record['seconds']:.1f}s (best epoch {record['best_epoch']}, "
        f"{record['images_per_second']:.0f} img/s) [{done}/{total}, {time.perf_counter() - start:.0f}s]")


def _local(todo: list[CellSpec], log: Log) -> list[dict]:
    out, start = [], time.perf_counter()
    for i, spec in enumerate(todo, 1):
        record = run_cell(spec)
        _report(log, spec, record, i, len(todo), start)
        out.append(record)
    return out


def _process(todo: list[CellSpec], log: Log, workers: int) -> list[dict]:
    out: dict[str, dict] = {}
    start = time.perf_counter()
    pool = cf.ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"), initializer=WorkerInit())
    try:
        futures = {pool.submit(run_cell, spec): spec for spec in todo}
        for i, fut in enumerate(cf.as_completed(futures), 1):
            spec = futures[fut]
            out[spec.cell_id] = fut.result()
            _report(log, spec, out[spec.cell_id], i, len(todo), start)
    except BaseException:  # Ctrl-C or a failed cell: stop the busy workers now instead of waiting for them
        stop_pool(pool)
        raise
    pool.shutdown(wait=True)
    return [out[s.cell_id] for s in todo]


def _ray(todo: list[CellSpec], log: Log, address: str | None) -> list[dict]:
    try:
        import ray
    except ImportError as err:  # pragma: no cover - ray is a declared optional dependency
        raise ConfigError("--executor ray needs the 'ray' package: pip install 'mammobench[ray]'") from err
    if not ray.is_initialized():
        ray.init(address=address or "local", include_dashboard=False, log_to_driver=False)
    threads = max(s.threads for s in todo)
    remote = ray.remote(num_cpus=threads, max_retries=2)(run_cell)
    refs = {remote.remote(spec): spec for spec in todo}
    out: dict[str, dict] = {}
    start, pending = time.perf_counter(), list(refs)
    while pending:
        ready, pending = ray.wait(pending, num_returns=1)
        spec = refs[ready[0]]
        out[spec.cell_id] = ray.get(ready[0])
        _report(log, spec, out[spec.cell_id], len(out), len(todo), start)
    return [out[s.cell_id] for s in todo]


def execute(specs: list[CellSpec], *, executor: str = "local", workers: int = 1, address: str | None = None,
            log: Log = print) -> list[dict]:
    """Run every cell not yet done; return the records of the cells computed now.

    Args:
        specs: the grid.
        executor: ``local`` (sequential), ``process`` (a pool of ``workers`` processes) or ``ray``.
        workers: process-pool size.
        address: Ray cluster address (``None`` starts a local one; ``auto`` joins a running one).
        log: receives one line per skipped or finished cell.

    Raises:
        ConfigError: unknown executor.
    """
    if executor not in EXECUTORS:
        raise ConfigError(f"--executor {executor!r}; valid choices: {list(EXECUTORS)}")
    todo = []
    for spec in specs:
        if is_done(spec):
            log(f"skip {spec.cell_id} (done)")
        else:
            todo.append(spec)
    if not todo:
        return []
    if executor == "process" and workers > 1:
        return _process(todo, log, workers)
    if executor == "ray":
        return _ray(todo, log, address)
    return _local(todo, log)


def resolve_executor(executor: str, workers: int | None, device: str) -> tuple[str, int]:
    """``auto`` → a process pool of one worker per core (≤ 4) on a multi-core machine without CUDA, else local.

    Every cell uses a fixed thread count, so the choice changes the wall time, never the results.

    Example:
        >>> resolve_executor("local", None, "cpu")
        ('local', 1)
    """
    cores = os.cpu_count() or 1
    if executor != "auto":
        return executor, int(workers or (min(cores, 4) if executor == "process" else 1))
    if device == "cuda":
        return "local", 1
    if device == "auto":
        import torch

        if torch.cuda.is_available():
            return "local", 1
    return ("process", int(workers or min(cores, 4))) if cores > 1 else ("local", 1)
