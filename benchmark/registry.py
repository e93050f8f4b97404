"""One generic registry for every plug-in type (generators, dataset adapters, detector recipes).

Entries are either objects or lazy placeholders ``"package.module:attr"`` that are imported on
first use, so a broken optional backend never breaks ``mammobench ls``. Third-party packages add
generators through the entry-point group ``mammobench.generators`` (and ``mammobench.adapters``);
ad-hoc code is named as ``package.module:Class`` on the command line and runs only when the user
names it.

Adding a built-in: add one line to the mapping below that names its registry, e.g.
``GENERATORS.register("ddpm", "mammobench.baselines.ddpm.generator:DDPMGenerator")``.

Example:
    >>> reg = Registry("widget")
    >>> reg.register("round", dict)
    >>> reg.get("round") is dict
    True
    >>> try:
    ...     reg.get("rund")
    ... except RegistryError as err:
    ...     print(err)
    unknown widget 'rund'. Did you mean 'round'? Known: round
"""
from __future__ import annotations

import difflib
import importlib
from importlib import metadata
from typing import Any, Generic, Iterable, TypeVar

from mammobench.errors import RegistryError

T = TypeVar("T")


def import_object(spec: str) -> Any:
    """Import ``"package.module:attr"`` (attr may be dotted) and return the object.

    Raises:
        RegistryError: when the module or attribute cannot be imported, naming the spec.
    """
    if ":" not in spec:
        raise RegistryError(f"'{spec}' is not of the form package.module:Name")
    module_name, _, attr = spec.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as err:
        raise RegistryError(f"cannot import module '{module_name}' for '{spec}': {err}") from err
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError as err:
            raise RegistryError(f"module '{module_name}' has no attribute '{attr}' (from '{spec}')") from err
    return obj


class Registry(Generic[T]):
    """A name → object mapping with lazy imports, entry points and helpful errors.

    Args:
        kind: what is registered (used in messages), e.g. ``"generator"``.
        entry_point_group: optional entry-point group scanned on first lookup.
    """

    def __init__(self, kind: str, entry_point_group: str | None = None):
        self.kind = kind
        self.entry_point_group = entry_point_group
        self._entries: dict[str, T | str] = {}
        self._entry_points_loaded = False

    def register(self, name: str, obj: T | str) -> None:
        """Register ``obj`` (or a lazy ``"module:attr"`` string) under ``name``; duplicates raise."""
        if name in self._entries and self._entries[name] != obj:
            raise RegistryError(f"{self.kind} '{name}' is already registered to {self._entries[name]!r}")
        self._entries[name] = obj

    def _load_entry_points(self) -> None:
        if self._entry_points_loaded or not self.entry_point_group:
            return
        self._entry_points_loaded = True
        for ep in metadata.entry_points(group=self.entry_point_group):
            if ep.name not in self._entries:
                self._entries[ep.name] = ep.value

    def names(self) -> list[str]:
        """Sorted registered names (built-ins and entry points)."""
        self._load_entry_points()
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        self._load_entry_points()
        return name in self._entries

    def spec(self, name: str) -> T | str:
        """The raw entry (object or lazy string) without importing it."""
        self._load_entry_points()
        if name not in self._entries:
            raise RegistryError(self._unknown_message(name))
        return self._entries[name]

    def get(self, name: str) -> T:
        """Return the object for ``name``; a ``module:attr`` name not registered is imported directly.

        Raises:
            RegistryError: unknown name, with "Did you mean" suggestions.
        """
        self._load_entry_points()
        if name not in self._entries:
            if ":" in name:
                return import_object(name)
            raise RegistryError(self._unknown_message(name))
        entry = self._entries[name]
        if isinstance(entry, str):
            entry = import_object(entry)
            self._entries[name] = entry
        return entry  # type: ignore[return-value]

    def _unknown_message(self, name: str) -> str:
        known = self.names()
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        return f"unknown {self.kind} '{name}'.{hint} Known: {', '.join(known) or '(none)'}"

    def items(self) -> Iterable[tuple[str, T | str]]:
        """(name, entry) pairs, entries not imported."""
        self._load_entry_points()
        return sorted(self._entries.items())


# ---- the project's registries -------------------------------------------------------------
GENERATORS: Registry[Any] = Registry("generator", "mammobench.generators")
ADAPTERS: Registry[Any] = Registry("dataset adapter", "mammobench.adapters")
DETECTORS: Registry[Any] = Registry("detector recipe")
