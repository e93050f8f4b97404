"""Detection rates of the comparison trials over repeated runs, with exact (Clopper–Pearson) CIs.

The self-test's claim "the harness finds the planted gain" is a claim about a *rate*: a trial designed
for power ≥ 0.99 must find its planted effect in (almost) every repeat, on any machine. This module
measures that rate instead of assuming it. Each repeat is one full comparison run of the self-test
(control + ``planted_missing_type`` + ``planted_harmful`` + ``planted_null``, the self-test's own task and
cohort) with its own training seeds and generator sampling seed, at a chosen torch thread count; each
trial's verdict is read exactly as ``mammobench selftest`` reads it. The summary row of a trial
reports ``k/n`` agreeing repeats with the exact 95 % CI; for ``null`` the complement is its
false-positive rate.

Repeat ``r`` uses training seeds ``100·(r+1) + 0 … S−1`` and sampling seed ``7000 + r``: disjoint from
the default self-test's seeds (0, 1, 2 / 1234), so the measurement does not re-use the run it judges.

Example:
    >>> row = summarise_rate("helpful", [True] * 9 + [False], expected="gain")
    >>> row["observed"]
    'agreed 9/10 = 0.900 (95% CI 0.555–0.997)'
"""
from __future__ import annotations

import logging
import os
from dataclasses import replace
from pathlib import Path
from typing import Sequence

from mammobench.stats.proportions import clopper_pearson
from mammobench.workers import default_workers, usable_cpus

logger = logging.getLogger(__name__)

COMPARISON_TRIALS = ("helpful", "harmful", "null")


def comparison_trials(task_name: str = "vc_lesion") -> list[str]:
    """The task's comparison trials (``kind == "comparison"``), in its table's order.

    Example:
        >>> comparison_trials(), comparison_trials("vc_lesion_detect")
        (['helpful', 'harmful', 'null'], ['dense_helpful', 'detect_harmful'])
    """
    from mammobench.selftest.trial_sets import trials_for

    return [name for name, t in trials_for(task_name).items() if t.kind == "comparison"]


def repeat_seeds(repeat: int, n_seeds: int) -> tuple[list[int], int]:
    """Training seeds and sampling seed of repeat ``repeat`` (0-based).

    Example:
        >>> repeat_seeds(0, 3), repeat_seeds(4, 2)
        (([100, 101, 102], 7000), ([500, 501], 7004))
    """
    return [100 * (repeat + 1) + k for k in range(n_seeds)], 7000 + repeat


def summarise_rate(trial: str, agreed: Sequence[bool], *, expected: str, runs: Sequence[str] = (),
                   threads: Sequence[int] = ()) -> dict:
    """The ``selftest`` record of one trial's agreement rate over repeats (exact binomial CI).

    Example:
        >>> summarise_rate("null", [True] * 20, expected="no significant effect")["evidence"]["ci_low"] > 0.83
        True
    """
    from mammobench.selftest.trial_sets import TRIAL_SETS

    k, n = int(sum(bool(a) for a in agreed)), len(agreed)
    low, high = clopper_pearson(k, n)
    known = {name: t for trials in TRIAL_SETS.values() for name, t in trials.items()}
    return {"trial": f"{trial}_rate", "generator": known[trial].generator if trial in known else f"planted_{trial}",
            "check": f"{trial} trial over repeated runs",
            "expected": f"{expected} in every repeat (design power ≥ 0.99)",
            "observed": f"agreed {k}/{n} = {k / max(n, 1):.3f} (95% CI {low:.3f}–{high:.3f})",
            "agree": bool(n > 0 and k / n >= 0.9),
            "evidence": {"k": k, "n": n, "rate": k / n if n else float("nan"), "ci_low": low, "ci_high": high,
                         "ci_method": "Clopper-Pearson exact", "per_run": list(map(bool, agreed)),
                         "threads": list(threads), "runs": list(runs)}}


def _one_repeat(repeat: int, *, profile: str, out: Path, execution, n_seeds: int, threads: int,
                trials: Sequence[str], task_name: str) -> dict:
    from mammobench.pipeline.runner import run_task
    from mammobench.pipeline.spec import plan_run
    from mammobench.results import load_result
    from mammobench.selftest.runner import _trial_execution, comparison_ratios, selftest_task
    from mammobench.selftest.trial_sets import trials_for

    known = trials_for(task_name)
    seeds, sample_seed = repeat_seeds(repeat, n_seeds)
    task = selftest_task(task_name, seeds=seeds, sample_seed=sample_seed, profile=profile)
    generators = [known[t].generator for t in trials]
    workers = default_workers(limit=usable_cpus() // threads)
    run_exec = replace(_trial_execution(execution), threads=threads, workers=workers)
    run_dir = run_task(plan_run(task, profile, out=out / f"repeat{repeat:03d}-t{threads}", generators=generators,
                                execution=run_exec, generator_ratios=comparison_ratios(generators), audits=False,
                                report=False))
    result = load_result(run_dir / "result.json")
    verdicts = {t: known[t].observe(result, task.metrics.primary) for t in trials}
    for t, (verdict, _) in verdicts.items():
        logger.info(f"repeat {repeat} ({threads} thread(s)): {t} → {verdict}")
    return {"run": str(run_dir), "threads": threads, "seeds": seeds, "sample_seed": sample_seed,
            "verdicts": {t: v for t, (v, _) in verdicts.items()},
            "agree": {t: v == known[t].expected for t, (v, _) in verdicts.items()},
            "evidence": {t: e for t, (_, e) in verdicts.items()}}


def run_comparison_repeats(repeats: int, *, profile: str = "quick", out: str | os.PathLike = "runs/selftest/repeats",
                           execution=None, threads: Sequence[int] = (1, 2), trials: Sequence[str] = (),
                           first: int = 0, task_name: str = "vc_lesion") -> tuple[list[dict], list[dict]]:
    """Run the comparison trials ``repeats`` times, cycling the thread counts; return (rate rows, per-run rows).

    Repeat ``r`` has its own seeds (:func:`repeat_seeds`) and runs at ``threads[r % len(threads)]`` torch
    threads, so ten repeats with ``threads=(1, 2)`` are ten seed sets, five at each thread count.

    ``null`` is summarised as a false-positive rate (:func:`~mammobench.selftest.null_fpr.summarise_null_fpr`:
    agrees when the exact CI reaches down to alpha); ``helpful`` / ``harmful`` as agreement rates
    (:func:`summarise_rate`: agree at >= 0.9).

    Args:
        repeats: number of repeats (each with new training and sampling seeds).
        profile: run profile (the self-test's default, ``quick``).
        out: parent folder of the repeat runs (resumable: finished repeats are reused).
        execution: :class:`~mammobench.pipeline.spec.Execution`; its ``threads`` is replaced per repeat.
        threads: torch thread counts, cycled over the repeats.
        trials: which comparison trials (each adds its planted arm; the control is always run; default: all of
            the task's, :func:`comparison_trials`).
        first: index of the first repeat (to extend an earlier measurement with new seeds).
        task_name: the self-test task (``vc_lesion`` or ``vc_lesion_detect``).

    Raises:
        ConfigError: ``repeats`` < 1, an empty or invalid ``threads``, a trial that is not a comparison
            trial, an unknown profile.
    """
    from mammobench.errors import ConfigError
    from mammobench.selftest.null_fpr import summarise_null_fpr
    from mammobench.selftest.runner import _register, comparison_seeds, selftest_task
    from mammobench.selftest.trial_sets import trials_for

    if repeats < 1 or not threads or any(int(t) < 1 for t in threads):
        raise ConfigError(f"repeats must be >= 1 and threads a non-empty list of counts >= 1; got {repeats}, {threads}")
    known = trials_for(task_name)  # an unknown task fails here
    comparison = comparison_trials(task_name)
    trials = [t for t in comparison if t in set(trials)] if trials else list(comparison)
    if not trials:
        raise ConfigError(f"repeats measure the comparison trials ({', '.join(comparison)}); none was chosen")
    _register()
    selftest_task(task_name, profile=profile)  # an unknown profile fails here, before any cell runs
    n_seeds = len(comparison_seeds(profile, task_name))
    rows = [_one_repeat(r, profile=profile, out=Path(out), execution=execution, n_seeds=n_seeds,
                        threads=int(threads[r % len(threads)]), trials=trials, task_name=task_name)
            for r in range(first, first + repeats)]
    runs, used = [row["run"] for row in rows], [row["threads"] for row in rows]
    rates = [summarise_null_fpr([not row["agree"][t] for row in rows], alpha=0.05, runs=runs) if t == "null" else
             summarise_rate(t, [row["agree"][t] for row in rows], expected=known[t].expected, runs=runs, threads=used)
             for t in trials]
    return rates, rows


__all__ = ["COMPARISON_TRIALS", "comparison_trials", "repeat_seeds", "run_comparison_repeats", "summarise_rate"]
