"""Which comparison family is *the* primary test of an arm against the control.

Every comparison record carries its ``family`` (``patient_bootstrap`` | ``delong_conditional`` |
``seeds_as_readers``) and ``primary`` (true for the records of the primary family on the primary
metric). :func:`~mammobench.results.mark_primary` sets ``primary`` once, when the records are made (and
when a schema-1.0 result is loaded); the report's summary
verdict, the self-test trials and the leaderboard read the flag (:func:`primary_comparisons`) and
never the method's free text. The primary family of an arm is:

* AUC with ≥ 2 training seeds: OR–Hillis RRRC with seeds as random readers (statistics sheet B-1.4) —
  the only one that counts training randomness; the conditional tests (paired patient bootstrap,
  Obuchowski/DeLong on seed-averaged scores) treat the trained models as fixed and are far too
  liberal when arms differ only by chance (null false-positive rate 54.7 % vs 4.0 %, docs/statistics.md);
* AUC with one seed: paired DeLong (Obuchowski's clustered version with several images per patient);
* other metrics: the paired patient bootstrap.

Example:
    >>> from mammobench.results import mark_primary
    >>> comps = [{"arm": "a", "metric": "auc", "family": "patient_bootstrap"},
    ...          {"arm": "a", "metric": "auc", "family": "seeds_as_readers"}]
    >>> [c["family"] for c in primary_comparisons({"comparisons": mark_primary(comps, "auc")}, "a", "auc")]
    ['seeds_as_readers']
"""
from __future__ import annotations

__all__ = ["primary_comparisons"]


def primary_comparisons(result: dict, arm: str, primary: str) -> list[dict]:
    """The arm's primary-metric comparisons in its primary family (one multiplicity family)."""
    return [c for c in result.get("comparisons", []) if c.get("arm") == arm and c.get("metric") == primary
            and c.get("primary")]
