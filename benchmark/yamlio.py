"""The one YAML loader: plain data only, bounded in size, nesting and expansion.

Every YAML file MammoBench reads — task, suite, profile, generator card, checklist, dataset
mapping, checklist answers, leaderboard display, audit config — and every YAML value given on the
command line goes through :func:`load_yaml` / :func:`parse_yaml`. They build on PyYAML's pure-Python
``SafeLoader`` (no Python tags, never executes code) and refuse, before any memory is spent:

* **aliases** (``*name``): a few hundred bytes of nested aliases expand to gigabytes (the "billion
  laughs" bomb); MammoBench files never need them, so any alias is refused;
* **nesting deeper than** :data:`MAX_DEPTH` levels of mappings and sequences (a 1,000-deep document
  would exhaust Python's recursion in the composer);
* **files larger than** :data:`MAX_BYTES`, special files (``/dev/zero``, FIFOs), folders and binary
  or non-UTF-8 files.

Each refusal is a :class:`~mammobench.errors.ConfigError` of one sentence naming the file and the limit.

Example:
    >>> parse_yaml("seeds: [0, 1]", source="inline")
    {'seeds': [0, 1]}
    >>> try:
    ...     parse_yaml("a: &x [1, 2]\\nb: *x", source="demo.yaml")
    ... except ConfigError as err:
    ...     print(str(err)[:60])
    demo.yaml: cannot read YAML file: line 2 uses the alias '*x'
"""
from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import yaml

from mammobench.errors import ConfigError

__all__ = ["MAX_BYTES", "MAX_DEPTH", "load_yaml", "parse_yaml"]

#: largest YAML file read (the biggest shipped one is ~7 KB)
MAX_BYTES = 1 << 20
#: deepest nesting of mappings/sequences (shipped files reach 4)
MAX_DEPTH = 32


class _BoundedLoader(yaml.SafeLoader):
    """``SafeLoader`` whose composer refuses aliases and counts nesting depth."""

    def __init__(self, stream: str, *, prefix: str, max_depth: int):
        super().__init__(stream)
        self._prefix, self._max_depth, self._depth = prefix, max_depth, 0

    def compose_node(self, parent: Any, index: Any) -> Any:  # noqa: D102 (PyYAML hook)
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise ConfigError(f"{self._prefix}line {event.start_mark.line + 1} uses the alias '*{event.anchor}', "
                              "and YAML aliases are not allowed in MammoBench files (a few bytes of them can expand "
                              "to gigabytes); write the value out in full")
        collection = self.check_event(yaml.SequenceStartEvent, yaml.MappingStartEvent)
        self._depth += collection
        try:
            if self._depth > self._max_depth:
                line = self.peek_event().start_mark.line + 1
                raise ConfigError(f"{self._prefix}nesting deeper than {self._max_depth} levels at line {line} "
                                  f"(the limit for MammoBench YAML files is {self._max_depth}); flatten the file")
            return super().compose_node(parent, index)
        finally:
            self._depth -= collection


def _syntax_message(err: yaml.YAMLError) -> str:
    if isinstance(err, yaml.reader.ReaderError) and isinstance(err.character, int):
        return (f"it contains the control character #x{err.character:04x} at offset {err.position}, which YAML does "
                "not allow; save the file as plain UTF-8 text")
    mark = getattr(err, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    problem = getattr(err, "problem", None) or str(err).splitlines()[0]
    if isinstance(err, yaml.constructor.ConstructorError) and "tag" in str(problem):
        return (f"the tag{where} is not allowed ({problem}); MammoBench YAML files are plain data "
                "(no !!python or other tags)")
    return f"not valid YAML{where} ({problem}); check the indentation and quoting there"


def parse_yaml(text: str, *, source: str, what: str = "YAML file", max_depth: int = MAX_DEPTH) -> Any:
    """Parse YAML ``text`` as plain data, with aliases refused and nesting bounded.

    Args:
        text: the document.
        source: file name (or ``--set key``) named in every error.
        what: what the document is, for messages (``task file``, ``generator card`` …).
        max_depth: deepest nesting accepted.

    Raises:
        ConfigError: syntax error, an unsafe tag, an alias or nesting beyond ``max_depth``.

    Example:
        >>> parse_yaml("[[[1]]]", source="x", max_depth=2)
        Traceback (most recent call last):
        ...
        mammobench.errors.ConfigError: x: cannot read YAML file: nesting deeper than 2 levels at line 1 (the limit for MammoBench YAML files is 2); flatten the file
    """
    loader = None
    try:
        loader = _BoundedLoader(text, prefix=f"{source}: cannot read {what}: ", max_depth=max_depth)
        return loader.get_single_data()
    except yaml.YAMLError as err:  # also the reader's refusal of control characters, raised on construction
        raise ConfigError(f"{source}: cannot read {what}: {_syntax_message(err)}") from None
    except RecursionError:  # pragma: no cover - the depth bound stops far earlier
        raise ConfigError(f"{source}: cannot read {what}: nested too deeply; flatten the file") from None
    finally:
        if loader is not None:
            loader.dispose()


def _read_bounded(path: Path, what: str, max_bytes: int) -> bytes:
    """The file's bytes, refusing missing, special, oversized files before reading them whole."""
    prefix = f"{path}: cannot read {what}: "
    try:
        info = os.stat(path)
        if stat.S_ISDIR(info.st_mode):
            raise ConfigError(f"{prefix}it is a folder; give the path of a YAML file")
        if not stat.S_ISREG(info.st_mode):
            raise ConfigError(f"{prefix}it is not a regular file (a device, pipe or socket); give a YAML file")
        if info.st_size > max_bytes:
            raise ConfigError(f"{prefix}{info.st_size:,} bytes is over the {max_bytes:,}-byte limit for "
                              "MammoBench YAML files; this is not a configuration file")
        with open(path, "rb") as fh:
            data = fh.read(max_bytes + 1)
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found; check the path") from None
    except OSError as err:
        raise ConfigError(f"{prefix}{type(err).__name__}: {err.strerror or err}; check the path and "
                          "its permissions") from None
    if len(data) > max_bytes:  # the file grew between stat and read
        raise ConfigError(f"{prefix}more than the {max_bytes:,}-byte limit for MammoBench YAML files")
    return data


def load_yaml(path: str | os.PathLike, *, what: str = "YAML file", max_bytes: int = MAX_BYTES,
              max_depth: int = MAX_DEPTH) -> Any:
    """Read and parse a YAML file as plain data within the size, alias and nesting bounds.

    Args:
        path: the file.
        what: what the file is, for messages (``task file``, ``generator card`` …).
        max_bytes: largest file accepted.
        max_depth: deepest nesting accepted.

    Raises:
        ConfigError: missing, special, oversized, binary or non-UTF-8 file; syntax error; unsafe tag;
            alias; nesting too deep — one sentence naming the file and the limit.

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.yaml"
        >>> _ = p.write_text("a: 1")
        >>> load_yaml(p)
        {'a': 1}
    """
    path = Path(path)
    data = _read_bounded(path, what, max_bytes)
    if b"\x00" in data:
        raise ConfigError(f"{path}: cannot read {what}: it is a binary file (it contains NUL bytes), not YAML text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ConfigError(f"{path}: cannot read {what}: not UTF-8 text (byte 0x{data[err.start]:02x} at offset "
                          f"{err.start}); save the file as UTF-8") from None
    return parse_yaml(text, source=str(path), what=what, max_depth=max_depth)
