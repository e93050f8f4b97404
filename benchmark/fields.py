"""Typed settings: one rule per setting, one checker for every place a setting is written.

A setting is a field of a frozen dataclass whose ``metadata`` carries its :class:`Rule` (accepted
types, choices, a range check and a hint). :func:`build` turns a mapping — a YAML section, a
``profiles:`` override, ``--set`` values from the command line, a ``analysis_plan.json`` — into the
dataclass, checking every key with :func:`check_value`. The same rule object is reused wherever the
same quantity can be written (``detector.epochs`` and ``profiles.quick.epochs`` share
:data:`EPOCHS`), so a value is accepted or refused identically wherever it appears.

Example:
    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class Demo:
    ...     epochs: int = setting(4, between(1, 10_000))
    >>> build(Demo, {"epochs": 2}, source="demo.yaml")
    Demo(epochs=2)
    >>> try:
    ...     build(Demo, {"epochs": -1}, source="demo.yaml")
    ... except ConfigError as err:
    ...     print(err)
    demo.yaml: epochs: -1 is not allowed; expected an integer from 1 to 10000
"""
from __future__ import annotations

import dataclasses
import difflib
import math
from dataclasses import dataclass, field
from typing import Any, Callable

from mammobench.errors import ConfigError

__all__ = ["SEED", "Rule", "between", "build", "check_value", "optional", "section", "section_map", "setting"]


@dataclass(frozen=True)
class Rule:
    """What a setting accepts: ``types``, optional ``choices``, a ``check`` predicate and its ``hint``.

    ``nullable`` also accepts ``None``; ``say_null`` names null in type errors (``False`` where null
    means "not set at this layer", as in profile overrides).
    """

    types: tuple[type, ...]
    choices: tuple | None = None
    check: Callable[[Any], bool] | None = None
    hint: str = ""
    nullable: bool = False
    say_null: bool = True


def between(low: float, high: float, types: type | tuple[type, ...] = int, *, low_open: bool = False,
            high_open: bool = False, unit: str = "") -> Rule:
    """A rule for a number in ``[low, high]`` (ends open on request); NaN and infinity never pass.

    Example:
        >>> between(0, 1, float, low_open=True, high_open=True).hint
        'a number between 0 and 1 (both excluded)'
    """
    types = types if isinstance(types, tuple) else (types,)
    if float in types and int not in types:
        types = (*types, int)

    def check(v: Any) -> bool:
        return (math.isfinite(v) and (low < v if low_open else low <= v) and (v < high if high_open else v <= high))

    if types == (int,):
        hint = f"an integer from {low + 1 if low_open else low} to {high - 1 if high_open else high}"
    else:
        ends = {(False, False): "", (True, True): " (both excluded)", (True, False): f" ({low:g} excluded)",
                (False, True): f" ({high:g} excluded)"}[(low_open, high_open)]
        hint = f"a number between {low:g} and {high:g}{ends}"
    return Rule(types=types, check=check, hint=hint + (f" {unit}" if unit else ""))


def optional(rule: Rule, hint: str | None = None, *, say_null: bool = True) -> Rule:
    """The same rule, also accepting ``null`` (``None``); ``say_null=False`` keeps null out of messages."""
    return dataclasses.replace(rule, nullable=True, say_null=say_null,
                               hint=hint or (f"null or {rule.hint}".rstrip() if say_null else rule.hint))


def setting(default: Any, rule: Rule) -> Any:
    """A dataclass field validated by ``rule`` (mutable defaults are copied per instance)."""
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda d=default: type(d)(d), metadata={"rule": rule})
    return field(default=default, metadata={"rule": rule})


def section(cls: type) -> Any:
    """A dataclass field holding a nested settings section of type ``cls`` (built from a mapping)."""
    return field(default_factory=cls, metadata={"section": cls})


def section_map(cls: type, names: tuple[str, ...]) -> Any:
    """A dataclass field mapping some of ``names`` to sections of type ``cls`` (e.g. ``profiles:``)."""
    return field(default_factory=dict, metadata={"section_map": (cls, names)})


def _type_name(types: tuple[type, ...]) -> str:
    names = {"NoneType": "null", "str": "text", "int": "integer", "float": "number", "list": "list",
             "dict": "mapping", "bool": "true/false"}
    return " or ".join(dict.fromkeys(names.get(t.__name__, t.__name__) for t in types))


def _passes(check: Callable[[Any], bool], value: Any) -> bool:
    """Run a check; a value the check cannot even inspect (e.g. a nested list) fails it."""
    try:
        return bool(check(value))
    except (TypeError, ValueError, AttributeError, OverflowError):
        return False


def check_value(value: Any, rule: Rule, where: str) -> Any:
    """Return ``value`` when ``rule`` accepts it.

    Raises:
        ConfigError: ``"<where>: …"`` naming the value and what is expected.
    """
    if value is None and rule.nullable:
        return value
    if isinstance(value, bool) and bool not in rule.types or not isinstance(value, rule.types):
        shown = repr(value) if len(repr(value)) < 80 else repr(value)[:77] + "..."
        types = (*rule.types, type(None)) if rule.nullable and rule.say_null else rule.types
        raise ConfigError(f"{where}: expected {_type_name(types)}, got {_type_name((type(value),))} {shown}")
    if rule.choices is not None and value not in rule.choices:
        raise ConfigError(f"{where}: {value!r} is not a valid choice; valid choices: {list(rule.choices)}")
    if rule.check is not None and not _passes(rule.check, value):
        shown = repr(value) if len(repr(value)) < 80 else repr(value)[:77] + "..."
        raise ConfigError(f"{where}: {shown} is not allowed; expected {rule.hint}")
    return value


def _unknown_key(key: Any, valid: list[str], source: str, prefix: str) -> ConfigError:
    close = difflib.get_close_matches(str(key), valid, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return ConfigError(f"{source}: unknown key '{prefix}{key}'{hint}; valid keys: {sorted(valid)}")


def _build_map(cls: type, names: tuple[str, ...], data: Any, *, source: str, prefix: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: {prefix.rstrip('.')}: expected a mapping of {list(names)} to settings, "
                          f"got {_type_name((type(data),))}")
    for key in data:
        if key not in names:
            raise _unknown_key(key, list(names), source, prefix)
    return {key: build(cls, {} if value is None else value, source=source, prefix=f"{prefix}{key}.")
            for key, value in data.items()}


def build(cls: type, data: Any, *, source: str, prefix: str = "") -> Any:
    """Build dataclass ``cls`` from mapping ``data``, checking every key against its rule.

    Fields without a rule or section (e.g. ``source``) cannot be set from data. ``None`` for a
    section means "all defaults".

    Raises:
        ConfigError: not a mapping, an unknown key (with "did you mean"), or a value its rule refuses.
    """
    label = f"{source}: {prefix}".rstrip(". ") if prefix else source
    if not isinstance(data, dict):
        raise ConfigError(f"{label}: expected a mapping, got {_type_name((type(data),))}")
    fields = {f.name: f for f in dataclasses.fields(cls) if {"rule", "section", "section_map"} & set(f.metadata)}
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        f = fields.get(key) if isinstance(key, str) else None
        if f is None:
            raise _unknown_key(key, list(fields), source, prefix)
        if "section" in f.metadata:
            kwargs[key] = build(f.metadata["section"], {} if value is None else value, source=source,
                                prefix=f"{prefix}{key}.")
        elif "section_map" in f.metadata:
            kwargs[key] = _build_map(*f.metadata["section_map"], {} if value is None else value, source=source,
                                     prefix=f"{prefix}{key}.")
        else:
            kwargs[key] = check_value(value, f.metadata["rule"], f"{source}: {prefix}{key}")
    return cls(**kwargs)


# ---------------------------------------------------------------- rules shared by several layers
#: any seed: numpy and torch accept 0 … 2**32 - 1 on every platform
SEED = between(0, 2**32 - 1)
