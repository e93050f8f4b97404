"""The sized oracle check with planted generators: a conformer passes, ignorers fail, a small cap is inconclusive.

Power is shown from the design, not from one lucky sample: the check records its design
(``ctx.designs``); the tests recompute size and power from it with scipy.stats.binom and assert
P(ignorer passes) ≤ 0.01 and P(conformer at the alternative passes) ≥ 0.99. Each observed decision is
then far from its threshold (margins stated at each assertion), so it does not flip on another machine.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binom

from mammobench.generators.base import GeneratorMixin
from mammobench.generators.checks import CheckContext
from mammobench.generators.fixtures import make_tiny_train_view
from mammobench.generators.statistical_checks import check_conditions_recognised_by_oracle
from mammobench.protocols import CONDITION_COLUMNS, GeneratorTags, SyntheticBatch
from mammobench.testing import format_results, run_check
from tests.helpers.seeds import data_seed

CARD = Path(__file__).resolve().parents[2] / "baselines" / "classic" / "card.yaml"
CHECK = check_conditions_recognised_by_oracle.__name__


class Conformer(GeneratorMixin):
    """Returns a real image (from its training view) of the requested lesion type; labels echo the request."""

    tags = GeneratorTags(requires_fit=True, conditional_on=CONDITION_COLUMNS, produces_boxes=False)
    card_path = CARD

    def __init__(self, shuffle: bool = False):
        self.shuffle = shuffle

    def fit(self, data, *, seed):
        self.record_training_data(data)
        self.images_ = np.asarray(data.images, np.float32)
        self.table_ = {c: data.manifest[c].astype(str).tolist() for c in CONDITION_COLUMNS}  # saveable state
        return self

    def sample(self, n, *, conditions=None, seed):
        rng, table = np.random.default_rng(seed), pd.DataFrame(self.table_)
        types = table["lesion_type"].to_numpy()
        rows = (conditions.reset_index(drop=True) if conditions is not None
                else table.sample(n=n, replace=True, random_state=seed).reset_index(drop=True))
        shown = rows["lesion_type"].astype(str).to_numpy()
        if self.shuffle:  # the ignorer: the same balanced set of images, in an order unrelated to the request
            shown = rng.permutation(shown)
        idx = [int(rng.choice(np.flatnonzero(types == t))) for t in shown]
        labels = table.iloc[idx].reset_index(drop=True)
        for col in rows.columns:  # the labels claim what was asked for
            labels[col] = rows[col].astype(str).to_numpy()
        labels["findings"] = [[] for _ in range(n)]
        return SyntheticBatch(self.images_[idx][:, None] if n else np.zeros((0, 1, 32, 32), np.float32), labels)


class Ignorer(Conformer):
    """Ignores the requested lesion type: shows a balanced set of real images, shuffled against the request.

    ``stream`` picks the shuffle (different streams: independent samples of the same ignorer).
    """

    def __init__(self, shuffle: bool = True, stream: int = 0):
        super().__init__(shuffle=shuffle)
        self.stream = stream

    def sample(self, n, *, conditions=None, seed):
        return super().sample(n, conditions=conditions, seed=seed + 7919 * self.stream)


class ConstantIgnorer(Conformer):
    """Ignores the request entirely: always shows a normal image."""

    def sample(self, n, *, conditions=None, seed):
        asked = conditions if conditions is not None else pd.DataFrame({"lesion_type": ["none"] * n})
        batch = super().sample(n, conditions=asked.assign(lesion_type="none"), seed=seed)
        batch.labels["lesion_type"] = asked["lesion_type"].astype(str).to_numpy()
        return batch


@pytest.fixture(scope="module")
def ctx():
    context = CheckContext(fixture_seed=data_seed(0), oracle_domain="fixture")  # fast: fixture oracle
    yield context
    context.close()


def _design(ctx):
    d = ctx.designs[CHECK]
    size = binom.sf(d["critical"] - 1, d["n"], d["p0"])
    power = binom.sf(d["critical"] - 1, d["n"], d["p1"])
    return d, size, power


def _check_on(view, generator, **settings):
    """Run the oracle check in a fresh context (own view or fixture settings); returns (result, context)."""
    own = CheckContext(view, **settings)
    try:
        return run_check(check_conditions_recognised_by_oracle, generator, own), own
    finally:
        own.close()


def test_conformer_passes_with_stated_power(ctx):
    result = run_check(check_conditions_recognised_by_oracle, Conformer(), ctx)
    assert result.status == "pass", result.reason
    d, size, power = _design(ctx)
    assert size <= 0.01 and power >= 0.99, d          # the design, recomputed with scipy.stats.binom
    assert d["p0"] == pytest.approx(1 / 3) and d["n"] % 3 == 0
    # margin: real images of the requested type agree far above the critical count (seen: 516/516 vs ≥ 198 at
    # seeds 0 and 1000, i.e. 318 hits = 30 SD of the null count above it)
    assert d["hits"] >= d["critical"] + d["n"] // 4, d
    # and a generator at this observed agreement passes a fresh sample with probability ≥ 0.999
    assert binom.sf(d["critical"] - 1, d["n"], d["hits"] / d["n"]) >= 0.999
    assert f"pass needs ≥ {d['critical']}" in result.reason and "power 0.9" in result.reason and "CI" in result.reason


def test_constant_ignorer_fails_far_below_the_critical_count(ctx):
    result = run_check(check_conditions_recognised_by_oracle, ConstantIgnorer(), ctx)
    assert result.status == "fail", result.reason
    assert "requested conditions not recognised" in result.reason
    d, size, _ = _design(ctx)
    assert 1 - size >= 0.99   # an image stream independent of the request agrees at exactly chance
    # margin: normal images whatever was asked: the oracle calls them normal, so hits ≈ the n/3 requests for
    # "none" with almost no spread (seen: 172/516 vs ≥ 198 at seeds 0 and 1000); asserted ≥ 2 null SDs below
    assert d["hits"] <= d["critical"] - 2 * np.sqrt(d["n"] * d["p0"] * (1 - d["p0"])), d


def test_shuffled_ignorer_fail_rate_over_independent_samples(ctx):
    """A rate, not one decision: the shuffled ignorer's hits are a fresh chance draw each time (null SD ≈ 11)."""
    verdicts = [run_check(check_conditions_recognised_by_oracle, Ignorer(stream=k), ctx).status for k in range(10)]
    d, size, _ = _design(ctx)
    assert 1 - size >= 0.99, d
    # each sample fails with probability 1 − size ≥ 0.99, so ≥ 8 of 10 fail except with probability
    # P(Binomial(10, 0.01) ≥ 3) = 1.1e-4 (seen: 10/10 at seeds 0 and 1000)
    assert sum(v == "fail" for v in verdicts) >= 8, verdicts
    assert binom.sf(2, 10, 0.01) < 2e-4


def test_underpowered_cap_gives_inconclusive_not_fail():
    result, small = _check_on(None, Ignorer(), max_oracle_n=6, fixture_seed=data_seed(0), oracle_domain="fixture")
    assert result.status == "inconclusive", result.reason
    d = small.designs[CHECK]
    assert d["n"] <= 6 and not d["reached"] and d["power"] < 0.99
    assert "underpowered" in result.reason and f"{d['power']:.3f}" in result.reason
    assert "1 inconclusive (not a failure" in format_results([result])


def test_supplied_view_is_split_by_patient_for_the_oracle():
    view = make_tiny_train_view(n=160, size=32, seed=data_seed(3))
    result, _ = _check_on(view, Conformer())
    assert result.status == "pass", result.reason
    assert "held-out real images" in result.reason


def test_cli_reports_inconclusive_with_exit_code_0(capsys):
    from mammobench.commands.check_generator import main

    fixture = ["--oracle-domain", "fixture"]  # fast; the default cohort domain is measured in docs/generators.md
    assert main([f"{__name__}:Ignorer", "--max-oracle-n", "6", "--json", *fixture]) == 0
    payload = json.loads(capsys.readouterr().out)
    status = {r["name"]: r["status"] for r in payload["results"]}
    assert status[CHECK] == "inconclusive" and payload["counts"]["inconclusive"] == 1
    evidence = next(r["evidence"] for r in payload["results"] if r["name"] == CHECK)
    assert evidence["n"] <= 6 and evidence["reached"] is False and evidence["alpha"] == 0.01
    assert payload["counts"]["fail"] == 0, payload
    assert main([f"{__name__}:ConstantIgnorer", *fixture]) == 1  # fails far below its threshold (test above)
    assert " fail " in next(ln for ln in capsys.readouterr().out.splitlines() if ln.startswith(CHECK))


def test_oracle_that_cannot_beat_chance_gives_inconclusive_not_fail():
    view = make_tiny_train_view(n=160, size=32, seed=data_seed(4))
    # every image the same picture: the oracle gives one answer for all, so its class-balanced agreement on
    # held-out real images is exactly chance (recall 1 for one class, 0 for the others) — deterministic
    blank = np.repeat(view.images[:1], len(view), axis=0)
    same = type(view)(view.manifest, blank, view.findings, manifest_hash=view.manifest_hash + ":one-image")
    result, _ = _check_on(same, Conformer())
    assert result.status == "inconclusive", result.reason
    assert "underpowered" in result.reason and "does not beat chance" in result.reason


def test_cli_defaults_judge_the_check_cohort_with_a_cap_that_reaches_the_power():
    from mammobench.commands.check_generator import build_parser
    from mammobench.generators.binomial_design import conveyed_alternative, size_binomial_test

    args = build_parser().parse_args(["classic"])
    assert args.oracle_domain == "cohort" and args.max_oracle_n == 8000
    # the check cohort's oracle agrees 0.69 (mass vs none): the sized n must fit under the default cap
    design = size_binomial_test(0.5, conveyed_alternative(0.5, 0.69), step=2, n_max=args.max_oracle_n)
    assert design.reached and design.n <= args.max_oracle_n
