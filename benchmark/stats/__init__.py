"""Statistics primitives: DeLong, clustered AUC, patient bootstrap, multiplicity, metrics, fairness, OR–Hillis MRMC.

Each module holds one concept; see ``docs/statistics.md`` for the methods and their references.
The public names below are imported lazily (on first use), so ``import mammobench.stats`` stays
cheap; modules whose names start with ``_`` are private.

Example:
    >>> from mammobench.stats import delong_ci
    >>> round(delong_ci([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]).auc, 2)
    0.75
"""
from __future__ import annotations

import importlib
from typing import Any

#: public name → module that defines it
_EXPORTS = {
    "delong_ci": "delong", "paired_delong_test": "delong", "delong_auc_cov": "delong", "AucCI": "delong",
    "PairedTest": "delong",
    "clustered_auc_ci": "clustered_auc", "clustered_auc_cov": "clustered_auc", "paired_clustered_test": "clustered_auc",
    "PatientBootstrap": "bootstrap", "weighted_auc": "bootstrap", "percentile_ci": "bootstrap",
    "bootstrap_p_value": "bootstrap",
    "adjust_p_values": "multiplicity", "heterogeneity_wald": "multiplicity",
    "or_hillis": "or_hillis", "MRMCData": "mrmc",
    "clopper_pearson": "proportions",
    "roc_auc": "metrics", "sensitivity_at_specificity": "metrics", "ece": "metrics",
    "calibration_slope_intercept": "metrics",
    "equalized_odds_difference": "fairness", "group_rates": "fairness",
    "read_delimited": "delimited",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
