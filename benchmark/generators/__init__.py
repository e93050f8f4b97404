"""Generator helpers: built-in registration, lookup, fit cache, insertion, figures, fixtures.

The built-in reference generators live in ``baselines/<name>/generator.py`` and are registered
here lazily as ``"module:Class"`` strings, so importing this package imports no torch model.
Third-party generators register through the entry-point group ``mammobench.generators``; ad-hoc
code is named as ``package.module:Class``.

Example:
    >>> gen = get_generator("none")
    >>> gen.tags.adds_samples
    False
    >>> try:
    ...     get_generator("ddmp")
    ... except Exception as err:
    ...     print("Did you mean 'ddpm'?" in str(err))
    True
"""
from __future__ import annotations

from typing import Any

from mammobench.errors import ConfigError, RegistryError
from mammobench.registry import GENERATORS

BUILTIN_GENERATORS: dict[str, str] = {
    "none": "mammobench.baselines.none.generator:NoneGenerator",
    "classic": "mammobench.baselines.classic.generator:ClassicAugmentation",
    "physics": "mammobench.baselines.physics.generator:PhysicsGenerator",
    "cgan": "mammobench.baselines.cgan.generator:ConditionalGAN",
    "ddpm": "mammobench.baselines.ddpm.generator:ConditionalDDPM",
    "folder": "mammobench.baselines.folder.generator:FolderGenerator",
}

for _name, _spec in BUILTIN_GENERATORS.items():
    if _name not in GENERATORS:
        GENERATORS.register(_name, _spec)


def generator_class(name_or_spec: str) -> type:
    """Resolve a registered name, an entry-point name or ``package.module:Class`` to a class.

    Raises:
        RegistryError: unknown name (with "Did you mean") or an import failure naming the spec.

    Example:
        >>> generator_class("none").__name__
        'NoneGenerator'
    """
    obj = GENERATORS.get(name_or_spec)
    if not isinstance(obj, type):
        raise RegistryError(f"generator '{name_or_spec}' resolves to {obj!r}, which is not a class")
    return obj


def get_generator(name_or_spec: str, **params: Any) -> Any:
    """Build an (unfitted) generator by name or ``package.module:Class`` with keyword parameters.

    Raises:
        RegistryError: unknown generator.
        ConfigError: a parameter the generator's constructor does not accept.

    Example:
        >>> get_generator("classic", flip=False).get_params()["flip"]
        False
    """
    cls = generator_class(name_or_spec)
    try:
        return cls(**params)
    except TypeError as err:
        raise ConfigError(f"generator '{name_or_spec}': bad parameters {sorted(params)} ({err})") from err


def spec_of(generator: Any) -> str:
    """The ``module:Class`` spec that rebuilds ``generator``'s class (used by the fit cache)."""
    cls = type(generator)
    return f"{cls.__module__}:{cls.__qualname__}"


__all__ = ["BUILTIN_GENERATORS", "generator_class", "get_generator", "spec_of"]
