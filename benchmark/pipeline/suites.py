"""Finding tasks and suites: the ``tasks/`` folder, extra folders, and ``tasks/suites.yaml``.

Task folders are discovered under the built-in tasks (``mammobench.tasks``, the repository's ``tasks/``) and under every folder listed in the
``MAMMOBENCH_TASKS_PATH`` environment variable (``os.pathsep``-separated). A name that is a path to a
``task.yaml`` (or its folder) is loaded directly.

Example:
    >>> "vc_lesion" in list_tasks()
    True
    >>> load_suites()["smoke"].tasks
    ('vc_lesion',)
"""
from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from pathlib import Path

from mammobench.errors import ConfigError
from mammobench.pipeline.config import PROFILE_NAMES, TaskConfig, load_task
from mammobench.resources import builtin_tasks_dir
from mammobench.yamlio import load_yaml

BUILTIN_TASKS = builtin_tasks_dir()
_SUITE_KEYS = ("version", "description", "tasks", "profile")


@dataclass(frozen=True)
class SuiteConfig:
    """A named selection of tasks run at one profile."""

    name: str
    version: int
    description: str
    tasks: tuple[str, ...]
    profile: str = "quick"


def task_roots() -> list[Path]:
    """Folders searched for tasks: built-in first, then ``MAMMOBENCH_TASKS_PATH`` entries."""
    extra = [Path(p).expanduser() for p in os.environ.get("MAMMOBENCH_TASKS_PATH", "").split(os.pathsep) if p]
    return [BUILTIN_TASKS, *extra]


def list_tasks() -> dict[str, Path]:
    """Task name → ``task.yaml`` path for every task folder found (``_template`` excluded)."""
    found: dict[str, Path] = {}
    for root in task_roots():
        for yml in sorted(root.glob("*/task.yaml")):
            if not yml.parent.name.startswith("_"):
                found.setdefault(yml.parent.name, yml)
    return found


def find_task(name_or_path: str) -> TaskConfig:
    """Load a task by name or by path.

    Raises:
        ConfigError: unknown task, with "did you mean" and the known names.
    """
    path = Path(name_or_path).expanduser()
    if path.suffix in (".yaml", ".yml") or path.is_dir():
        return load_task(path)
    tasks = list_tasks()
    if name_or_path not in tasks:
        close = difflib.get_close_matches(name_or_path, list(tasks), n=2)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        raise ConfigError(f"unknown task '{name_or_path}'.{hint} Known tasks: {sorted(tasks)}; "
                          "or give a path to a task.yaml")
    return load_task(tasks[name_or_path])


def suite_from_dict(name: str, data: object, *, source: str) -> SuiteConfig:
    """Validate one suite entry."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: suite '{name}' must be a mapping with keys {list(_SUITE_KEYS)}")
    unknown = sorted(set(data) - set(_SUITE_KEYS))
    if unknown:
        raise ConfigError(f"{source}: suite '{name}': unknown key(s) {unknown}; valid keys: {list(_SUITE_KEYS)}")
    tasks = data.get("tasks")
    if not isinstance(tasks, list) or not tasks or not all(isinstance(t, str) for t in tasks):
        raise ConfigError(f"{source}: suite '{name}'.tasks must be a non-empty list of task names")
    profile = data.get("profile", "quick")
    if profile not in PROFILE_NAMES:
        raise ConfigError(f"{source}: suite '{name}'.profile {profile!r}; valid choices: {list(PROFILE_NAMES)}")
    version = data.get("version", 1)
    if isinstance(version, bool) or not isinstance(version, int):
        raise ConfigError(f"{source}: suite '{name}'.version must be an integer, got {version!r}")
    return SuiteConfig(name=name, version=version, description=str(data.get("description", "")),
                       tasks=tuple(tasks), profile=profile)


def load_suites(path: str | os.PathLike | None = None) -> dict[str, SuiteConfig]:
    """Read ``tasks/suites.yaml`` (or ``path``) into validated suites."""
    path = Path(path) if path else BUILTIN_TASKS / "suites.yaml"
    data = load_yaml(path, what="suites file") or {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of suite name → suite")
    return {name: suite_from_dict(name, body, source=str(path)) for name, body in data.items()}


def resolve(task_or_suite: str | None) -> tuple[list[TaskConfig], str | None]:
    """Tasks named by a suite or a task name/path, plus the suite's profile (``None`` for a task).

    ``None`` means the default suite ``quick``.
    """
    name = task_or_suite or "quick"
    suites = load_suites()
    if name in suites:
        return [find_task(t) for t in suites[name].tasks], suites[name].profile
    return [find_task(name)], None
