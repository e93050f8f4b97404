"""Planted (known-answer) generators for ``mammobench selftest``; see :mod:`baselines.planted.generators`.

:func:`register` adds them to the generator registry lazily (``"module:Class"`` strings, nothing
imported until used). ``benchmark.generators`` calls it; calling it twice is harmless.

Example:
    >>> register()
    >>> from benchmark.registry import GENERATORS
    >>> "planted_null" in GENERATORS
    True
"""
from __future__ import annotations

PLANTED_GENERATORS: dict[str, str] = {
    "planted_helpful": "baselines.planted.helpful:PlantedHelpful",
    "planted_harmful": "baselines.planted.generators:PlantedHarmful",
    "planted_null": "baselines.planted.generators:PlantedNull",
    "planted_memoriser": "baselines.planted.generators:PlantedMemoriser",
    "planted_leaker": "baselines.planted.generators:PlantedLeaker",
    "planted_biased": "baselines.planted.generators:PlantedBiased",
    "planted_off_condition": "baselines.planted.generators:PlantedOffCondition",
}


def register() -> None:
    """Register every planted generator under its ``planted_*`` name (idempotent)."""
    from benchmark.registry import GENERATORS

    for name, spec in PLANTED_GENERATORS.items():
        if name not in GENERATORS:
            GENERATORS.register(name, spec)


__all__ = ["PLANTED_GENERATORS", "register"]
