"""Planted (known-answer) generators for ``mammobench selftest``; see :mod:`mammobench.baselines.planted.generators`.

:func:`register` adds them to the generator registry lazily (``"module:Class"`` strings, nothing
imported until used). ``mammobench.generators`` calls it; calling it twice is harmless.

Example:
    >>> register()
    >>> from mammobench.registry import GENERATORS
    >>> "planted_null" in GENERATORS
    True
"""
from __future__ import annotations

PLANTED_GENERATORS: dict[str, str] = {
    "planted_helpful": "mammobench.baselines.planted.helpful:PlantedHelpful",
    "planted_missing_type": "mammobench.baselines.planted.helpful:PlantedMissingType",
    "planted_dense_lesions": "mammobench.baselines.planted.helpful:PlantedDenseLesions",
    "planted_harmful": "mammobench.baselines.planted.generators:PlantedHarmful",
    "planted_null": "mammobench.baselines.planted.generators:PlantedNull",
    "planted_memoriser": "mammobench.baselines.planted.generators:PlantedMemoriser",
    "planted_leaker": "mammobench.baselines.planted.generators:PlantedLeaker",
    "planted_biased": "mammobench.baselines.planted.generators:PlantedBiased",
    "planted_off_condition": "mammobench.baselines.planted.generators:PlantedOffCondition",
    "planted_off_location": "mammobench.baselines.planted.generators:PlantedOffLocation",
}


def register() -> None:
    """Register every planted generator under its ``planted_*`` name (idempotent)."""
    from mammobench.registry import GENERATORS

    for name, spec in PLANTED_GENERATORS.items():
        if name not in GENERATORS:
            GENERATORS.register(name, spec)


__all__ = ["PLANTED_GENERATORS", "register"]
