"""The null trial's false-positive rate over repeated runs, with an exact (Clopper–Pearson) CI.

Each repeat is a full pipeline run of the control arm and ``planted_null`` (exact duplicates of
training cases) with its own training seeds and sampling seed on the shared cohort and image
cache. A repeat is a false positive when any primary-metric comparison of the null arm is
significant at the corrected level (the same rule as the ``null`` trial). The FPR is judged "at
or below nominal within its CI" when the exact CI's lower bound does not exceed ``alpha``.

Example:
    >>> summarise_null_fpr([False] * 19 + [True], alpha=0.05)["observed"]
    'FPR 1/20 = 0.050 (95% CI 0.001–0.249)'
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

from scipy import stats

logger = logging.getLogger(__name__)


def clopper_pearson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Exact binomial CI of ``k / n`` (scipy's ``binomtest(...).proportion_ci(method='exact')``).

    Example:
        >>> [round(v, 4) for v in clopper_pearson(0, 20)]
        [0.0, 0.1684]
    """
    if n <= 0:
        return float("nan"), float("nan")
    ci = stats.binomtest(int(k), int(n)).proportion_ci(confidence_level=confidence, method="exact")
    return float(ci.low), float(ci.high)


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


def run_null_repeats(repeats: int = 20, *, profile: str = "smoke", out: str | os.PathLike = "runs/selftest/null",
                     execution=None) -> dict:
    """Run the null trial ``repeats`` times (seeds differ per repeat) and return the FPR record.

    Raises:
        ConfigError: ``repeats`` < 1 or an unknown profile.
    """
    from mammobench.errors import ConfigError
    from mammobench.pipeline.runner import run_task
    from mammobench.pipeline.spec import plan_run
    from mammobench.results import load_result
    from mammobench.selftest.runner import _register, _trial_execution, selftest_task
    from mammobench.selftest.trials import TRIALS

    if repeats < 1:
        raise ConfigError(f"--null-repeats must be >= 1, got {repeats}")
    _register()
    flags, runs, alpha = [], [], 0.05
    for r in range(repeats):
        task = selftest_task(seeds=[1000 + 2 * r, 1001 + 2 * r], sample_seed=5000 + r)
        alpha = float(task.analysis.alpha)
        spec = plan_run(task, profile, out=Path(out) / f"repeat{r:03d}", generators=["planted_null"],
                        execution=_trial_execution(execution, True))
        run_dir = run_task(spec)
        verdict, evidence = TRIALS["null"].observe(load_result(run_dir / "result.json"), task.metrics.primary)
        flags.append(verdict != "no significant effect")
        runs.append(str(run_dir))
        logger.info(f"null repeat {r + 1}/{repeats}: {verdict} (min p_adjusted {evidence['min_p_adjusted']:.3g})")
    return summarise_null_fpr(flags, alpha=alpha, runs=runs)
