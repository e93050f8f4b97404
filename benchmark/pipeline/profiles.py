"""Run profiles and the resolved settings of one run: :class:`RunSettings`.

A profile (smoke for tests, quick for the default job, full for papers) scales a task without
changing what it measures. The profiles are data, ``tasks/profiles.yaml`` beside ``suites.yaml``.
One run's settings are resolved once, in this order (later wins):

1. the profile's values (``tasks/profiles.yaml``);
2. the task's override for that profile (``profiles: {quick: {...}}`` in ``task.yaml``);
3. command-line overrides (``mammobench run --set epochs=2``);
4. for keys still unset (``arms``, ``ratios``), the task's own value.

Every layer is checked by the same rules (:class:`~mammobench.pipeline.config.ProfileOverrides`),
then the result is checked as a whole (the control arm among the arms).

Example:
    >>> from mammobench.pipeline.suites import find_task
    >>> s = resolve_settings(find_task("vc_lesion"), "smoke", {"epochs": 2})
    >>> s.n_patients, s.image_size, s.epochs, s.arms
    (40, 64, 2, ('none', 'classic', 'physics'))
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from mammobench.errors import ConfigError
from mammobench.fields import build
from mammobench.pipeline.config import PROFILE_NAMES, ProfileOverrides, TaskConfig
from mammobench.pipeline.suites import BUILTIN_TASKS
from mammobench.yamlio import load_yaml, parse_yaml

PROFILES_FILE = BUILTIN_TASKS / "profiles.yaml"  # beside suites.yaml, found the same way
#: keys every profile in profiles.yaml must set (they have no task-level fallback)
_COMPLETE = ("n_patients", "cohort_size", "image_size", "epochs", "batch_size", "seeds", "n_boot", "min_group_size",
             "ratios", "encoder_epochs", "audit")


@dataclass(frozen=True)
class RunSettings:
    """How big one run of a task is: the profile resolved against the task and the command line."""

    profile: str
    n_patients: int
    cohort_size: int
    image_size: int
    epochs: int
    batch_size: int
    seeds: tuple[int, ...]
    n_boot: int
    min_group_size: int
    arms: tuple[str, ...]
    ratios: tuple[float, ...]
    encoder_epochs: int
    audit: Mapping[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (``result.json["profile_settings"]``, part of the config hash)."""
        data = dataclasses.asdict(self)
        data.pop("profile")
        return {k: list(v) if isinstance(v, tuple) else dict(v) if isinstance(v, Mapping) else v
                for k, v in data.items()}


def load_profiles(path: str | Path | None = None) -> dict[str, ProfileOverrides]:
    """Read ``tasks/profiles.yaml`` (or ``path``): profile name → its complete settings.

    Raises:
        ConfigError: a missing or unknown profile, a key missing from a profile, or a value its rule refuses.
    """
    path = Path(path) if path else PROFILES_FILE
    data = load_yaml(path, what="profiles file")
    if not isinstance(data, dict) or sorted(data) != sorted(PROFILE_NAMES):
        found = sorted(map(str, data)) if isinstance(data, dict) else type(data).__name__
        raise ConfigError(f"{path}: must define exactly the profiles {list(PROFILE_NAMES)}, found {found}")
    profiles = {}
    for name, body in data.items():
        profiles[name] = build(ProfileOverrides, body if body is not None else {}, source=str(path),
                               prefix=f"{name}.")
        missing = [k for k in _COMPLETE if getattr(profiles[name], k) is None]
        if missing:
            raise ConfigError(f"{path}: profile '{name}' must set {missing} (they have no task-level default)")
    return profiles


def check_overrides(overrides: Mapping[str, Any] | ProfileOverrides | None, *, source: str) -> ProfileOverrides:
    """Validate a mapping of profile keys (``--set`` values, a ``profiles:`` entry) with the shared rules.

    Raises:
        ConfigError: unknown key (with "did you mean") or a value its rule refuses, naming ``source``.
    """
    if isinstance(overrides, ProfileOverrides):
        return overrides
    return build(ProfileOverrides, dict(overrides or {}), source=source)


def parse_overrides(items: list[str], *, source: str = "command line") -> ProfileOverrides:
    """``["epochs=2", "seeds=[0, 1]"]`` (``--set KEY=VALUE``) → validated overrides; values are YAML.

    Example:
        >>> parse_overrides(["epochs=2", "seeds=[3, 4]"]).given()
        {'epochs': 2, 'seeds': [3, 4]}
    """
    data: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"{source}: --set {item!r}: expected KEY=VALUE, e.g. --set epochs=2")
        data[key.strip()] = parse_yaml(value, source=f"{source}: --set {key.strip()}", what="value")
    return check_overrides(data, source=f"{source}: --set")


def resolve_settings(task: TaskConfig, profile: str, overrides: Mapping[str, Any] | ProfileOverrides | None = None,
                     *, profiles: dict[str, ProfileOverrides] | None = None) -> RunSettings:
    """The settings of ``task`` at ``profile`` with the task's and the command line's overrides applied.

    Raises:
        ConfigError: unknown profile, an invalid override, or a control arm missing from the resolved arms.
    """
    profiles = profiles or load_profiles()
    if profile not in profiles:
        raise ConfigError(f"unknown profile '{profile}'; valid profiles: {list(PROFILE_NAMES)}")
    cli = check_overrides(overrides, source="command line: --set")
    merged: dict[str, Any] = {}
    for layer in (profiles[profile], task.profiles.get(profile), cli):
        merged.update(layer.given() if layer is not None else {})
    merged.setdefault("arms", list(task.augmentation.arms))
    merged.setdefault("ratios", list(task.augmentation.ratios))
    settings = RunSettings(profile=profile, **{k: tuple(v) if isinstance(v, list) else v for k, v in merged.items()})
    if task.analysis.control_arm not in settings.arms:
        raise ConfigError(f"{task.source}: analysis.control_arm {task.analysis.control_arm!r} is not one of the "
                          f"arms {list(settings.arms)} of profile '{profile}'; add it to the arms")
    return settings
