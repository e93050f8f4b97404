"""Public generator conformance suite: run it before you submit a generator.

Two front ends over the named checks in :mod:`mammobench.generators.checks` (scikit-learn's
``check_estimator`` / ``parametrize_with_checks`` pattern):

* :func:`check_generator` returns one :class:`CheckResult` (name, ``pass|skip|fail|inconclusive``, reason)
  per check — *inconclusive*: a statistical check whose sample cap cannot reach its stated power did not
  pass (the reason gives the power it had); it is not a failure;
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
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from mammobench.generators.check_context import DEFAULT_MAX_ORACLE_N, conformance_params
from mammobench.generators.checks import (  # noqa: F401  (re-exported check functions)
    ALL_CHECKS, STATISTICAL_CHECKS, CheckContext, CheckFail, CheckInconclusive, CheckSkip, check_card_valid,
    check_conditions_in_labels, check_conditions_recognised_by_oracle, check_fit_returns_self,
    check_init_has_no_side_effects, check_labels_consistent, check_protocol, check_reads_only_the_train_view,
    check_sample_count, check_sample_shape_dtype_range, check_save_load_roundtrip, check_seed_determinism)
from mammobench.protocols import TrainView


@dataclass(frozen=True)
class CheckResult:
    """Outcome of one check: ``status`` is ``pass``, ``skip``, ``fail`` or ``inconclusive``.

    ``evidence`` holds a statistical check's design and count (n, critical, alpha, size, power, p0, p1,
    hits; :class:`~mammobench.generators.binomial_design.BinomialDesign`), empty for the other checks.

    Example:
        >>> CheckResult("check_x", "pass", "ok").to_dict()
        {'name': 'check_x', 'status': 'pass', 'reason': 'ok'}
    """

    name: str
    status: str
    reason: str
    evidence: dict = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "status": self.status, "reason": self.reason}
        if self.evidence:
            out["evidence"] = dict(self.evidence)
        return out


def _as_generator(gen_or_name: Any) -> Any:
    if isinstance(gen_or_name, str):
        from mammobench.generators import generator_class

        return generator_class(gen_or_name)(**conformance_params(generator_class(gen_or_name)))
    return gen_or_name


def run_check(check: Callable[[Any, CheckContext], str], gen: Any, ctx: CheckContext) -> CheckResult:
    """Run one check, turning its outcome (or any exception it provokes) into a CheckResult."""
    from mammobench.torchutil import torch_threads

    ctx.designs.pop(check.__name__, None)
    evidence = lambda: ctx.designs.get(check.__name__, {})  # noqa: E731  (recorded by statistical checks)
    try:
        with torch_threads(1):  # tiny workloads: one thread is fastest and avoids oversubscription
            return CheckResult(check.__name__, "pass", check(gen, ctx), evidence())
    except CheckSkip as err:
        return CheckResult(check.__name__, "skip", str(err))
    except CheckInconclusive as err:
        return CheckResult(check.__name__, "inconclusive", str(err), evidence())
    except CheckFail as err:
        return CheckResult(check.__name__, "fail", str(err), evidence())
    except Exception as err:  # the generator crashed: that is a failure of this check
        where = traceback.extract_tb(err.__traceback__)[-1]
        return CheckResult(check.__name__, "fail", f"raised {type(err).__name__}: {err} "
                                                   f"(at {where.filename}:{where.lineno})")


def check_generator(gen_or_name: Any, *, train_view: TrainView | None = None,
                    checks: Iterable[Callable] | None = None, max_oracle_n: int = DEFAULT_MAX_ORACLE_N,
                    oracle_domain: str = "cohort") -> list[CheckResult]:
    """Run every conformance check on a generator (instance, registered name or ``module:Class``).

    A name is built with the class's ``conformance_config()`` (else ``tiny_config()``) when it has one. ``train_view`` defaults to
    :func:`mammobench.generators.fixtures.make_tiny_train_view` (32 images, 32×32) for the protocol checks;
    the oracle check judges the default task's domain (``oracle_domain="cohort"``,
    :mod:`mammobench.generators.cohort_check_view`; built and cached on first use) or, with
    ``oracle_domain="fixture"``, fresh fixture draws (fast; what pytest's ``parametrize_with_checks`` uses).
    ``max_oracle_n`` caps the sample of the statistical check (α = 0.01, power 0.99; see docs/generators.md).
    """
    gen = _as_generator(gen_or_name)
    ctx = CheckContext(train_view, max_oracle_n=max_oracle_n, oracle_domain=oracle_domain)
    try:
        return [run_check(check, gen, ctx) for check in (checks or ALL_CHECKS)]
    finally:
        ctx.close()


def status_counts(results: list[CheckResult]) -> dict[str, int]:
    """How many results have each status, in the order pass, skip, fail, inconclusive.

    Example:
        >>> status_counts([CheckResult("check_x", "pass", ""), CheckResult("check_y", "skip", "n/a")])
        {'pass': 1, 'skip': 1, 'fail': 0, 'inconclusive': 0}
    """
    return {s: sum(r.status == s for r in results) for s in ("pass", "skip", "fail", "inconclusive")}


def format_results(results: list[CheckResult]) -> str:
    """A plain-text pass/skip/fail/inconclusive table with reasons and a count line.

    Example:
        >>> print(format_results([CheckResult("check_x", "inconclusive", "underpowered")]).splitlines()[-1])
        0 passed, 0 skipped, 0 failed, 1 inconclusive (not a failure: the check could not reach its stated power)
    """
    width = max((len(r.name) for r in results), default=10)
    status = max([6] + [len(r.status) for r in results])
    lines = [f"{'check':<{width}}  {'status':<{status}}  reason", f"{'-' * width}  {'-' * status}  ------"]
    lines += [f"{r.name:<{width}}  {r.status:<{status}}  {r.reason}" for r in results]
    counts = status_counts(results)
    line = f"\n{counts['pass']} passed, {counts['skip']} skipped, {counts['fail']} failed"
    if counts["inconclusive"]:
        line += (f", {counts['inconclusive']} inconclusive (not a failure: the check could not reach its "
                 "stated power)")
    lines.append(line)
    return "\n".join(lines)


def _pytest_case(check: Callable, ctx: CheckContext, expected_fail: str | None) -> Callable[[Any], None]:
    import pytest

    def run(generator: Any) -> None:
        result = run_check(check, generator, ctx)
        if result.status == "skip":
            pytest.skip(result.reason)
        if result.status == "inconclusive":
            pytest.skip(f"inconclusive: {result.reason}")
        if expected_fail is not None:
            if result.status == "fail":
                pytest.xfail(expected_fail)
            if check in STATISTICAL_CHECKS:  # an expected statistical failure may pass by chance: not an error
                return
            raise AssertionError(f"{check.__name__} was expected to fail ({expected_fail}) but passed")
        if result.status == "fail":
            raise AssertionError(f"{check.__name__}: {result.reason}")

    run.__name__ = check.__name__
    return run


def parametrize_with_checks(generators: list[Any], *, expected_failed_checks: dict[str, dict[str, str]] | None = None,
                            train_view: TrainView | None = None, oracle_domain: str = "fixture"):
    """A ``pytest.mark.parametrize("generator, check", ...)`` over every (generator, check) pair.

    Args:
        generators: instances (or registered names, built with ``conformance_config()`` / ``tiny_config()``).
        expected_failed_checks: ``{generator card name: {check name: reason}}`` — known failures xfail
            (strictly: a deterministic check that then passes is an error; a statistical check may pass).
        train_view: training view for all checks (default: the tiny fixture).
        oracle_domain: without ``train_view``, what the oracle check judges: ``"fixture"`` (default, fast)
            or ``"cohort"`` (the default task's domain, built and cached on first use); see ``CheckContext``.
    """
    import pytest

    expected = expected_failed_checks or {}
    params, ids = [], []
    for item in generators:
        gen = _as_generator(item)
        ctx = CheckContext(train_view, oracle_domain=oracle_domain)
        name = gen.card.name if hasattr(gen, "card") else type(gen).__name__
        for check in ALL_CHECKS:
            params.append((gen, _pytest_case(check, ctx, expected.get(name, {}).get(check.__name__))))
            ids.append(f"{name}-{check.__name__}")
    return pytest.mark.parametrize("generator, check", params, ids=ids)


__all__ = ["CheckResult", "check_generator", "format_results", "parametrize_with_checks", "run_check", "status_counts"]
