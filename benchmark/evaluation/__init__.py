"""Evaluation layer: predictions table → tidy metric, comparison, fairness and interaction records.

Example:
    >>> from mammobench.evaluation import evaluate_run
    >>> callable(evaluate_run)
    True
"""
from __future__ import annotations

from mammobench.evaluation.evaluate import evaluate_run

__all__ = ["evaluate_run"]
