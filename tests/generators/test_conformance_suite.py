"""The conformance suite itself: broken generators fail the named check; entry-point plug-ins pass."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mammobench.generators.base import GeneratorMixin
from mammobench.generators.checks import CheckContext
from mammobench.generators.fixtures import make_tiny_train_view
from mammobench.protocols import GeneratorTags, SyntheticBatch
from mammobench.registry import GENERATORS
from mammobench.testing import (check_generator, check_reads_only_the_train_view, check_sample_shape_dtype_range,
                               check_seed_determinism, format_results, run_check)
from tests.helpers.generator_plugin import PLUGIN_NAME, write_plugin_package

CARD = Path(__file__).resolve().parents[2] / "baselines" / "classic" / "card.yaml"


class _Copies(GeneratorMixin):
    """Correct baseline for the broken variants below: noisy copies of training images."""

    tags = GeneratorTags(produces_boxes=True)
    card_path = CARD

    def __init__(self, noise: float = 0.01):
        self.noise = noise

    def fit(self, data, *, seed):
        self.record_training_data(data)
        self.images_ = np.asarray(data.images, np.float32)
        return self

    def _labels(self, n):
        return pd.DataFrame({"label": ["normal"] * n, "lesion_type": ["none"] * n, "density": ["A"] * n,
                             "age_band": ["50-59"] * n, "view": ["CC"] * n, "findings": [[] for _ in range(n)]})

    def sample(self, n, *, conditions=None, seed):
        rng = np.random.default_rng(seed)
        idx = rng.integers(len(self.images_), size=n)
        images = np.clip(self.images_[idx] + rng.normal(0, self.noise, (n,) + self.images_.shape[1:]), 0, 1)
        return SyntheticBatch(images[:, None].astype(np.float32), self._labels(n))


class ReadsTestImages(_Copies):
    """Broken: looks next to its training files for the test split and reads it."""

    def fit(self, data, *, seed):
        root = Path(data.manifest["image_path"].iloc[0]).parents[1] if data.manifest["image_path"].iloc[0] else None
        if root is not None:
            self.stolen_ = np.stack([np.load(p) for p in sorted((root / "test").glob("*.npy"))])
        return super().fit(data, seed=seed)


class IgnoresSeed(_Copies):
    """Broken: draws from a fixed RNG whatever seed it is given."""

    def sample(self, n, *, conditions=None, seed):
        return super().sample(n, conditions=conditions, seed=0)


class WrongShape(_Copies):
    """Broken: drops the channel axis."""

    def sample(self, n, *, conditions=None, seed):
        batch = super().sample(n, conditions=conditions, seed=seed)
        return SyntheticBatch(batch.images[:, 0], batch.labels)


@pytest.fixture(scope="module")
def ctx():
    context = CheckContext(make_tiny_train_view(n=32, size=32, seed=0))
    yield context
    context.close()


def test_correct_baseline_passes_the_checks_the_broken_ones_fail(ctx):
    for check in (check_reads_only_the_train_view, check_seed_determinism, check_sample_shape_dtype_range):
        assert run_check(check, _Copies(), ctx).status == "pass", check.__name__


def test_generator_reading_test_images_fails_with_named_check(ctx):
    result = run_check(check_reads_only_the_train_view, ReadsTestImages(), ctx)
    assert result.status == "fail"
    assert "read test data outside its training view" in result.reason and "canary_dataset/test" in result.reason


def test_generator_ignoring_its_seed_fails_with_named_check(ctx):
    result = run_check(check_seed_determinism, IgnoresSeed(), ctx)
    assert result.status == "fail" and "ignores its seed" in result.reason


def test_generator_with_wrong_shape_fails_with_named_check(ctx):
    result = run_check(check_sample_shape_dtype_range, WrongShape(), ctx)
    assert result.status == "fail" and "expected [N, 1, 32, 32]" in result.reason


def test_full_suite_table_names_failing_check_and_reason():
    text = format_results(check_generator(WrongShape(), train_view=make_tiny_train_view(n=32, size=32)))
    line = next(ln for ln in text.splitlines() if ln.startswith("check_sample_shape_dtype_range"))
    assert " fail " in line and "shape" in line


def test_cli_exit_codes_and_json(capsys):
    from mammobench.commands.check_generator import main

    assert main(["none"]) == 0
    assert "check_protocol" in capsys.readouterr().out
    assert main([f"{__name__}:WrongShape", "--json"]) == 1
    payload = json.loads(capsys.readouterr().out)
    failed = {r["name"] for r in payload["results"] if r["status"] == "fail"}
    assert "check_sample_shape_dtype_range" in failed


@pytest.fixture()
def plugin_on_path(tmp_path, monkeypatch):
    name = write_plugin_package(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    GENERATORS._entry_points_loaded = False
    yield name
    GENERATORS._entries.pop(name, None)
    GENERATORS._entry_points_loaded = False
    sys.modules.pop("noisy_plugin.generator", None)
    sys.modules.pop("noisy_plugin", None)


def test_plugin_in_under_50_lines_registers_by_entry_point_and_passes_the_suite(plugin_on_path, tmp_path):
    source = (tmp_path / "noisy_plugin" / "generator.py").read_text().strip().splitlines()
    assert len(source) < 50
    assert plugin_on_path == PLUGIN_NAME and PLUGIN_NAME in GENERATORS.names()
    results = check_generator(PLUGIN_NAME, train_view=make_tiny_train_view(n=32, size=32))
    failures = [r for r in results if r.status == "fail"]
    assert not failures, format_results(results)
    assert sum(r.status == "pass" for r in results) >= 10
