"""Crash-safe file writing, hashing and run-folder locking.

All artefacts are written through :func:`atomic_write_bytes` (temp file in the same folder,
``fsync``, ``os.replace``), so a crash or ``kill -9`` leaves either the old file or the new one,
never a torn file. :class:`RunLock` stops two processes from writing one run folder.

Example:
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> atomic_write_json(d / "x.json", {"a": 1})
    >>> read_json(d / "x.json")
    {'a': 1}
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

from mammobench.errors import RunLockedError, SchemaError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_umask()


def _write_temp(path: Path, data: bytes, mode: int) -> str:
    """``data`` in a new fsynced temporary file (given mode) beside ``path``; returns its name."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return tmp


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temp file + fsync + rename), mode 0666 minus umask."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _write_temp(path, data, _FILE_MODE)
    try:
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_create_bytes(path: str | os.PathLike, data: bytes, mode: int = _FILE_MODE) -> bool:
    """Create ``path`` with ``data`` atomically unless it exists; True when this call created it.

    Like :func:`atomic_write_bytes`, but the complete temporary file is hard-linked into place instead
    of renamed over it, so of two processes creating the same file at once exactly one wins and the
    other's content never replaces it (e.g. a signing key made on first use).

    Example:
        >>> import tempfile, pathlib
        >>> f = pathlib.Path(tempfile.mkdtemp()) / "k"
        >>> atomic_create_bytes(f, b"a"), atomic_create_bytes(f, b"b"), f.read_bytes()
        (True, False, b'a')
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _write_temp(path, data, mode)
    try:
        os.link(tmp, path)
    except FileExistsError:
        return False
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return True


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write UTF-8 text atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "item"):  # numpy scalars
        return obj.item()
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"cannot serialise {type(obj).__name__} to JSON")


def _clean_floats(obj: Any) -> Any:
    """Replace NaN/inf by None so the JSON is standard (RFC 8259)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _clean_floats(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean_floats(v) for v in obj]
    if hasattr(obj, "item") and not hasattr(obj, "__len__"):
        return _clean_floats(obj.item())
    return obj


def to_json_text(obj: Any) -> str:
    """Deterministic, standard JSON (sorted keys, NaN → null)."""
    return json.dumps(_clean_floats(obj), indent=2, sort_keys=True, default=_json_default) + "\n"


def atomic_write_json(path: str | os.PathLike, obj: Any) -> None:
    """Write ``obj`` as deterministic JSON atomically."""
    atomic_write_text(path, to_json_text(obj))


def read_json(path: str | os.PathLike) -> Any:
    """Read a JSON file, raising :class:`SchemaError` naming the file when it is not valid JSON."""
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise SchemaError(f"{path}: file not found") from err
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise SchemaError(f"{path}: not valid JSON ({err}); re-create the file or restore it") from err
    except RecursionError as err:
        raise SchemaError(f"{path}: JSON nested too deeply to read; re-create the file or restore it") from err
    except OSError as err:
        raise SchemaError(f"{path}: cannot read ({type(err).__name__}: {err}); check the path and permissions") from err


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """SHA-256 hex digest of a file, streamed."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def sha256_bytes(data: bytes) -> str:
    """SHA-256 hex digest of bytes."""
    return hashlib.sha256(data).hexdigest()


def sha256_json(obj: Any) -> str:
    """SHA-256 of the canonical JSON form of ``obj`` (config hashes)."""
    return sha256_bytes(to_json_text(obj).encode("utf-8"))


class RunLock:
    """Exclusive lock on a run folder (``.lock`` file with ``flock``); fails at once when held, or after ``wait`` s.

    The lock is released by the OS when the process dies, so a ``kill -9`` never leaves a stale lock.

    Example:
        >>> import tempfile
        >>> with RunLock(tempfile.mkdtemp()):
        ...     pass
    """

    def __init__(self, run_dir: str | os.PathLike, *, wait: float = 0.0, what: str = "run folder"):
        """``wait``: seconds to wait for another holder (0: fail at once); ``what``: the folder, in messages."""
        self.path = Path(run_dir) / ".lock"
        self.wait, self.what = float(wait), what
        self._fh = None

    def __enter__(self) -> "RunLock":
        import logging
        import time

        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(self.path, "a+")
        deadline, told = time.monotonic() + self.wait, False
        while True:
            try:
                fcntl.flock(self._fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError as err:
                if time.monotonic() >= deadline:
                    self._fh.close()
                    waited = f" (waited {self.wait:g} s)" if self.wait else ""
                    raise RunLockedError(
                        f"{self.path.parent}: another mammobench process is writing this {self.what}{waited}; "
                        "wait for it to finish or use another --out"
                    ) from err
                if not told:
                    logging.getLogger("mammobench").info(
                        f"waiting for another mammobench process writing {self.path.parent} (up to {self.wait:g} s)")
                    told = True
                time.sleep(0.25)
        self._fh.seek(0)
        self._fh.truncate()
        self._fh.write(str(os.getpid()))
        self._fh.flush()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fh is not None:
            fcntl.flock(self._fh.fileno(), fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None
