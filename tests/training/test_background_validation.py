"""Scoring epoch k while epoch k+1 trains changes nothing but the wall-clock time (issue #23, row 2)."""
from __future__ import annotations

import os
import threading

import numpy as np
import pytest
import torch

from mammobench.errors import DataError
from mammobench.training import train as train_mod
from mammobench.training.background_validation import spare_core
from mammobench.training.train import TrainConfig, train_detector


def _data(seed: int = 5) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = (np.arange(40) % 3 == 0).astype(np.float32)
    return rng.random((40, 1, 32, 32), dtype=np.float32) + 0.2 * y[:, None, None, None], y


def _validation_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("mammobench-validation")]


@pytest.mark.parametrize("channels_last", [False, True], ids=["nchw", "channels-last"])
def test_background_scoring_gives_the_same_curve_checkpoint_and_weights(channels_last):
    x, y = _data()
    runs = {}
    for background in (False, True):
        config = TrainConfig(epochs=4, batch_size=8, channels_last=channels_last, background_validation=background)
        runs[background] = train_detector(x[:28], y[:28], x[28:], y[28:], arch="test_resnet", seed=7, config=config)
    in_turn, bg = runs[False], runs[True]
    assert [c["epoch"] for c in bg.curve] == [1, 2, 3, 4]
    assert bg.curve == in_turn.curve  # val AUC bit for bit: the same scores
    assert bg.best_epoch == in_turn.best_epoch
    ref = in_turn.model.state_dict()
    assert all(torch.equal(v, ref[k]) for k, v in bg.model.state_dict().items())
    assert not _validation_threads()


def test_a_failure_while_scoring_in_the_background_reaches_the_caller_and_stops_the_thread(monkeypatch):
    x, y = _data()
    calls = []

    def failing(model, vx, **kw):
        calls.append(threading.current_thread().name)
        raise DataError("validation images: NaN pixel in image 3")

    monkeypatch.setattr(train_mod, "validation_scores", failing)
    with pytest.raises(DataError, match="NaN pixel in image 3"):
        train_detector(x[:28], y[:28], x[28:], y[28:], arch="test_resnet", seed=7,
                       config=TrainConfig(epochs=3, batch_size=8, background_validation=True))
    assert calls and calls[0].startswith("mammobench-validation")  # it did run on the background thread
    assert not _validation_threads()


def test_background_scoring_only_where_it_can_gain(monkeypatch):
    """Automatic (None): only with a core beyond the loop's own threads; never for one epoch or when turned off."""
    import mammobench.training.background_validation as bv

    x, y = _data()
    made = []
    real = train_mod._background_validation

    def spy(*a, **kw):
        ctx = real(*a, **kw)
        made.append(type(ctx).__name__)
        return ctx

    monkeypatch.setattr(train_mod, "_background_validation", spy)
    cases = [(TrainConfig(epochs=2, batch_size=8), True), (TrainConfig(epochs=2, batch_size=8), False),
             (TrainConfig(epochs=1, batch_size=8), True),
             (TrainConfig(epochs=2, batch_size=8, background_validation=False), True)]
    for config, spare in cases:
        monkeypatch.setattr(bv, "spare_core", lambda threads, spare=spare: spare)
        train_detector(x[:16], y[:16], x[28:], y[28:], arch="test_resnet", seed=1, config=config)
    assert made == ["BackgroundValidation", "nullcontext", "nullcontext", "nullcontext"]


def test_spare_core_counts_the_cores_this_process_may_use(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})
    assert spare_core(1) and not spare_core(2) and not spare_core(4)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {3})
    assert not spare_core(1)
