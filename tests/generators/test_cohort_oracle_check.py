"""The oracle check on its default domain (the check cohort): every built-in baseline passes, an ignorer fails.

Slow (builds the 480-patient check cohort and its oracle once per machine, then samples the sized n ≈ 6,400
images per generator): ``pytest -m slow tests/generators/test_cohort_oracle_check.py``. Each assertion
carries its margin in null standard deviations √(n·p0·(1 − p0)) ≈ 40 hits, measured on the development
machine (docs/generators.md, "The statistical check"), so a move of a few oracle calls on another CPU cannot
flip it.
"""
from __future__ import annotations

import numpy as np
import pytest

from mammobench.baselines.classic.generator import ClassicAugmentation
from mammobench.generators.statistical_checks import check_conditions_recognised_by_oracle
from mammobench.generators.check_context import CheckContext
from mammobench.testing import check_generator, run_check

pytestmark = pytest.mark.slow
CHECK = check_conditions_recognised_by_oracle.__name__


class ShuffledClassic(ClassicAugmentation):
    """The planted ignorer on the cohort domain: classic's images for a shuffled copy of the request, labelled
    with what was asked (its images do not depend on the request)."""

    def sample(self, n, *, conditions=None, seed):
        if conditions is None:
            return super().sample(n, conditions=None, seed=seed)
        asked = conditions.reset_index(drop=True)
        shown = asked.iloc[np.random.default_rng(seed).permutation(len(asked))].reset_index(drop=True)
        batch = super().sample(n, conditions=shown, seed=seed)
        for col in asked.columns:
            batch.labels[col] = asked[col].astype(str).to_numpy()
        return batch


def _oracle_result(gen):
    return next(r for r in check_generator(gen, checks=[check_conditions_recognised_by_oracle]) if r.name == CHECK)


def _null_sd(design: dict) -> float:
    return float(np.sqrt(design["n"] * design["p0"] * (1 - design["p0"])))


@pytest.mark.parametrize("name, min_sd", [("classic", 10), ("physics", 10), ("ddpm", 5), ("cgan", 2)])
def test_builtin_baseline_passes_on_the_cohort_domain(name, min_sd):
    result = _oracle_result(name)
    assert result.status == "pass", result.reason
    d = result.evidence
    assert d["reached"] and d["power"] >= 0.99 and d["size"] <= 0.01, d
    # seen (hits − critical in null SDs): classic 17.7, physics 19.7, ddpm 9.8, cgan 4.2 (docs/generators.md)
    assert d["hits"] - d["critical"] >= min_sd * _null_sd(d), d


def test_planted_ignorer_fails_on_the_cohort_domain():
    # at α = 0.001 an ignorer fails with probability 1 − size ≥ 0.999 by construction (its hits are a chance
    # draw, so no margin can be promised for one draw: the design's size is the guarantee)
    ctx = CheckContext(alpha=0.001, max_oracle_n=20000)
    try:
        result = run_check(check_conditions_recognised_by_oracle, ShuffledClassic(), ctx)
    finally:
        ctx.close()
    assert result.status == "fail", result.reason
    d = result.evidence
    assert d["reached"] and d["power"] >= 0.99 and 1 - d["size"] >= 0.999, d
    assert abs(d["hits"] / d["n"] - d["p0"]) < 5 * _null_sd(d) / d["n"], d  # at chance (5 SD: P(miss) < 1e-6)
