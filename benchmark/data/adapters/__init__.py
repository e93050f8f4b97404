"""Dataset adapters (one module per dataset), registered lazily in :data:`mammobench.registry.ADAPTERS`.

Call :func:`register_builtin` (idempotent; :mod:`mammobench.data.ingest` does) before looking names up.

Example:
    >>> register_builtin()
    >>> from mammobench.registry import ADAPTERS
    >>> "vindr" in ADAPTERS and "virtual_cohort" in ADAPTERS
    True
"""
from __future__ import annotations

from mammobench.registry import ADAPTERS

BUILTIN_ADAPTERS: dict[str, str] = {
    "vindr": "mammobench.data.adapters.vindr:VinDrAdapter",
    "virtual_cohort": "mammobench.data.adapters.virtual_cohort:VirtualCohortAdapter",
    "cbis_ddsm": "mammobench.data.adapters.cbis_ddsm:CBISDDSMAdapter",
    "rsna": "mammobench.data.adapters.rsna:RSNAAdapter",
    "cmmd": "mammobench.data.adapters.cmmd:CMMDAdapter",
    "inbreast": "mammobench.data.adapters.inbreast:INbreastAdapter",
    "embed": "mammobench.data.adapters.embed:EMBEDAdapter",
    "csaw_cc": "mammobench.data.adapters.csaw_cc:CSAWCCAdapter",
    "manifest": "mammobench.data.adapters.generic:ManifestAdapter",
}


def register_builtin() -> None:
    """Register the built-in adapters (lazy ``module:Class`` strings) once."""
    for name, spec in BUILTIN_ADAPTERS.items():
        if name not in ADAPTERS:
            ADAPTERS.register(name, spec)


register_builtin()

__all__ = ["BUILTIN_ADAPTERS", "register_builtin"]
