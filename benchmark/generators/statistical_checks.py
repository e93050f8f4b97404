"""The statistical conformance check: requested conditions recognised by an oracle, with stated power.

Unlike the other checks (pure properties of the code), this one decides from a sample, so its sample
is sized before it is drawn (:mod:`mammobench.generators.binomial_design`): a generator that ignores
the condition fails with probability ≥ 1 − α and one at the alternative passes with probability ≥ the
stated power; a sample cap that cannot reach that power gives *inconclusive*, not *fail*.
The power calculation is written out in docs/generators.md ("Conformance checks").

Example:
    >>> from mammobench.generators import get_generator
    >>> try:
    ...     check_conditions_recognised_by_oracle(get_generator("none"), CheckContext())
    ... except CheckSkip as err:
    ...     print(err)
    tags.adds_samples is False: the generator returns no samples by design
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from mammobench.generators.binomial_design import conveyed_alternative, size_binomial_test
from mammobench.generators.check_context import (CheckContext, CheckFail, CheckInconclusive, CheckSkip,
                                                 checked_sample, clone, declared_tags, needs_samples)
from mammobench.generators.oracle_judge import conformance_judge, restricted_prediction
from mammobench.protocols import TrainView
from mammobench.stats.proportions import clopper_pearson

# a class is requested only when the generator saw at least this many training images of it: nobody can be
# asked to learn what a lesion type looks like from one or two examples
MIN_FIT_IMAGES_PER_CLASS = 6


def _oracle_attribute(gen: Any) -> str:
    attr = next((a for a in ("lesion_type", "label", "density") if a in declared_tags(gen).conditional_on), None)
    if attr is None:
        raise CheckSkip("the generator conditions on none of lesion_type, label, density")
    return attr


def _judge_and_fit(gen: Any, ctx: CheckContext) -> tuple[Any, Any, TrainView]:
    """The oracle judge, the generator fitted on real images the oracle never saw, and that fit view.

    Default (no supplied view, ``oracle_domain="cohort"``): the generator is fitted (once per context) on the
    check cohort's fit patients and the oracle on other patients of the same cohort. With
    ``oracle_domain="fixture"`` the run's one fit on the fixture is used (fit view and oracle images are
    separate draws). With a supplied view the oracle trains on 3/4 of its patients, so the generator is
    fitted on the held-out quarter: a generator that copies its training images must not profit from the
    oracle having memorised those very images.
    """
    if ctx.default_fixture and ctx.oracle_domain == "fixture":
        judge = conformance_judge(ctx.view, default_fixture=True, seed=ctx.fixture_seed)
        return judge, ctx.fitted(gen), ctx.view
    if ctx.default_fixture:
        from mammobench.generators.cohort_check_view import check_cache_home, cohort_check_views

        views = cohort_check_views()
        judge = conformance_judge(views.fit, sources=(views.oracle_train, views.held_out),
                                  cache_dir=check_cache_home() / "oracle")
        fit_view = views.fit
    else:
        judge = conformance_judge(ctx.view, default_fixture=False, seed=ctx.fixture_seed)
        fit_view = judge.held_out
    record = ctx.oracle_fits.get(id(gen))
    if record is None or record[0] is not gen:  # keep gen alive: an id() is unique only while it lives
        record = (gen, clone(gen).fit(fit_view, seed=ctx.fit_seed))
        ctx.oracle_fits[id(gen)] = record
    return judge, record[1], fit_view


def _hits(fitted: Any, oracle: Any, attr: str, classes: list[str], n: int) -> int:
    wanted = np.repeat(classes, n // len(classes))
    batch = checked_sample(fitted, len(wanted), seed=11, conditions=pd.DataFrame({attr: wanted}))
    return int(np.sum(restricted_prediction(oracle, batch.images, attr, classes) == wanted))


def check_conditions_recognised_by_oracle(gen: Any, ctx: CheckContext) -> str:
    """An oracle trained on real images recognises the requested class: a sized exact binomial test.

    Judged on ``lesion_type`` when the generator conditions on it (else ``label``, else ``density``).
    Every class with ≥ ``MIN_FIT_IMAGES_PER_CLASS`` images in the fit view is requested equally often,
    so a generator whose images ignore the
    request agrees with it at exactly chance ``p0 = 1 / classes``. The alternative ``p1`` lies the fraction
    ``ctx.alternative_fraction`` (default 0.15) of the way from chance to the oracle's class-balanced
    agreement on held-out real images: the generator's images convey at least that share of what real
    images convey (the check asks whether they depend on the request at all; how well they convey it is
    the run's adherence audit); ``n`` is the smallest
    balanced sample at which the one-sided exact test at ``ctx.alpha`` has power ``ctx.power`` against
    ``p1`` (:func:`~mammobench.generators.binomial_design.size_binomial_test`). When that ``n`` exceeds
    ``ctx.max_oracle_n`` the check samples the cap and, unless the test passes anyway, is inconclusive;
    so is an oracle that does not beat chance on held-out real images.
    """
    needs_samples(gen)
    attr = _oracle_attribute(gen)
    judge, fitted, fit_view = _judge_and_fit(gen, ctx)
    if attr not in judge.classes:
        raise CheckSkip(f"the oracle has no '{attr}' head (fewer than two classes in its training images)")
    counts = fit_view.manifest[attr].astype(str).value_counts()
    classes = [c for c in judge.classes[attr] if counts.get(c, 0) >= MIN_FIT_IMAGES_PER_CLASS]
    if len(classes) < 2:
        raise CheckSkip(f"the generator's training view has fewer than two '{attr}' classes the oracle knows "
                        f"with ≥ {MIN_FIT_IMAGES_PER_CLASS} training images each")
    real, n_real = judge.real_agreement(attr, classes)
    chance = 1 / len(classes)
    if not real > chance:  # no alternative to aim at: whatever the sample, the test has no power
        raise CheckInconclusive(f"underpowered: the oracle does not beat chance on held-out real images ({attr} "
                                f"agreement {real:.2f} on {n_real}, chance {chance:.2f}), so no sample size gives "
                                "power; train on more or larger real images")
    alternative = conveyed_alternative(chance, real, ctx.alternative_fraction)
    design = size_binomial_test(chance, alternative, alpha=ctx.alpha, power=ctx.power,
                                step=len(classes), n_max=max(ctx.max_oracle_n, len(classes)))
    hits = _hits(fitted, judge.oracle, attr, classes, design.n)
    ctx.designs[check_conditions_recognised_by_oracle.__name__] = {**design.to_dict(), "hits": hits}
    low, high = clopper_pearson(hits, design.n)
    summary = (f"{attr}: oracle agreement {hits}/{design.n} = {hits / design.n:.2f} [95% CI {low:.2f}–{high:.2f}] "
               f"vs chance {chance:.2f}; pass needs ≥ {design.critical} (exact one-sided binomial, "
               f"α = {design.alpha:g}, size {design.size:.3f}, p = {design.p_value(hits):.2g}); "
               f"power {design.power:.3f} against {design.p1:.3f} = chance + {ctx.alternative_fraction:g} × "
               f"(the oracle's {real:.2f} on {n_real} held-out real images − chance)")
    verdict = design.verdict(hits)
    if verdict == "pass":
        return summary
    if verdict == "inconclusive":
        raise CheckInconclusive(f"underpowered: n = {design.n} is the cap (max_oracle_n) and reaches power "
                                f"{design.power:.3f} < {design.target_power:g}; {summary}")
    raise CheckFail(f"requested conditions not recognised: {summary}")

__all__ = ["check_conditions_recognised_by_oracle"]
