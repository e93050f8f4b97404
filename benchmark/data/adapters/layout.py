"""Finding a dataset's root as the download tools leave it, wherever the user points.

Download tools nest: PhysioNet's ``wget -r`` writes ``physionet.org/files/vindr-mammo/1.0.0/``; the NBIA Data
Retriever writes ``manifest-<number>/<Collection>/…`` with the CSVs the user fetched beside it; Kaggle unpacks
into the competition folder. :func:`find_root` accepts the folder the user names, a folder **below** it
(up to four levels, skipping folders of images) or a folder **above** it (pointed one or two levels too low,
e.g. at ``images/``). A *marker* is a tuple of glob patterns that must all match inside the root.

Example:
    >>> import tempfile, pathlib
    >>> top = pathlib.Path(tempfile.mkdtemp())
    >>> (top / "physionet.org/files/vindr-mammo/1.0.0/images").mkdir(parents=True)
    >>> _ = (top / "physionet.org/files/vindr-mammo/1.0.0/breast-level_annotations.csv").write_text("x")
    >>> find_root(top, ((("breast-level_annotations.csv",)),), dataset="vindr").name
    '1.0.0'
"""
from __future__ import annotations

from collections import deque
from pathlib import Path
from typing import Iterable, Iterator

from mammobench.errors import DataError

MAX_DEPTH_BELOW = 4
MAX_LEVELS_ABOVE = 2
MAX_DIRS_VISITED = 2000
IMAGE_FOLDER_SUBDIRS = 64  # a folder with more sub-folders than this holds patients/studies: not searched


def matches(folder: Path, markers: Iterable[tuple[str, ...]]) -> bool:
    """True when every pattern of at least one marker matches inside ``folder``."""
    return any(all(next(folder.glob(pattern), None) is not None for pattern in marker) for marker in markers)


def _subdirs(folder: Path) -> list[Path]:
    try:
        return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    except OSError:
        return []


def _below(path: Path, markers: tuple[tuple[str, ...], ...]) -> list[Path]:
    found, queue, visited = [], deque([(path, 0)]), 0
    while queue and visited < MAX_DIRS_VISITED:
        folder, depth = queue.popleft()
        visited += 1
        subdirs = _subdirs(folder)
        for sub in subdirs:
            if matches(sub, markers):
                found.append(sub)
            elif depth + 1 < MAX_DEPTH_BELOW and len(_subdirs(sub)) <= IMAGE_FOLDER_SUBDIRS:
                queue.append((sub, depth + 1))
    return found


def describe(markers: tuple[tuple[str, ...], ...]) -> str:
    """Human wording of the markers: 'a or (b and c)'."""
    return " or ".join(" and ".join(m) for m in markers)


def find_root(path: str | Path, markers: tuple[tuple[str, ...], ...], *, dataset: str, hint: str = "") -> Path:
    """The dataset root at, below or above ``path`` (see the module docstring).

    Raises:
        DataError: ``path`` is not a folder; no root was found; or several were found below ``path``
            (the message lists them and says to point at one).
    """
    path = Path(path).expanduser()
    tail = f"; {hint}" if hint else ""
    if not path.is_dir():
        raise DataError(f"{dataset}: dataset folder {path} does not exist or is not a folder{tail}")
    if matches(path, markers):
        return path
    below = _below(path, markers)
    if len(below) == 1:
        return below[0]
    if len(below) > 1:
        listed = ", ".join(str(p) for p in below[:5])
        raise DataError(f"{dataset}: {len(below)} copies of the dataset below {path} ({listed}); "
                        f"point at one of them{tail}")
    for parent in list(path.resolve().parents)[:MAX_LEVELS_ABOVE]:
        if matches(parent, markers):
            return parent
    raise DataError(f"{dataset}: no {describe(markers)} in {path}, in the folders below it ({MAX_DEPTH_BELOW} levels) "
                    f"or above it ({MAX_LEVELS_ABOVE} levels); point at the folder that holds "
                    f"{describe(markers)}{tail}")


def find_dir(root: Path, names: tuple[str, ...], *, depth: int = 2) -> Path | None:
    """The first folder named one of ``names`` at ``root`` or up to ``depth`` levels below (NBIA nesting)."""
    level = [root]
    for _ in range(depth + 1):
        for folder in level:
            if folder.name in names and folder != root:
                return folder
        hits = [sub for folder in level for sub in _subdirs(folder) if sub.name in names]
        if hits:
            return hits[0]
        level = [sub for folder in level for sub in _subdirs(folder) if len(_subdirs(sub)) <= IMAGE_FOLDER_SUBDIRS]
    return None


def walk_files(base: Path, suffixes: tuple[str, ...] | None = None) -> Iterator[Path]:
    """Every regular file under ``base`` (sorted walk; ``suffixes`` lower-case, None = any), hidden ones skipped."""
    import os

    for folder, dirs, files in os.walk(base):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.startswith(".") or (suffixes is not None and Path(name).suffix.lower() not in suffixes):
                continue
            yield Path(folder) / name
