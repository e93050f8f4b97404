"""Statistics primitives: DeLong, clustered AUC, patient bootstrap, multiplicity, metrics, fairness, FROC, MRMC.

Each module holds one concept; see ``docs/statistics.md`` for the methods and their references. Names are
imported on first use.

Example:
    >>> from mammobench.stats import delong_ci
    >>> ci = delong_ci([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> round(ci.auc, 2)
    0.75
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from mammobench._lazy import lazy_exports

_EXPORTS = {
    "delong_ci": "mammobench.stats.delong",
    "paired_delong_test": "mammobench.stats.delong",
    "AucCI": "mammobench.stats.delong",
    "PairedTest": "mammobench.stats.delong",
    "clustered_auc_ci": "mammobench.stats.clustered_auc",
    "paired_clustered_test": "mammobench.stats.clustered_auc",
    "PatientBootstrap": "mammobench.stats.bootstrap",
    "adjust_p_values": "mammobench.stats.multiplicity",
    "roc_auc": "mammobench.stats.metrics",
    "sensitivity_at_specificity": "mammobench.stats.metrics",
    "froc_curve": "mammobench.stats.froc",
    "or_hillis": "mammobench.reader.analysis.mrmc",
}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from mammobench.reader.analysis.mrmc import or_hillis
    from mammobench.stats.bootstrap import PatientBootstrap
    from mammobench.stats.clustered_auc import clustered_auc_ci, paired_clustered_test
    from mammobench.stats.delong import AucCI, PairedTest, delong_ci, paired_delong_test
    from mammobench.stats.froc import froc_curve
    from mammobench.stats.metrics import roc_auc, sensitivity_at_specificity
    from mammobench.stats.multiplicity import adjust_p_values
