"""``mammobench validate PATH...``: check task.yaml / suites.yaml files without running anything.

A task is checked for its schema (keys, types, values), its adapter, detector recipe and arms
being registered; a suite file for its schema and that every task it names exists.

Example:
    $ mammobench validate tasks/*/task.yaml tasks/suites.yaml
"""
from __future__ import annotations

import argparse
from pathlib import Path

from mammobench.errors import ConfigError, MammoBenchError, RegistryError


def check_task(path: Path) -> str:
    """Validate one task file and its registered names; return a one-line summary."""
    import mammobench.data.adapters  # noqa: F401
    import mammobench.generators  # noqa: F401
    import mammobench.training  # noqa: F401
    from mammobench.pipeline.config import load_task
    from mammobench.registry import ADAPTERS, DETECTORS, GENERATORS

    task = load_task(path)
    for reg, name, key in ((ADAPTERS, task.dataset.adapter, "dataset.adapter"),
                           (DETECTORS, task.detector.recipe, "detector.recipe")):
        if name not in reg:
            raise ConfigError(f"{path}: {key}: {reg._unknown_message(name)}")
    arms = set(task.augmentation.arms)
    for over in task.profiles.values():
        arms |= set(over.get("arms") or [])
    for arm in sorted(arms):
        if arm not in GENERATORS and ":" not in arm:
            raise ConfigError(f"{path}: augmentation.arms: {GENERATORS._unknown_message(arm)}")
    return f"ok  {path}  (task {task.task} v{task.version}, arms {task.augmentation.arms})"


def check_suites(path: Path) -> str:
    """Validate a suites file and that its tasks exist."""
    from mammobench.pipeline.suites import find_task, load_suites

    suites = load_suites(path)
    for suite in suites.values():
        for task in suite.tasks:
            find_task(task)
    return f"ok  {path}  ({len(suites)} suites: {', '.join(suites)})"


def main(argv: list[str]) -> int:
    """Validate each path; print ok/error per file; exit 2 when any file is invalid."""
    parser = argparse.ArgumentParser(prog="mammobench validate", description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", help="task.yaml files, task folders or suites.yaml")
    failed = 0
    for raw in parser.parse_args(argv).paths:
        path = Path(raw)
        try:
            is_suite = path.name == "suites.yaml" or (path.is_file() and "tasks:" in path.read_text() and "task:" not in
                                                      path.read_text().replace("tasks:", ""))
            print(check_suites(path) if is_suite else check_task(path))
        except (MammoBenchError, RegistryError) as err:
            failed += 1
            print(f"error  {err}")
    return 2 if failed else 0
