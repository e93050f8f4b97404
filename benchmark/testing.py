"""Public generator conformance suite: run it before you submit a generator.

Two front ends over the named checks in :mod:`mammobench.generators.checks` (scikit-learn's
``check_estimator`` / ``parametrize_with_checks`` pattern):

* :func:`check_generator` returns one :class:`CheckResult` (name, ``pass|skip|fail``, reason) per check;
* :func:`parametrize_with_checks` makes one pytest case per (generator, check).

Example:
    >>> from mammobench.testing import check_generator
    >>> results = check_generator("none")
    >>> sorted({r.status for r in results})
    ['pass', 'skip']

In pytest::

    @parametrize_with_checks([MyGenerator(**MyGenerator.tiny_config())])
    def test_conformance(generator, check):
        check(generator)
"""
from __future__ import annotations

import traceback
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from mammobench.generators.checks import (  # noqa: F401  (re-exported check functions)
    ALL_CHECKS, CheckContext, CheckFail, CheckSkip, check_card_valid, check_conditions_in_labels,
    check_conditions_recognised_by_oracle, check_fit_returns_self, check_init_has_no_side_effects,
    check_labels_consistent, check_protocol, check_reads_only_the_train_view, check_sample_count,
    check_sample_shape_dtype_range, check_save_load_roundtrip, check_seed_determinism)
from mammobench.generators.box_checks import check_boxes_on_lesion  # noqa: F401  (re-exported)
from mammobench.protocols import TrainView

# the suite: the contract checks (generators/checks.py) then boxes-on-the-lesion (generators/box_checks.py, which
# imports checks.py, so it is appended here rather than in checks.ALL_CHECKS: no import cycle)
CONFORMANCE_CHECKS: tuple[Callable[[Any, CheckContext], str], ...] = (*ALL_CHECKS, check_boxes_on_lesion)


@dataclass(frozen=True)
class CheckResult:
    """Outcome of one check: ``status`` is ``pass``, ``skip`` or ``fail``."""

    name: str
    status: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "status": self.status, "reason": self.reason}


def _as_generator(gen_or_name: Any) -> Any:
    if isinstance(gen_or_name, str):
        from mammobench.generators import generator_class

        cls = generator_class(gen_or_name)
        tiny = getattr(cls, "tiny_config", None)
        return cls(**(tiny() if callable(tiny) else {}))
    return gen_or_name


def run_check(check: Callable[[Any, CheckContext], str], gen: Any, ctx: CheckContext) -> CheckResult:
    """Run one check, turning its outcome (or any exception it provokes) into a CheckResult."""
    from mammobench.torchutil import torch_threads

    try:
        with torch_threads(1):  # tiny workloads: one thread is fastest and avoids oversubscription
            return CheckResult(check.__name__, "pass", check(gen, ctx))
    except CheckSkip as err:
        return CheckResult(check.__name__, "skip", str(err))
    except CheckFail as err:
        return CheckResult(check.__name__, "fail", str(err))
    except Exception as err:  # the generator crashed: that is a failure of this check
        where = traceback.extract_tb(err.__traceback__)[-1]
        return CheckResult(check.__name__, "fail", f"raised {type(err).__name__}: {err} "
                                                   f"(at {where.filename}:{where.lineno})")


def check_generator(gen_or_name: Any, *, train_view: TrainView | None = None,
                    checks: Iterable[Callable] | None = None) -> list[CheckResult]:
    """Run every conformance check on a generator (instance, registered name or ``module:Class``).

    A name is built with the class's ``tiny_config()`` when it has one. ``train_view`` defaults to
    :func:`mammobench.generators.fixtures.make_tiny_train_view` (32 images, 32×32).
    """
    gen = _as_generator(gen_or_name)
    ctx = CheckContext(train_view)
    try:
        return [run_check(check, gen, ctx) for check in (checks or CONFORMANCE_CHECKS)]
    finally:
        ctx.close()


def format_results(results: list[CheckResult]) -> str:
    """A plain-text pass/skip/fail table with reasons."""
    width = max((len(r.name) for r in results), default=10)
    lines = [f"{'check':<{width}}  status  reason", f"{'-' * width}  ------  ------"]
    lines += [f"{r.name:<{width}}  {r.status:<6}  {r.reason}" for r in results]
    counts = {s: sum(r.status == s for r in results) for s in ("pass", "skip", "fail")}
    lines.append(f"\n{counts['pass']} passed, {counts['skip']} skipped, {counts['fail']} failed")
    return "\n".join(lines)


def _pytest_case(check: Callable, ctx: CheckContext, expected_fail: str | None) -> Callable[[Any], None]:
    import pytest

    def run(generator: Any) -> None:
        result = run_check(check, generator, ctx)
        if result.status == "skip":
            pytest.skip(result.reason)
        if expected_fail is not None:
            if result.status == "fail":
                pytest.xfail(expected_fail)
            raise AssertionError(f"{check.__name__} was expected to fail ({expected_fail}) but passed")
        if result.status == "fail":
            raise AssertionError(f"{check.__name__}: {result.reason}")

    run.__name__ = check.__name__
    return run


def parametrize_with_checks(generators: list[Any], *, expected_failed_checks: dict[str, dict[str, str]] | None = None,
                            train_view: TrainView | None = None):
    """A ``pytest.mark.parametrize("generator, check", ...)`` over every (generator, check) pair.

    Args:
        generators: instances (or registered names, built with ``tiny_config()``).
        expected_failed_checks: ``{generator card name: {check name: reason}}`` — known failures xfail.
        train_view: training view for all checks (default: the tiny fixture).
    """
    import pytest

    expected = expected_failed_checks or {}
    params, ids = [], []
    for item in generators:
        gen = _as_generator(item)
        ctx = CheckContext(train_view)
        name = gen.card.name if hasattr(gen, "card") else type(gen).__name__
        for check in CONFORMANCE_CHECKS:
            params.append((gen, _pytest_case(check, ctx, expected.get(name, {}).get(check.__name__))))
            ids.append(f"{name}-{check.__name__}")
    return pytest.mark.parametrize("generator, check", params, ids=ids)


__all__ = ["CONFORMANCE_CHECKS", "CheckResult", "check_generator", "format_results", "parametrize_with_checks", "run_check"]
