"""Produce the leaderboard's own bundles: every baseline on every built-in virtual-cohort task.

``mammobench leaderboard bundles`` (``make leaderboard-bundles``) runs each built-in task whose data
is the virtual cohort at a profile (default ``quick``) with every baseline as an arm (the task's arms
plus the missing ones as extra generators), submits one bundle per baseline (``none`` is the
control's reference row) and rebuilds the leaderboard. Runs resume, so a second call only submits.
Sign with the project's results key (docs/leaderboard.md, key custody):
``MAMMOBENCH_SIGNING_KEY=~/.config/mammobench/results_signing_key.pem``.

Example:
    >>> virtual_cohort_tasks()
    ['vc_lesion', 'vc_lesion_detect']
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

from mammobench.leaderboard.build import build_leaderboard
from mammobench.leaderboard.bundle import submit
from mammobench.pipeline.suites import BUILTIN_TASKS, find_task, list_tasks

BASELINES = ("none", "classic", "physics", "cgan", "ddpm")


def virtual_cohort_tasks() -> list[str]:
    """Names of the built-in tasks whose dataset is the virtual cohort (made by the harness itself)."""
    out = []
    for name, path in sorted(list_tasks().items()):
        if path.parent.parent == BUILTIN_TASKS and find_task(name).dataset.adapter == "virtual_cohort":
            out.append(name)
    return out


def produce_bundles(leaderboard_dir: str | Path, *, generators: Sequence[str] = BASELINES, profile: str = "quick",
                    out: str | Path = "runs", key_path: str | Path | None = None,
                    tasks: Sequence[str] | None = None, log: Callable[[str], None] = print) -> list[Path]:
    """Run every task with every generator as an arm, submit one bundle per generator, rebuild; return the bundles.

    Args:
        leaderboard_dir: the leaderboard folder.
        generators: the generators to submit (each becomes an arm when the task does not have it).
        profile: run profile of the runs.
        out: parent folder of the run folders.
        key_path: the key that signs the bundles (default: ``MAMMOBENCH_SIGNING_KEY`` / the user's key).
        tasks: task names (default: :func:`virtual_cohort_tasks`).
    """
    from mammobench.pipeline.profiles import resolve_settings
    from mammobench.pipeline.runner import run_task
    from mammobench.pipeline.spec import plan_run

    paths = []
    for name in tasks or virtual_cohort_tasks():
        task = find_task(name)
        arms = resolve_settings(task, profile).arms
        extra = [g for g in generators if g not in arms and g != "none"]
        log(f"task {name}: {profile} run with arms {list(arms) + extra}")
        run_dir = run_task(plan_run(task, profile, out=out, generators=extra))
        for generator in generators:
            paths.append(submit(run_dir, leaderboard_dir, generator=generator, key_path=key_path))
            log(f"submitted {generator}: {paths[-1]}")
    build_leaderboard(leaderboard_dir)
    return paths
