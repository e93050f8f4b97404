"""An optional mixin for generators: sklearn-style parameters and a torch-saveable fitted state.

No generator has to subclass anything (see :class:`mammobench.protocols.Generator`); this mixin only
saves boilerplate. Conventions it implements:

* constructor keyword arguments are the parameters (``get_params`` reads the ``__init__``
  signature); ``clone`` rebuilds an unfitted copy;
* learned state lives in attributes ending in ``_``; ``state_dict()`` returns them as tensors /
  plain data (numpy arrays become tensors) and ``load_state_dict`` restores them, so the fit cache
  can ``torch.save`` a fitted generator without pickling code. Generators holding ``nn.Module``
  objects override both methods.

Example:
    >>> class Mean(GeneratorMixin):
    ...     def __init__(self, scale: float = 1.0):
    ...         self.scale = scale
    >>> Mean(scale=2.0).get_params()
    {'scale': 2.0}
"""
from __future__ import annotations

import dataclasses
import hashlib
import inspect
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

from mammobench.cards import GeneratorCard
from mammobench.errors import ConfigError
from mammobench.protocols import TrainView


def _param_names(cls: type) -> list[str]:
    sig = inspect.signature(cls.__init__)
    return [p.name for p in sig.parameters.values()
            if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


def _to_saveable(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        arr = np.ascontiguousarray(value)
        return {"__ndarray__": torch.from_numpy(arr if arr.flags.writeable else arr.copy()), "dtype": str(value.dtype)}
    if isinstance(value, dict):
        return {str(k): _to_saveable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_saveable(v) for v in value]
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    return value


def _from_saveable(value: Any) -> Any:
    if isinstance(value, dict) and "__ndarray__" in value:
        return value["__ndarray__"].numpy().astype(value["dtype"], copy=False)
    if isinstance(value, dict):
        return {k: _from_saveable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_saveable(v) for v in value]
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value if isinstance(value, (str, int, float, bool, type(None))) else repr(value)


class GeneratorMixin:
    """Parameters, cloning, card and fitted-state (de)serialisation for generators.

    Subclasses set ``card_path`` (their ``card.yaml``); :attr:`card` adds the parameters and, once
    fitted, the training-manifest and training-patient hashes recorded by :meth:`record_training_data`.
    """

    card_path: ClassVar[Path | None] = None

    @property
    def card(self) -> GeneratorCard:
        """The generator card: ``card.yaml`` + hyperparameters + training-data hashes when fitted."""
        if self.card_path is None:
            raise ConfigError(f"{type(self).__name__}: set card_path to its card.yaml")
        base = GeneratorCard.from_yaml(self.card_path)
        return dataclasses.replace(
            base, hyperparameters={**base.hyperparameters, **_plain(self.get_params())},
            training_manifest_sha256=getattr(self, "training_manifest_sha256_", base.training_manifest_sha256),
            training_patients_sha256=getattr(self, "training_patients_sha256_", base.training_patients_sha256))

    def record_training_data(self, data: TrainView) -> None:
        """Remember which training data was used (hashes only) for the card."""
        self.training_manifest_sha256_ = str(data.manifest_hash)
        ids = "\n".join(sorted(data.patient_ids)).encode()
        self.training_patients_sha256_ = hashlib.sha256(ids).hexdigest()

    def get_params(self) -> dict[str, Any]:
        """Constructor parameters by name (the generator's configuration)."""
        return {name: getattr(self, name) for name in _param_names(type(self))}

    def set_params(self, **params: Any) -> "GeneratorMixin":
        """Set constructor parameters; unknown names raise :class:`ConfigError`."""
        valid = _param_names(type(self))
        for key, value in params.items():
            if key not in valid:
                raise ConfigError(f"{type(self).__name__}: unknown parameter '{key}'; valid: {valid}")
            setattr(self, key, value)
        return self

    def clone(self) -> "GeneratorMixin":
        """An unfitted copy with the same parameters."""
        return type(self)(**self.get_params())

    def fitted_attributes(self) -> list[str]:
        """Names of learned attributes (ending in ``_``, not starting with ``_``)."""
        return sorted(k for k in vars(self) if k.endswith("_") and not k.startswith("_"))

    def state_dict(self) -> dict[str, Any]:
        """Learned state as tensors and plain data (safe for ``torch.load(weights_only=True)``)."""
        return {k: _to_saveable(getattr(self, k)) for k in self.fitted_attributes()}

    def load_state_dict(self, state: dict[str, Any]) -> "GeneratorMixin":
        """Restore learned state written by :meth:`state_dict`; returns ``self``."""
        for key, value in state.items():
            setattr(self, key, _from_saveable(value))
        return self


__all__ = ["GeneratorMixin"]
