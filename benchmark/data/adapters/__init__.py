"""Dataset adapters (one module per dataset), registered lazily in :data:`benchmark.registry.ADAPTERS`.

Call :func:`register_builtin` (idempotent; :mod:`benchmark.data.ingest` does) before looking names up.

Example:
    >>> register_builtin()
    >>> from benchmark.registry import ADAPTERS
    >>> "vindr" in ADAPTERS and "virtual_cohort" in ADAPTERS
    True
"""
from __future__ import annotations

from benchmark.registry import ADAPTERS

BUILTIN_ADAPTERS: dict[str, str] = {
    "vindr": "benchmark.data.adapters.vindr:VinDrAdapter",
    "virtual_cohort": "benchmark.data.adapters.virtual_cohort:VirtualCohortAdapter",
    "cbis_ddsm": "benchmark.data.adapters.cbis_ddsm:CBISDDSMAdapter",
    "rsna": "benchmark.data.adapters.rsna:RSNAAdapter",
    "cmmd": "benchmark.data.adapters.cmmd:CMMDAdapter",
    "inbreast": "benchmark.data.adapters.inbreast:INbreastAdapter",
    "embed": "benchmark.data.adapters.embed:EMBEDAdapter",
    "csaw_cc": "benchmark.data.adapters.csaw_cc:CSAWCCAdapter",
    "manifest": "benchmark.data.adapters.generic:ManifestAdapter",
}


def register_builtin() -> None:
    """Register the built-in adapters (lazy ``module:Class`` strings) once."""
    for name, spec in BUILTIN_ADAPTERS.items():
        if name not in ADAPTERS:
            ADAPTERS.register(name, spec)


register_builtin()
