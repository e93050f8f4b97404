"""Process lifetime: worker processes that die with their parent, temp folders that die with their owner.

A run killed at any point (``kill -9``, ``kill -TERM``, Ctrl-C) must leave no live process and no
temp folder the next run does not clean (issue #22). Two mechanisms, used by every process pool of
the harness (grid cells, image cache, cohort maker):

* :class:`WorkerInit` is the pool initializer. In each worker it asks Linux to send ``SIGKILL`` when
  the parent dies (``prctl(PR_SET_PDEATHSIG)`` through ctypes), and everywhere it starts a watchdog
  thread that exits the worker when its parent pid changes (re-parented to init or a subreaper).
  Workers also ignore SIGINT: Ctrl-C reaches the whole foreground process group, and the parent,
  not each worker, decides what to stop (:func:`stop_pool`).
* :func:`owned_temp_dir` records its owner (pid, process start time, host) in ``.owner.json``;
  :func:`remove_stale_temp_dirs` removes such folders only when that owner is dead.

Example:
    >>> import tempfile, pathlib
    >>> parent = pathlib.Path(tempfile.mkdtemp())
    >>> tmp = owned_temp_dir(parent, ".vc-demo.")
    >>> owner_alive(tmp), remove_stale_temp_dirs(parent, ".vc-demo.")
    (True, [])
"""
from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import json
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable

import psutil

OWNER_FILE = ".owner.json"
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
WATCHDOG_PERIOD_S = 0.5
LEGACY_GRACE_S = 3600.0  # a temp folder without an owner record older than this is stale


def set_parent_death_signal(sig: int = signal.SIGKILL) -> bool:
    """Ask the kernel to send ``sig`` to this process when its parent dies (Linux only).

    Returns:
        True when the request was accepted, False where the call does not exist (macOS, Windows).

    Example:
        >>> set_parent_death_signal()  # in a worker, on Linux  # doctest: +SKIP
        True
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch_parent(parent_pid: int, period_s: float) -> None:
    while True:
        if os.getppid() != parent_pid:
            os._exit(1)  # the parent is gone: no cleanup handlers, no half-written outputs (writes are atomic)
        time.sleep(period_s)


def start_parent_watchdog(parent_pid: int, period_s: float = WATCHDOG_PERIOD_S) -> threading.Thread:
    """A daemon thread that ends this process as soon as its parent is no longer ``parent_pid``.

    Example:
        >>> start_parent_watchdog(os.getppid())  # in a worker  # doctest: +SKIP
        <Thread(mammobench-parent-watchdog, started daemon ...)>
    """
    thread = threading.Thread(target=_watch_parent, args=(parent_pid, period_s), name="mammobench-parent-watchdog",
                              daemon=True)
    thread.start()
    return thread


_BOUND_TO: int | None = None  # the parent this process is bound to (bind once)


def bind_to_parent(parent_pid: int, *, pdeathsig: bool = True) -> None:
    """Make this worker die with ``parent_pid``: death signal (Linux), watchdog (everywhere), SIGINT ignored."""
    global _BOUND_TO
    if _BOUND_TO == parent_pid:
        return
    with contextlib.suppress(ValueError):  # not the main thread: leave SIGINT alone
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    if pdeathsig:
        set_parent_death_signal(signal.SIGKILL)
    if os.getppid() != parent_pid:  # the parent died before the death signal was armed
        os._exit(1)
    start_parent_watchdog(parent_pid)
    _BOUND_TO = parent_pid


def _arrive(parent_pid: int, pdeathsig: bool) -> "WorkerInit":
    """Unpickling hook: bind a freshly spawned worker before anything heavy is imported."""
    if os.getpid() != parent_pid:  # never in the parent itself (copy.deepcopy also goes through __reduce__)
        bind_to_parent(parent_pid, pdeathsig=pdeathsig)
    init = WorkerInit.__new__(WorkerInit)
    init.parent_pid, init.pdeathsig, init.then = parent_pid, pdeathsig, None
    return init


class WorkerInit:
    """Picklable pool initializer: bind the worker to the process that built this object, then run ``then``.

    A spawned worker receives the initializer pickled; unpickling it binds the worker at once (see
    ``__reduce__``), before the modules of ``then`` or of the work are imported, so a parent killed
    while its workers still start up leaves none of them behind either.

    Args:
        then: optional module-level function run afterwards in each worker (e.g. a thread limiter).
        pdeathsig: also arm the Linux parent-death signal (the watchdog runs regardless).

    Example:
        >>> init = WorkerInit()
        >>> init.parent_pid == os.getpid()
        True
    """

    def __init__(self, then: Callable[[], None] | None = None, *, pdeathsig: bool = True):
        self.parent_pid = os.getpid()
        self.then = then
        self.pdeathsig = pdeathsig

    def __reduce__(self):
        return _arrive, (self.parent_pid, self.pdeathsig), {"then": self.then}

    def __call__(self) -> None:
        bind_to_parent(self.parent_pid, pdeathsig=self.pdeathsig)
        if self.then is not None:
            self.then()


def stop_pool(pool) -> None:
    """Stop a ``concurrent.futures.ProcessPoolExecutor`` or ``multiprocessing.Pool`` now, killing busy workers.

    Used when the parent is interrupted (Ctrl-C, an exception): waiting for the workers to finish
    their cells would keep the run alive for minutes after the user asked it to stop.
    """
    if hasattr(pool, "terminate") and not hasattr(pool, "submit"):  # multiprocessing.Pool
        pool.terminate()
        pool.join()
        return
    processes = list((getattr(pool, "_processes", None) or {}).values())  # stable since Python 3.2
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in processes:
        with contextlib.suppress(Exception):
            proc.kill()
    for proc in processes:
        with contextlib.suppress(Exception):
            proc.join(timeout=5)


def _start_time(pid: int) -> float | None:
    try:
        return psutil.Process(pid).create_time()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None


def owned_temp_dir(parent: str | os.PathLike, prefix: str) -> Path:
    """``tempfile.mkdtemp`` under ``parent`` with the owner (pid, start time, host) recorded inside."""
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    owner = {"pid": os.getpid(), "start_time": _start_time(os.getpid()), "host": socket.gethostname()}
    (path / OWNER_FILE).write_text(json.dumps(owner), encoding="utf-8")
    return path


def owner_alive(path: str | os.PathLike) -> bool:
    """Whether the process that made the temp folder may still be using it.

    True when the owner runs (same pid and start time, so a recycled pid does not count), when it
    runs on another host (cannot be checked from here), or when a folder without an owner record is
    younger than an hour; False otherwise.
    """
    path = Path(path)
    try:
        owner = json.loads((path / OWNER_FILE).read_text(encoding="utf-8"))
        pid, started, host = int(owner["pid"]), owner.get("start_time"), str(owner.get("host", ""))
    except (OSError, ValueError, KeyError, TypeError):
        with contextlib.suppress(OSError):
            return time.time() - path.stat().st_mtime < LEGACY_GRACE_S
        return False
    if host and host != socket.gethostname():
        return True
    now = _start_time(pid)
    if now is None:
        return False
    return started is None or abs(now - float(started)) < 1.0


def remove_stale_temp_dirs(parent: str | os.PathLike, prefix: str, *, keep: tuple[str, ...] = ()) -> list[Path]:
    """Delete folders ``parent/<prefix>*`` whose owner is dead (see :func:`owner_alive`); return them.

    Args:
        parent: the folder holding the temp folders.
        prefix: their name prefix (as given to :func:`owned_temp_dir`).
        keep: names never to touch (e.g. a lock folder sharing the prefix).
    """
    parent = Path(parent)
    removed = []
    if not parent.is_dir():
        return removed
    for path in sorted(parent.glob(f"{prefix}*")):
        if path.name in keep or path.is_symlink() or not path.is_dir() or owner_alive(path):
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed
