"""Files that ship inside the package, found with :mod:`importlib.resources` — never relative to a checkout.

The repository keeps its folders where they are; ``pyproject.toml`` installs them under ``mammobench``:

=======================  =========================  ==========================================
package                  repository folder          holds
=======================  =========================  ==========================================
``mammobench.tasks``     ``tasks/``                 built-in ``<name>/task.yaml``, ``suites.yaml``
``mammobench.reports``   ``reports/``               ``checklists/*.yaml``, ``templates/*.j2``
``mammobench.reader``    ``benchmark/reader/``      ``static/index.html`` (the reading page)
``mammobench.baselines`` ``baselines/``             each baseline's ``card.yaml``
=======================  =========================  ==========================================

In a checkout (editable install) the resources are the repository's files; from a wheel they sit in
``site-packages/mammobench/``. User tasks live anywhere (``MAMMOBENCH_TASKS_PATH`` or a path to a
``task.yaml``); user templates are a folder passed to the renderer.

Example:
    >>> (builtin_tasks_dir() / "suites.yaml").is_file()
    True
    >>> sorted(template_loader().list_templates())[:2]
    ['leaderboard.html.j2', 'leaderboard.md.j2']
"""
from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import jinja2

from mammobench.errors import ConfigError

__all__ = ["builtin_tasks_dir", "checklists_dir", "resource_path", "template_loader"]


def resource_path(package: str, *parts: str) -> Path:
    """The file-system path of a resource shipped in ``package`` (e.g. ``"mammobench.tasks"``).

    Raises:
        ConfigError: when the package is installed in a form without real files (e.g. a zip archive).

    Example:
        >>> resource_path("mammobench.reports", "checklists").name
        'checklists'
    """
    root = resources.files(package)
    if not isinstance(root, Path):
        raise ConfigError(f"package '{package}' is not installed as files on disk ({type(root).__name__}); "
                          "install mammobench with pip (not as a zip archive)")
    return root.joinpath(*parts)


def builtin_tasks_dir() -> Path:
    """The folder of built-in tasks (``<name>/task.yaml``) and ``suites.yaml``."""
    return resource_path("mammobench.tasks")


def checklists_dir() -> Path:
    """The folder of reporting-checklist definitions (``*.yaml``)."""
    return resource_path("mammobench.reports", "checklists")


def template_loader(template_dir: str | os.PathLike | None = None) -> jinja2.BaseLoader:
    """Jinja2 loader for report and leaderboard templates: the packaged ones, or a user's folder.

    Example:
        >>> template_loader("my_templates").searchpath
        ['my_templates']
    """
    if template_dir is not None:
        return jinja2.FileSystemLoader(os.fspath(template_dir))
    return jinja2.PackageLoader("mammobench.reports", "templates")
