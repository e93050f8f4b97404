"""Listing and reading the files of a run folder or bundle without following links or reading special files.

``mammobench verify`` and the leaderboard read folders someone else made. A folder may hold a
symlink to ``/dev/zero`` (reading it never ends), a FIFO (opening it blocks), a link to a file
outside the folder (``/etc/passwd``), or a dangling link. :func:`scan_folder` walks the folder
without following any link, hashes only regular files (opened with ``O_NOFOLLOW`` and checked with
``fstat`` after opening, so a file swapped for a link in between is refused too), and reports every
other entry as a problem instead of reading it.

Example:
    >>> import tempfile, pathlib, os
    >>> d = pathlib.Path(tempfile.mkdtemp()); _ = (d / "a.txt").write_text("x")
    >>> os.symlink("/dev/zero", d / "zero")
    >>> scan = scan_folder(d)
    >>> sorted(scan.files), scan.problems
    (['a.txt'], ['zero: symbolic link (not followed)'])
"""
from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from mammobench.errors import IntegrityError

CHUNK = 1 << 20
MAX_METADATA_BYTES = 64 << 20  # manifest.json, signatures, keys, bundle.json: far below this


@dataclass
class FolderScan:
    """Regular files ``{relative posix path: {sha256, bytes}}`` and one problem line per unsafe entry."""

    files: dict[str, dict] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def _kind(mode: int) -> str:
    if stat.S_ISREG(mode):
        return "regular file"
    for test, name in ((stat.S_ISLNK, "symbolic link (not followed)"), (stat.S_ISFIFO, "FIFO (not read)"),
                       (stat.S_ISCHR, "character device (not read)"), (stat.S_ISBLK, "block device (not read)"),
                       (stat.S_ISSOCK, "socket (not read)")):
        if test(mode):
            return name
    return "special file (not read)"


def describe(path: str | os.PathLike) -> str:
    """What a non-regular entry is (``symbolic link (not followed)``, ``FIFO (not read)`` …) or ``missing``."""
    try:
        return _kind(os.lstat(path).st_mode)
    except OSError:
        return "missing"


def _open_regular(path: Path) -> int:
    """A read-only descriptor of ``path`` when it is a regular file and not a link; IntegrityError otherwise."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except OSError as err:
        kind = describe(path)
        if kind == "regular file":
            raise  # a regular file we may not read: the caller reports it as unreadable
        raise IntegrityError(f"{path}: {kind}; only regular files are read ({err.strerror})") from err
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise IntegrityError(f"{path}: {_kind(mode)}; only regular files are read")
    return fd


def hash_regular_file(path: str | os.PathLike) -> tuple[str, int]:
    """``(sha256 hex, size)`` of a regular file; IntegrityError for a link, FIFO, device or socket."""
    fd = _open_regular(Path(path))
    digest, size = hashlib.sha256(), 0
    with os.fdopen(fd, "rb") as fh:
        while block := fh.read(CHUNK):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def read_regular_file(path: str | os.PathLike, limit: int = MAX_METADATA_BYTES) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes; IntegrityError for anything else."""
    path = Path(path)
    fd = _open_regular(path)
    with os.fdopen(fd, "rb") as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise IntegrityError(f"{path}: larger than {limit} bytes; not a MammoBench metadata file")
    return data


def scan_folder(root: str | os.PathLike, skip: tuple[str, ...] = ()) -> FolderScan:
    """Hash every regular file under ``root`` (links never followed); list every other entry as a problem.

    Args:
        root: the folder (itself may be reached through a link: the caller named it).
        skip: relative paths to leave out (provenance files, the run lock).
    """
    root = Path(root)
    scan = FolderScan()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        here = Path(dirpath)
        for name in sorted(dirnames):  # a link to a folder shows up among dirnames: report it, never enter it
            if (here / name).is_symlink():
                scan.problems.append(f"{(here / name).relative_to(root).as_posix()}: symbolic link (not followed)")
                dirnames.remove(name)
        for name in sorted(filenames):
            path = here / name
            rel = path.relative_to(root).as_posix()
            if rel in skip:
                continue
            try:
                sha, size = hash_regular_file(path)
            except IntegrityError:
                scan.problems.append(f"{rel}: {describe(path)}")
                continue
            except OSError as err:
                scan.problems.append(f"{rel}: unreadable ({err.strerror})")
                continue
            scan.files[rel] = {"sha256": sha, "bytes": size}
    scan.files = dict(sorted(scan.files.items()))
    scan.problems.sort()
    return scan
