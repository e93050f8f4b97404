"""Log lines and progress for every long stage, decided in one place (the CLI), shown with tqdm.

Library modules log with ``logging.getLogger(__name__)`` (under ``mammobench``) and wrap long loops in
:func:`progress`; they never print and never receive ``log`` callables. What is shown is decided by
:func:`configure`, which the CLI calls once:

* **attached to a terminal**: a tqdm bar per long stage (done/total, rate, ETA) on stderr, with
  log lines written above it;
* **not attached** (logs, CI): no bar; one line per finished unit (a cell, a generator, an audited
  arm) or, for many small units (patients, images), one line per tenth, with rate and ETA;
* **quiet**: errors only (Python warnings included: they are routed through logging).

Every line is prefixed with the seconds since the command started (``[  12.3s] cells: …``).
Worker processes forward their records to the parent through a queue (:func:`worker_logging`,
:func:`forward_worker_logs`), so a cell training in a process pool still reports its epochs.
Without :func:`configure` (library use) nothing is printed: configure ``logging`` as you like.

Example:
    >>> with progress(3, "demo", unit="step") as bar:
    ...     for i in range(3):
    ...         bar.update(line=f"step {i} done")
"""
from __future__ import annotations

import contextlib
import logging
import logging.handlers
import math
import sys
import time
from typing import Any, Iterator

__all__ = ["Progress", "configure", "forward_worker_logs", "progress", "worker_logging"]

ROOT = "mammobench"
WARNINGS = "py.warnings"  # where logging.captureWarnings sends Python warnings
_STATE: dict[str, Any] = {"bars": False, "start": time.time(), "handler": None}


class _StderrHandler(logging.Handler):
    """Writes to the current ``sys.stderr`` (through ``tqdm.write`` while bars may be on screen)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = self.format(record)
            if _STATE["bars"]:
                from tqdm import tqdm

                tqdm.write(message, file=sys.stderr)
            else:
                sys.stderr.write(message + "\n")
                sys.stderr.flush()
        except Exception:  # pragma: no cover - logging must never break a run
            self.handleError(record)


class _Elapsed(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return f"[{record.created - _STATE['start']:6.1f}s] {record.getMessage()}"


def configure(*, quiet: bool = False, bars: bool | None = None) -> None:
    """Show the ``mammobench`` log on stderr: INFO lines (errors only when ``quiet``), bars on a terminal.

    Args:
        quiet: show errors only (no progress, no stage lines).
        bars: force bars on or off (default: on when stderr is a terminal and not quiet).
    """
    handler = _StderrHandler()
    handler.setFormatter(_Elapsed())
    for name, level in ((ROOT, logging.INFO), (WARNINGS, logging.WARNING)):
        logger = logging.getLogger(name)
        if _STATE["handler"] is not None:
            logger.removeHandler(_STATE["handler"])
        logger.addHandler(handler)
        logger.setLevel(logging.ERROR if quiet else level)
    logging.getLogger(WARNINGS).propagate = False
    logging.captureWarnings(True)  # Python warnings (e.g. from scikit-learn) obey --quiet too
    _STATE.update(handler=handler, start=time.time(),
                  bars=(not quiet and sys.stderr.isatty()) if bars is None else bool(bars and not quiet))


def _every(total: int) -> int:
    return 1 if total <= 20 else math.ceil(total / 10)


class Progress:
    """Progress of one stage; see :func:`progress`."""

    def __init__(self, total: int, desc: str, unit: str, logger: logging.Logger, every: int | None, done: int = 0,
                 enabled: bool = True):
        self.total, self.desc, self.unit, self.logger = int(total), desc, unit, logger
        self.done, self.start, self.every = int(done), time.perf_counter(), every or _every(int(total))
        self._first, self._bar, self.enabled = int(done), None, enabled
        if enabled and _STATE["bars"] and logger.isEnabledFor(logging.INFO):
            from tqdm import tqdm

            self._bar = tqdm(total=self.total, initial=self.done, desc=desc, unit=unit, file=sys.stderr, leave=False,
                             dynamic_ncols=True, mininterval=0.5)

    def elapsed(self) -> float:
        """Seconds since the stage started."""
        return time.perf_counter() - self.start

    def rate_eta(self) -> tuple[float, float]:
        """Units per second since the start, and the seconds left at that rate."""
        rate = (self.done - self._first) / max(self.elapsed(), 1e-9)
        return rate, (self.total - self.done) / rate if rate > 0 else float("nan")

    def update(self, n: int = 1, line: str | None = None) -> None:
        """``n`` more units done; ``line`` (one per unit) is logged, else a summary line every tenth."""
        before, self.done = self.done, self.done + n
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.update(n)
        if line is not None:
            self.logger.info(line)
        elif self.done // self.every > before // self.every or self.done >= self.total > before:
            rate, eta = self.rate_eta()
            if self._bar is None:
                eta_text = f", ETA {eta:.0f}s" if self.done < self.total and math.isfinite(eta) else ""
                self.logger.info(f"{self.desc}: {self.done}/{self.total} {self.unit}s ({rate:.1f}/s{eta_text})")

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


@contextlib.contextmanager
def progress(total: int, desc: str, *, unit: str = "item", logger: logging.Logger | None = None,
             every: int | None = None, done: int = 0, enabled: bool = True) -> Iterator[Progress]:
    """Progress of a stage of ``total`` units (``done`` already finished, e.g. on resume).

    A bar on a terminal; otherwise one log line per unit given a ``line`` (or one per ``every`` units,
    by default per tenth of ``total``). ``enabled=False`` reports nothing (a caller's own quiet flag).
    """
    bar = Progress(total, desc, unit, logger or logging.getLogger(ROOT), every, done, enabled)
    try:
        yield bar
    finally:
        bar.close()


def worker_logging(queue: Any, level: int) -> None:
    """In a worker process: send ``mammobench`` records at ``level`` or above (and warnings) to ``queue``."""
    handler = logging.handlers.QueueHandler(queue)
    for name, floor in ((ROOT, level), (WARNINGS, max(level, logging.WARNING))):
        logger = logging.getLogger(name)
        for old in list(logger.handlers):
            logger.removeHandler(old)
        logger.addHandler(handler)
        logger.setLevel(floor)
        logger.propagate = False
    logging.captureWarnings(True)


class _Dispatch(logging.Handler):
    """Hands a forwarded record to the parent's logger of the same name (and so to its handlers)."""

    def emit(self, record: logging.LogRecord) -> None:
        logging.getLogger(record.name).handle(record)


@contextlib.contextmanager
def forward_worker_logs(context: Any) -> Iterator[tuple[Any, int]]:
    """A queue for :func:`worker_logging` and the parent's level; records are re-emitted here until exit.

    Example:
        >>> import multiprocessing as mp
        >>> with forward_worker_logs(mp.get_context("spawn")) as (queue, level):
        ...     pass
    """
    queue = context.Queue()
    listener = logging.handlers.QueueListener(queue, _Dispatch())
    listener.start()
    try:
        yield queue, logging.getLogger(ROOT).getEffectiveLevel()
    finally:
        listener.stop()
        queue.close()
        queue.join_thread()
