"""Watch file access with ``sys.addaudithook``: which paths under a folder were opened or listed.

Audit hooks cannot be removed, so one hook is installed on first use and dispatches to the
currently active watchers; outside a ``watch_paths`` block it costs one list check per event.

Example:
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> (root / "secret.txt").write_text("x")
    1
    >>> with watch_paths(root) as seen:
    ...     _ = (root / "secret.txt").read_text()
    >>> [p.endswith("secret.txt") for p in seen]
    [True]
"""
from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import Iterator

_WATCHERS: list[tuple[str, list[str]]] = []
_INSTALLED = False
_EVENTS = ("open", "os.listdir", "os.scandir", "os.walk", "glob.glob")


def _hook(event: str, args: tuple) -> None:
    if not _WATCHERS or event not in _EVENTS or not args:
        return
    target = args[0]
    if isinstance(target, int) or target is None:
        return
    try:
        path = os.path.abspath(os.fsdecode(target))
    except (TypeError, ValueError):
        return
    for root, seen in _WATCHERS:
        if path == root or path.startswith(root.rstrip(os.sep) + os.sep):
            seen.append(path)


@contextlib.contextmanager
def watch_paths(root: str | os.PathLike) -> Iterator[list[str]]:
    """Record every opened / listed path under ``root`` during the block (yields the live list)."""
    global _INSTALLED
    if not _INSTALLED:
        sys.addaudithook(_hook)
        _INSTALLED = True
    entry = (os.path.abspath(os.fspath(Path(root).resolve())), [])
    _WATCHERS.append(entry)
    try:
        yield entry[1]
    finally:
        _WATCHERS.remove(entry)


@contextlib.contextmanager
def watch_all_opens() -> Iterator[list[str]]:
    """Record every path opened anywhere during the block (for side-effect checks)."""
    with watch_paths(os.path.abspath(os.sep)) as seen:
        yield seen


__all__ = ["watch_all_opens", "watch_paths"]
