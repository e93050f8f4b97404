"""Which comparison family is *the* primary test of an arm against the control.

``result.json["comparisons"]`` holds several paired methods per (arm, group). The primary family,
used by the report's summary verdict and by the self-test trials alike, is:

* AUC or the detection wAFROC FOM with ≥ 2 training seeds: OR–Hillis RRRC with seeds as random readers (statistics sheet B-1.4) —
  the only one that counts training randomness; the conditional tests (paired patient bootstrap,
  Obuchowski/DeLong on seed-averaged scores) treat the trained models as fixed and are far too
  liberal when arms differ only by chance (null false-positive rate 54.7 % vs 4.0 %, docs/statistics.md);
* AUC with one seed: paired DeLong;
* other metrics: the paired patient bootstrap.

Example:
    >>> comps = [{"arm": "a", "metric": "auc", "method": "paired patient bootstrap (seed-averaged metric)"},
    ...          {"arm": "a", "metric": "auc", "method": "OR-Hillis RRRC (training seeds as random readers, ...)"}]
    >>> [c["method"][:9] for c in primary_comparisons({"comparisons": comps}, "a", "auc")]
    ['OR-Hillis']
"""
from __future__ import annotations


def primary_comparisons(result: dict, arm: str, primary: str) -> list[dict]:
    """The arm's primary-metric comparisons in the primary family (one multiplicity family)."""
    comps = [c for c in result.get("comparisons", []) if c.get("arm") == arm and c.get("metric") == primary]
    seeds = [c for c in comps if "random readers" in str(c.get("method", ""))]
    if primary in ("auc", "wafroc") and seeds:  # wAFROC: the same OR-Hillis design (evaluation/detection_compare.py)
        return seeds
    delong = [c for c in comps if "DeLong" in str(c.get("method", ""))]
    return delong if primary == "auc" and delong else [c for c in comps if "bootstrap" in str(c.get("method", ""))]
