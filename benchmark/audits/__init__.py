"""Synthetic-data audits: fidelity, conditional adherence, memorisation, leakage, bias amplification.

``run_audits`` (Contract 5 in docs/architecture.md) is imported lazily so that importing the
encoder (used by the generator conformance suite) does not pull in every audit.

Example:
    >>> from mammobench.audits import run_audits  # doctest: +SKIP
"""
from __future__ import annotations

from typing import Any

__all__ = ["run_audits"]


def __getattr__(name: str) -> Any:
    if name == "run_audits":
        from mammobench.audits.run import run_audits

        return run_audits
    raise AttributeError(f"module 'mammobench.audits' has no attribute {name!r}")
