"""``mammobench validate PATH...``: check task.yaml / suites.yaml files without running anything.

A task is checked exactly as ``mammobench run`` checks it before writing anything: every key's type
and range, the cross-field rules, and — for each profile (or the one given with ``--profile``) — the
resolved settings, the registered adapter / recipe / arms, the detector weights file (it must load
as a state dict) and the memory the images need on this machine. A suite file is checked for its
schema and that every task it names exists. Files are read with the bounded YAML loader: binary,
oversized, aliased or deeply nested files are refused with one sentence.

Example:
    $ mammobench validate tasks/*/task.yaml tasks/suites.yaml
    $ mammobench validate tasks/my_task --profile full
"""
from __future__ import annotations

import argparse
from pathlib import Path

from mammobench.errors import MammoBenchError, RegistryError


def check_task(path: Path, profiles: tuple[str, ...] | None = None) -> str:
    """Validate one task file, its settings at each profile and what they name; return a one-line summary."""
    from mammobench.pipeline.config import PROFILE_NAMES, load_task
    from mammobench.pipeline.preflight import preflight
    from mammobench.pipeline.profiles import load_profiles, resolve_settings

    task = load_task(path)
    defaults = load_profiles()
    for profile in profiles or PROFILE_NAMES:
        preflight(task, resolve_settings(task, profile, profiles=defaults))
    return f"ok  {path}  (task {task.task} v{task.version}, arms {task.augmentation.arms})"


def check_suites(path: Path) -> str:
    """Validate a suites file and that its tasks exist."""
    from mammobench.pipeline.suites import find_task, load_suites

    suites = load_suites(path)
    for suite in suites.values():
        for task in suite.tasks:
            find_task(task)
    return f"ok  {path}  ({len(suites)} suites: {', '.join(suites)})"


def _is_suites_file(path: Path) -> bool:
    """A suites file is a mapping without a top-level ``task`` key (task folders are never suites)."""
    from mammobench.yamlio import load_yaml

    if path.name == "suites.yaml":
        return True
    if path.is_dir() or path.suffix not in (".yaml", ".yml"):
        return False
    data = load_yaml(path)
    return isinstance(data, dict) and "task" not in data and any(isinstance(v, dict) and "tasks" in v
                                                                 for v in data.values())


def main(argv: list[str]) -> int:
    """Validate each path; print ok/error per file; exit 2 when any file is invalid."""
    parser = argparse.ArgumentParser(prog="mammobench validate", description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", help="task.yaml files, task folders or suites.yaml")
    parser.add_argument("--profile", choices=("smoke", "quick", "full"), default=None,
                        help="check the settings of this profile only (default: every profile)")
    args = parser.parse_args(argv)
    failed = 0
    for raw in args.paths:
        path = Path(raw)
        try:
            print(check_suites(path) if _is_suites_file(path) else
                  check_task(path, (args.profile,) if args.profile else None))
        except (MammoBenchError, RegistryError) as err:
            failed += 1
            print(f"error  {err}")
    return 2 if failed else 0
