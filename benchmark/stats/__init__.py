"""Statistics primitives: DeLong, clustered AUC, patient bootstrap, multiplicity, metrics, fairness, FROC, OR–Hillis MRMC.

Each module holds one concept; see ``docs/statistics.md`` for the methods and their references.
The public names below are imported lazily (on first use), so ``import mammobench.stats`` stays
cheap; modules whose names start with ``_`` are private.

Example:
    >>> from mammobench.stats import delong_ci
    >>> ci = delong_ci([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> round(ci.auc, 2)
    0.75
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from mammobench._lazy import lazy_exports

#: public name → module that defines it
_EXPORTS = {
    "delong_ci": "mammobench.stats.delong",
    "paired_delong_test": "mammobench.stats.delong",
    "delong_auc_cov": "mammobench.stats.delong",
    "AucCI": "mammobench.stats.delong",
    "PairedTest": "mammobench.stats.delong",
    "clustered_auc_ci": "mammobench.stats.clustered_auc",
    "clustered_auc_cov": "mammobench.stats.clustered_auc",
    "paired_clustered_test": "mammobench.stats.clustered_auc",
    "PatientBootstrap": "mammobench.stats.bootstrap",
    "weighted_auc": "mammobench.stats.bootstrap",
    "percentile_ci": "mammobench.stats.bootstrap",
    "bootstrap_p_value": "mammobench.stats.bootstrap",
    "adjust_p_values": "mammobench.stats.multiplicity",
    "heterogeneity_wald": "mammobench.stats.multiplicity",
    "or_hillis": "mammobench.stats.obuchowski_rockette",
    "MRMCData": "mammobench.stats.mrmc",
    "clopper_pearson": "mammobench.stats.proportions",
    "roc_auc": "mammobench.stats.metrics",
    "sensitivity_at_specificity": "mammobench.stats.metrics",
    "ece": "mammobench.stats.metrics",
    "calibration_slope_intercept": "mammobench.stats.metrics",
    "equalized_odds_difference": "mammobench.stats.fairness",
    "group_rates": "mammobench.stats.fairness",
    "read_delimited": "mammobench.stats.delimited",
    "froc_curve": "mammobench.stats.froc",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from mammobench.stats.bootstrap import PatientBootstrap
    from mammobench.stats.clustered_auc import clustered_auc_ci, paired_clustered_test
    from mammobench.stats.delong import AucCI, PairedTest, delong_ci, paired_delong_test
    from mammobench.stats.froc import froc_curve
    from mammobench.stats.metrics import roc_auc, sensitivity_at_specificity
    from mammobench.stats.multiplicity import adjust_p_values
    from mammobench.stats.obuchowski_rockette import or_hillis
