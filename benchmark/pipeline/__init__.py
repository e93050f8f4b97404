"""The run pipeline: task config, profiles, arms, grid cells, executors and :func:`run`.

``run`` and ``run_task`` live in :mod:`mammobench.pipeline.runner` and are imported on first use, so
reading a task does not import torch.

Example:
    >>> from mammobench.pipeline import find_task, run
    >>> find_task("vc_lesion").task, run.__module__
    ('vc_lesion', 'mammobench.pipeline.runner')
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from mammobench._lazy import lazy_exports

_EXPORTS = {
    "run": "mammobench.pipeline.runner",
    "run_task": "mammobench.pipeline.runner",
    "TaskConfig": "mammobench.pipeline.config",
    "load_task": "mammobench.pipeline.config",
    "find_task": "mammobench.pipeline.suites",
    "list_tasks": "mammobench.pipeline.suites",
    "load_suites": "mammobench.pipeline.suites",
}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from mammobench.pipeline.config import TaskConfig, load_task
    from mammobench.pipeline.runner import run, run_task
    from mammobench.pipeline.suites import find_task, list_tasks, load_suites
