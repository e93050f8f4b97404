"""Synthetic-data audits: fidelity, conditional adherence, memorisation, leakage, bias amplification.

:func:`run_audits` (Contract 5 in docs/architecture.md) runs them all; the domain encoder (the oracle shared
with the generator conformance suite) and local timm weights are the feature extractors. Names are imported
on first use, so importing the encoder does not pull in every audit.

Example:
    >>> from mammobench.audits import DEFAULT_CONFIG
    >>> DEFAULT_CONFIG["cas"]
    True
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from mammobench._lazy import lazy_exports

_EXPORTS = {
    "run_audits": "mammobench.audits.run",
    "DEFAULT_CONFIG": "mammobench.audits.run",
    "DomainEncoder": "mammobench.audits.encoder",
    "FeatureExtractor": "mammobench.audits.encoder",
    "train_domain_encoder": "mammobench.audits.encoder",
    "load_or_train_domain_encoder": "mammobench.audits.encoder",
    "load_timm_encoder": "mammobench.audits.timm_encoder",
}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from mammobench.audits.encoder import DomainEncoder, FeatureExtractor, load_or_train_domain_encoder, train_domain_encoder
    from mammobench.audits.run import DEFAULT_CONFIG, run_audits
    from mammobench.audits.timm_encoder import load_timm_encoder
