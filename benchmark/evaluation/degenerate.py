"""Degenerate inputs in the evaluation layer: said out loud, never a zero-width interval.

* :func:`bootstrap_ci` — a percentile CI, or NaN bounds and a ``ci_note`` when it cannot be
  estimated: no finite replicate, or every replicate equal (constant scores, or two arms with the
  same ranking), which would otherwise print as ``[0.5000, 0.5000]``.
* :func:`degenerate_warnings` — one line per problem found on the test cases: an arm × seed whose
  scores are all equal, subgroups with fewer than ``min_group_size`` positives or negatives (their
  value is reported without a CI, status ``insufficient_n``), subgroups missing a class (status
  ``undefined``). :func:`log_warnings` sends them to this module's logger, so the CLI shows them.

Example:
    >>> bootstrap_ci(np.full(200, 0.5), 0.05)
    ((nan, nan), 'not estimable: every bootstrap replicate equals 0.5 (constant scores?)')
    >>> (low, high), note = bootstrap_ci(np.linspace(0, 1, 101), 0.1)
    >>> round(low, 3), round(high, 3), note
    (0.05, 0.95, '')
"""
from __future__ import annotations

import logging
from typing import Any

import numpy as np

from mammobench.stats.bootstrap import percentile_ci

log = logging.getLogger(__name__)
NAN2 = (float("nan"), float("nan"))


def bootstrap_ci(replicates: Any, alpha: float) -> tuple[tuple[float, float], str]:
    """Percentile CI of the replicates, or (NaN, NaN) with the reason it cannot be estimated."""
    r = np.asarray(replicates, dtype=float)
    r = r[np.isfinite(r)]
    if r.size == 0:
        return NAN2, "not estimable: no bootstrap replicate has both classes"
    if np.ptp(r) == 0:
        return NAN2, f"not estimable: every bootstrap replicate equals {r[0]:.6g} (constant scores?)"
    return percentile_ci(r, alpha), ""


def constant_score_cells(cube: Any) -> list[tuple[str, Any]]:
    """(arm, seed) pairs whose test scores are all equal.

    Example:
        >>> class Cube: arms, seeds, scores = ["a"], {"a": [0, 1]}, {"a": np.array([[.5, .5], [.1, .9]])}
        >>> constant_score_cells(Cube)
        [('a', 0)]
    """
    return [(arm, seed) for arm in cube.arms for seed, row in zip(cube.seeds[arm], cube.scores[arm])
            if row.size and np.ptp(row) == 0]


def degenerate_warnings(cube: Any, metrics: list[dict], min_group_size: int) -> list[str]:
    """Human-readable warnings about the test data (see the module docstring)."""
    out = [f"arm {arm!r} seed {seed}: every test score is the same; its AUC is 0.5 by ties and its CIs are "
           "not estimable" for arm, seed in constant_score_cells(cube)]
    groups = {(r["attribute"], r["group"]): r for r in metrics if r.get("seed") is None and r["attribute"]}
    for status, what in (("insufficient_n", f"fewer than {min_group_size} positives or negatives (value shown "
                                            "without a CI)"),
                         ("undefined", "no positives or no negatives (metric undefined)")):
        names = [f"{a}={g} (n={r['n']}, n_pos={r['n_pos']})" for (a, g), r in groups.items() if r["status"] == status]
        if names:
            out.append(f"{len(names)} subgroup(s) with {what}: {', '.join(names)}")
    return out


def log_warnings(lines: list[str]) -> None:
    """Send each warning to this module's logger (the CLI prints warnings)."""
    for line in lines:
        log.warning("evaluation: %s", line)
