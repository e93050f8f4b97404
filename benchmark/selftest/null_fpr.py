"""The null trial's false-positive rate over repeated runs, with an exact (Clopper–Pearson) CI.

The repeats are run by :func:`mammobench.selftest.repeats.run_comparison_repeats` (each a full
comparison run with its own training seeds and sampling seed on the shared cohort and image cache).
A repeat is a false positive when any primary-metric comparison of the null arm is significant at the
corrected level (the same rule as the ``null`` trial). The FPR is judged "at or below nominal within
its CI" when the exact CI's lower bound does not exceed ``alpha``.

Example:
    >>> summarise_null_fpr([False] * 19 + [True], alpha=0.05)["observed"]
    'FPR 1/20 = 0.050 (95% CI 0.001–0.249)'
"""
from __future__ import annotations

from mammobench.stats.proportions import clopper_pearson


def summarise_null_fpr(false_positives: list[bool], *, alpha: float, runs: list[str] | None = None) -> dict:
    """The ``selftest`` record of the repeated null trial."""
    k, n = int(sum(bool(x) for x in false_positives)), len(false_positives)
    low, high = clopper_pearson(k, n)
    agree = bool(n > 0 and low <= alpha)
    return {"trial": "null_fpr", "generator": "planted_null", "check": "false-positive rate over repeated runs",
            "expected": f"FPR ≤ {alpha:g} within its CI",
            "observed": f"FPR {k}/{n} = {k / max(n, 1):.3f} (95% CI {low:.3f}–{high:.3f})", "agree": agree,
            "evidence": {"k": k, "n": n, "fpr": k / n if n else float("nan"), "ci_low": low, "ci_high": high,
                         "alpha": alpha, "ci_method": "Clopper-Pearson exact", "per_run": list(map(bool, false_positives)),
                         "runs": runs or []}}
