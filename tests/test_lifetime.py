"""Worker lifetime and owned temp folders (mammobench.lifetime): the watchdog alone ends orphans; stale temp
folders of dead owners are removed, those of live owners kept; a killed cohort maker's folder is cleaned."""
from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time

import pytest

from mammobench.lifetime import OWNER_FILE, owned_temp_dir, owner_alive, remove_stale_temp_dirs
from mammobench.pipeline.profiles import resolve_settings
from mammobench.pipeline.stages import ensure_cohort
from mammobench.pipeline.suites import find_task
from tests.helpers.processes import descendants, pool_workers, signal_and_reap, start_python, wait_until

WATCHDOG_CHILD = """
import multiprocessing as mp, time
from mammobench.lifetime import WorkerInit
pool = mp.get_context("spawn").Pool(2, initializer=WorkerInit(pdeathsig=False))
pool.map_async(time.sleep, [60, 60])
time.sleep(120)
"""


def test_watchdog_alone_ends_orphaned_workers():
    """Without the Linux death signal (as on macOS) the watchdog thread still ends the workers."""
    child = start_python(WATCHDOG_CHILD)
    wait_until(lambda: len(pool_workers(child.pid)) >= 2, timeout=120, what="two pool workers", child=child)
    time.sleep(0.5)  # let the workers unpickle their initializer (which binds them) before the kill
    assert signal_and_reap(child, signal.SIGKILL, descendants(child.pid)) == []


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_stale_temp_dirs_removed_only_when_owner_dead(tmp_path):
    live = owned_temp_dir(tmp_path, ".vc-k.")
    dead = owned_temp_dir(tmp_path, ".vc-k.")
    owner = json.loads((dead / OWNER_FILE).read_text())
    (dead / OWNER_FILE).write_text(json.dumps({**owner, "pid": _dead_pid()}))
    recycled = owned_temp_dir(tmp_path, ".vc-k.")  # our pid, but another process start time: a recycled pid
    (recycled / OWNER_FILE).write_text(json.dumps({**owner, "start_time": owner["start_time"] - 1000}))
    other_host = owned_temp_dir(tmp_path, ".vc-k.")
    (other_host / OWNER_FILE).write_text(json.dumps({**owner, "pid": _dead_pid(), "host": "elsewhere"}))
    legacy_old, legacy_new = tmp_path / ".vc-k.old", tmp_path / ".vc-k.new"
    legacy_old.mkdir(), legacy_new.mkdir()
    os.utime(legacy_old, (time.time() - 7200, time.time() - 7200))
    lockdir = tmp_path / ".vc-k.lockdir"
    lockdir.mkdir()
    os.utime(lockdir, (time.time() - 7200, time.time() - 7200))
    assert owner_alive(live) and not owner_alive(dead) and not owner_alive(recycled)
    removed = remove_stale_temp_dirs(tmp_path, ".vc-k.", keep=(".vc-k.lockdir",))
    assert sorted(removed) == sorted([dead, recycled, legacy_old])
    assert live.is_dir() and other_host.is_dir() and legacy_new.is_dir() and lockdir.is_dir()


COHORT_CHILD = """
import os
from mammobench.pipeline.profiles import resolve_settings
from mammobench.pipeline.stages import ensure_cohort
from mammobench.pipeline.suites import find_task
from mammobench.pipeline.profiles import resolve_settings
task = find_task("vc_lesion")
ensure_cohort(task, resolve_settings(task, "smoke", {"n_patients": 24, "cohort_size": 64}),
              cohort_dir=os.environ["MB_COHORT"])
"""


# kill -9 only: the stale-folder clean-up does not depend on how the owner died, and a SIGTERM'd cohort maker's
# workers are tests/cohort/test_writer_worker_lifetime.py's (the same make_cohort pool)
@pytest.mark.parametrize("sig", [signal.SIGKILL], ids=["kill-9"])
def test_killed_cohort_maker_leaves_no_worker_and_its_temp_folder_is_cleaned(tmp_path, caplog, sig):
    root = tmp_path / "cohorts" / "vc-test"
    # the pipeline sizes the simulator pool itself: let it use two workers (the suite caps such pools at one)
    child = start_python(COHORT_CHILD, env={"MB_COHORT": str(root), "MAMMOBENCH_WORKERS": "2"})
    temps = lambda: [p for p in root.parent.glob(".vc-test.*") if p.name != ".vc-test.lockdir"]  # noqa: E731
    wait_until(lambda: temps() and len(pool_workers(child.pid)) >= 2, timeout=240,
               what="a cohort temp folder and two simulator workers", child=child)
    assert signal_and_reap(child, sig, descendants(child.pid)) == []
    left = temps()
    assert left and not (root / "cohort.json").exists()
    task = find_task("vc_lesion")
    with caplog.at_level(logging.WARNING, logger="mammobench.pipeline.stages"):
        made_root, made = ensure_cohort(task, resolve_settings(task, "smoke", {"n_patients": 10, "cohort_size": 64}),
                                        cohort_dir=str(root))
    assert made and (made_root / "cohort.json").is_file() and not (made_root / OWNER_FILE).exists()
    assert temps() == [] and "left by a cohort maker that was killed" in caplog.text
