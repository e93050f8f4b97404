"""Null experiment: two arms with identically distributed predictions, many repetitions.

Each trial draws a fresh fixture (:func:`make_predictions` with no arm effect), runs the paired
DeLong test of augmented − control on the overall test set and on every density group, adjusts the
family with Holm (or BH) and records whether any adjusted p < α. The fraction of trials with a
rejection estimates the family-wise error rate (should be ≤ α, close to it); the per-test
unadjusted rejection rate should be close to α.

Example:
    >>> r = null_rejection_rate(3, n_patients=120)
    >>> r["n_trials"]
    3
"""
from __future__ import annotations

import numpy as np

from mammobench.evaluation.fixtures import make_predictions
from mammobench.evaluation.table import align_split, validate_predictions
from mammobench.stats.delong import paired_delong_test
from mammobench.stats.multiplicity import adjust_p_values


def _trial_p_values(seed: int, n_patients: int) -> list[float]:
    df = validate_predictions(make_predictions(n_patients, seeds=(0, 1), seed=seed, density_gap=0.0))
    cube = align_split(df, "test")
    groups = [np.ones(len(cube.cases), bool)]
    groups += [cube.cases["density"].to_numpy() == d for d in ("b", "c")]
    p_values = []
    for mask in groups:
        y = cube.y[mask]
        a = cube.scores["augmented"][:, mask].mean(axis=0)
        c = cube.scores["real_only"][:, mask].mean(axis=0)
        p_values.append(paired_delong_test(y, a, c).p_value)
    return p_values


def null_rejection_rate(n_trials: int, *, n_patients: int = 300, alpha: float = 0.05,
                        method: str = "holm", seed: int = 0) -> dict:
    """Family-wise rejection rate after correction, and raw per-test rejection rate, under the null.

    Returns:
        ``{n_trials, alpha, method, family_size, familywise_rate, per_test_rate}``.
    """
    any_reject, raw = [], []
    for t in range(n_trials):
        p = np.asarray(_trial_p_values(seed + t, n_patients))
        any_reject.append(bool((adjust_p_values(p, method) < alpha).any()))
        raw.extend((p < alpha).tolist())
    return {"n_trials": n_trials, "alpha": alpha, "method": method, "family_size": 3,
            "familywise_rate": float(np.mean(any_reject)), "per_test_rate": float(np.mean(raw))}
