"""Subgroup fairness summaries (``reference/statistics.md`` B-3).

* worst-group AUC = min_g AUC_g; AUC gap = max_g AUC_g − min_g AUC_g;
* TPR gap = max_g TPR_g − min_g TPR_g, FPR gap likewise, at ONE global threshold τ;
* equalized-odds difference = max(TPR gap, FPR gap) (fairlearn ``agg='worst_case'``) or their mean
  (``agg='mean'``, "average odds").

A group without positives has no TPR, one without negatives no FPR. We leave such a group out of
that gap and flag it (``status`` ``"undefined (no positives)"`` / ``"undefined (no negatives)"`` in
:func:`group_rates`; the evaluation records list it under ``groups_excluded`` with the reason).
fairlearn does **not** do this: its ``true_positive_rate``/``false_positive_rate`` return 0 for such a
group (a 0/0 read as 0), so ``fairlearn.metrics.equalized_odds_difference`` can report a gap that comes
from a group that has no cancers at all. Where every group has both classes the two agree exactly
(``tests/stats/test_fairness.py``).

Example:
    >>> equalized_odds_difference([1, 0, 1, 0], [1, 0, 0, 1], ["a", "a", "b", "b"])
    1.0
"""
from __future__ import annotations

from typing import Any

import numpy as np

from mammobench.errors import StatisticsError
from mammobench.stats._checks import as_binary_labels
from mammobench.stats.metrics import roc_auc


def rate_status(n_pos: int, n_neg: int) -> str:
    """``"ok"``, ``"undefined (no positives)"``, ``"undefined (no negatives)"`` or ``"undefined (empty)"``.

    Example:
        >>> rate_status(0, 12)
        'undefined (no positives)'
    """
    if n_pos == 0 and n_neg == 0:
        return "undefined (empty)"
    if n_pos == 0:
        return "undefined (no positives)"
    if n_neg == 0:
        return "undefined (no negatives)"
    return "ok"


def group_rates(y_true: Any, y_pred: Any, groups: Any) -> dict[str, dict[str, Any]]:
    """Per group: ``n``, ``n_pos``, ``tpr``, ``fpr`` of 0/1 predictions (NaN where undefined) and ``status``.

    Example:
        >>> group_rates([1, 0], [1, 1], ["a", "a"])["a"]["fpr"]
        1.0
        >>> group_rates([0, 0], [1, 0], ["b", "b"])["b"]["status"]
        'undefined (no positives)'
    """
    y = as_binary_labels(y_true)
    p = as_binary_labels(y_pred, name="y_pred")
    g = np.asarray(groups).astype(str)
    if not (y.size == p.size == g.size):
        raise StatisticsError(f"y_true, y_pred and groups differ in length: {y.size}, {p.size}, {g.size}")
    out: dict[str, dict[str, float]] = {}
    for name in sorted(set(g.tolist())):
        sel = g == name
        pos, neg = y & sel, ~y & sel
        out[name] = {"n": int(sel.sum()), "n_pos": int(pos.sum()),
                     "tpr": float(p[pos].mean()) if pos.any() else float("nan"),
                     "fpr": float(p[neg].mean()) if neg.any() else float("nan"),
                     "status": rate_status(int(pos.sum()), int(neg.sum()))}
    return out


def _spread(values: list[float]) -> float:
    finite = [v for v in values if np.isfinite(v)]
    return float(max(finite) - min(finite)) if len(finite) >= 2 else float("nan")


def equalized_odds_difference(y_true: Any, y_pred: Any, groups: Any, agg: str = "worst_case") -> float:
    """max(TPR gap, FPR gap) between groups (``agg='worst_case'``) or their mean (``agg='mean'``).

    Each gap is taken over the groups where that rate is defined (see the module docstring).

    Example:
        >>> equalized_odds_difference([1, 0, 1, 0], [1, 0, 1, 1], ["a", "a", "b", "b"], agg="mean")
        0.5
    """
    rates = group_rates(y_true, y_pred, groups)
    tpr_gap = _spread([r["tpr"] for r in rates.values()])
    fpr_gap = _spread([r["fpr"] for r in rates.values()])
    if agg == "worst_case":
        return float(max(tpr_gap, fpr_gap))
    if agg == "mean":
        return float((tpr_gap + fpr_gap) / 2)
    raise StatisticsError(f"agg {agg!r} unknown; use 'worst_case' or 'mean'")


def auc_by_group(y_true: Any, y_score: Any, groups: Any) -> dict[str, float]:
    """ROC AUC per group; NaN for a group without both classes.

    Example:
        >>> auc_by_group([0, 1, 0, 1, 1], [.1, .9, .8, .2, .5], ["a", "a", "b", "b", "c"])
        {'a': 1.0, 'b': 0.0, 'c': nan}
    """
    y = as_binary_labels(y_true)
    s = np.asarray(y_score, dtype=float)
    g = np.asarray(groups).astype(str)
    out = {}
    for name in sorted(set(g.tolist())):
        sel = g == name
        try:
            out[name] = roc_auc(y[sel], s[sel])
        except StatisticsError:
            out[name] = float("nan")
    return out


def worst_group(values: dict[str, float]) -> tuple[str | None, float]:
    """(group, value) of the lowest finite value; (None, NaN) when none.

    Example:
        >>> worst_group({"a": 0.8, "b": 0.7, "c": float("nan")})
        ('b', 0.7)
    """
    finite = {k: v for k, v in values.items() if np.isfinite(v)}
    if not finite:
        return None, float("nan")
    name = min(finite, key=finite.get)
    return name, float(finite[name])


def gap(values: dict[str, float]) -> float:
    """max − min of the finite values (NaN with fewer than two).

    Example:
        >>> round(gap({"a": 0.8, "b": 0.7}), 3)
        0.1
    """
    return _spread(list(values.values()))
