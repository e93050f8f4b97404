"""Validated metadata cards (generator cards) loaded from YAML as data.

Example:
    >>> card = GeneratorCard.from_dict({"name": "none", "version": "1.0", "kind": "control",
    ...     "licence": "Apache-2.0", "intended_use": "control arm"})
    >>> card.kind
    'control'
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mammobench.errors import ConfigError
from mammobench.yamlio import load_yaml

GENERATOR_KINDS = ("control", "augmentation", "physics", "gan", "diffusion", "folder", "other", "planted")
CONDITIONING_VARIABLES = ("label", "lesion_type", "density", "age_band", "view")


@dataclass(frozen=True)
class GeneratorCard:
    """What a generator is, what it was trained on and what it is for."""

    name: str
    version: str
    kind: str
    licence: str
    intended_use: str
    conditioning: tuple[str, ...] = ()
    training_data: tuple[str, ...] = ()  # dataset:split names, e.g. "virtual_cohort:train"
    training_patients_sha256: str = ""  # hash of the sorted training patient ids, when known
    training_manifest_sha256: str = ""
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    authors: tuple[str, ...] = ()
    citation: str = ""

    def __post_init__(self) -> None:
        for key in ("name", "version", "licence", "intended_use"):
            if not str(getattr(self, key)).strip():
                raise ConfigError(f"generator card: '{key}' must be a non-empty string; fill it in")
        if self.kind not in GENERATOR_KINDS:
            raise ConfigError(f"generator card '{self.name}': kind '{self.kind}' is not one of {list(GENERATOR_KINDS)}")
        bad = [c for c in self.conditioning if c not in CONDITIONING_VARIABLES]
        if bad:
            raise ConfigError(f"generator card '{self.name}': conditioning {bad} not in {list(CONDITIONING_VARIABLES)}")

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str = "card") -> "GeneratorCard":
        """Build from a mapping, rejecting unknown keys with the list of valid ones."""
        if not isinstance(data, dict):
            raise ConfigError(f"{source}: a generator card must be a mapping, got {type(data).__name__}")
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(str(k) for k in set(data) - names)
        if unknown:
            raise ConfigError(f"{source}: unknown key(s) {unknown}; valid keys: {sorted(names)}")
        required = [f.name for f in dataclasses.fields(cls)
                    if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
        missing = [k for k in required if k not in data]
        if missing:
            raise ConfigError(f"{source}: missing required key(s) {missing}")
        data = dict(data)
        for key in ("conditioning", "training_data", "authors"):
            if key in data:
                if not isinstance(data[key], (list, tuple)):
                    raise ConfigError(f"{source}: '{key}' must be a list")
                data[key] = tuple(str(v) for v in data[key])
        if "hyperparameters" in data and not isinstance(data["hyperparameters"], dict):
            raise ConfigError(f"{source}: 'hyperparameters' must be a mapping")
        for key in ("name", "version", "kind", "licence", "intended_use"):
            data[key] = str(data[key])
        try:
            return cls(**data)
        except ConfigError as err:
            raise ConfigError(f"{source}: {err}") from err
        except TypeError as err:  # a value of the wrong type (e.g. a list where text is expected)
            raise ConfigError(f"{source}: {err}; see baselines/*/card.yaml for the expected form") from err

    @classmethod
    def from_yaml(cls, path: str | Path) -> "GeneratorCard":
        """Load a card from a YAML file (safe loader: data only)."""
        path = Path(path)
        return cls.from_dict(load_yaml(path, what="generator card"), source=str(path))

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (tuples as lists) for result files."""
        out = dataclasses.asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}
