"""Start a Python child in its own session, wait for its workers, signal it, and check that nothing survives.

Used by the worker-lifetime tests (issue #22: a killed run leaves no live process behind).

Example:
    >>> child = start_python("import time; time.sleep(30)")
    >>> signal_and_reap(child, signal.SIGKILL, []) == []
    True
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import psutil

REPO = Path(__file__).resolve().parents[2]


def start_python(code: str, *, env: dict[str, str] | None = None) -> subprocess.Popen:
    """Run ``python -c code`` from the repository root in a new session (so a group signal reaches only it).

    Output goes to a temp file (``child.log_path``), not a pipe: orphaned workers would hold a pipe open.
    """
    full_env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
                    **(env or {}))
    fd, log_path = tempfile.mkstemp(prefix="mb_child_", suffix=".log")
    child = subprocess.Popen([sys.executable, "-c", code], cwd=REPO, env=full_env, start_new_session=True,
                             stdout=fd, stderr=subprocess.STDOUT)
    os.close(fd)
    child.log_path = log_path
    return child


def child_output(child: subprocess.Popen) -> str:
    """The child's output so far (stdout and stderr together)."""
    return Path(child.log_path).read_text(errors="replace")


def wait_until(condition: Callable[[], bool], *, timeout: float, what: str, child: subprocess.Popen) -> None:
    """Poll ``condition`` every 20 ms; fail with the child's output when it exits or time runs out first."""
    deadline = time.monotonic() + timeout
    while not condition():
        if child.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"never saw {what} (child exit {child.poll()}):\n{child_output(child)[-3000:]}")
        time.sleep(0.02)


def descendants(pid: int) -> list[psutil.Process]:
    """Every live descendant of ``pid`` (workers, the multiprocessing resource tracker …)."""
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def pool_workers(pid: int) -> list[psutil.Process]:
    """The multiprocessing workers among the descendants of ``pid`` (``spawn_main`` in their command line)."""
    out = []
    for proc in descendants(pid):
        try:
            if "spawn_main" in " ".join(proc.cmdline()):
                out.append(proc)
        except psutil.NoSuchProcess:
            continue
    return out


def signal_and_reap(child: subprocess.Popen, sig: int, workers: list[psutil.Process], *, group: bool = False,
                    within: float = 5.0) -> list[str]:
    """Send ``sig`` to the child (or its whole process group, as Ctrl-C does); return what is still alive after ``within`` s."""
    if group:
        os.killpg(child.pid, sig)
    else:
        child.send_signal(sig)
    child.wait(timeout=60)
    _, alive = psutil.wait_procs(workers, timeout=within)
    left = [f"pid {p.pid} ({' '.join(p.cmdline()[:4])})" for p in alive if _is_running(p)]
    for proc in alive:  # never leave them behind, even when the test fails
        proc.kill()
    Path(child.log_path).unlink(missing_ok=True)
    return left


def _is_running(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
