"""``detector.step_budget``: every arm can take the control's optimiser steps (equal compute, different data)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import mammobench.training.train as train_module
from mammobench.errors import ConfigError
from mammobench.pipeline.cells import CellSpec
from mammobench.pipeline.config import task_from_dict
from mammobench.pipeline.suites import find_task
from mammobench.training.train import TrainConfig, epoch_size, train_detector


def _data(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, 1, 16, 16), dtype=np.float32)
    y = (np.arange(n) % 2).astype(np.float32)
    x[y == 1, :, 6:10, 6:10] += 0.5
    return x, y


def _steps(monkeypatch, x, y, vx, vy, **config) -> tuple[int, dict]:
    calls = []
    real_step = train_module.optimizer_step
    monkeypatch.setattr(train_module, "optimizer_step", lambda *a: (calls.append(1), real_step(*a))[1])
    res = train_detector(x, y, vx, vy, arch="test_resnet", seed=3,
                         config=TrainConfig(epochs=2, batch_size=8, **config))
    return len(calls), {k: v.clone() for k, v in res.model.state_dict().items()}


def test_epoch_size_and_bad_value():
    assert (epoch_size(40, None), epoch_size(40, 24), epoch_size(20, 24)) == (40, 24, 20)
    with pytest.raises(ConfigError, match="epoch_images must be >= 1"):
        epoch_size(40, 0)


def test_real_budget_gives_an_augmented_arm_the_controls_steps(monkeypatch):
    x, y = _data(24)
    vx, vy = _data(12, seed=1)
    extra_x, extra_y = _data(24, seed=2)
    both_x, both_y = np.concatenate([x, extra_x]), np.concatenate([y, extra_y])
    control, _ = _steps(monkeypatch, x, y, vx, vy)
    more, _ = _steps(monkeypatch, both_x, both_y, vx, vy)
    equal, _ = _steps(monkeypatch, both_x, both_y, vx, vy, epoch_images=len(y))
    assert (control, more, equal) == (2 * 3, 2 * 6, 2 * 3)  # 24 or 48 images per epoch, batches of 8


def test_budget_equal_to_the_training_set_changes_nothing(monkeypatch):
    x, y = _data(24)
    vx, vy = _data(12, seed=1)
    _, plain = _steps(monkeypatch, x, y, vx, vy)
    _, budget = _steps(monkeypatch, x, y, vx, vy, epoch_images=len(y))
    assert all(torch.equal(plain[k], budget[k]) for k in plain)  # bit-identical: the control's cells keep their numbers


def test_cell_identity_and_task_setting():
    base = dict(run_dir="r", task="t", generator="g", arm="g", ratio=0.5, seed=0, arch="test_resnet")
    assert "step_budget" not in CellSpec(**base).identity()  # existing cells keep their identity
    assert CellSpec(**base, step_budget="real").identity()["step_budget"] == "real"
    data = find_task("vc_lesion").to_dict()
    data["detector"] = {**data["detector"], "step_budget": "real"}
    assert task_from_dict(data).detector.step_budget == "real"
    data["detector"]["step_budget"] = "steps"
    with pytest.raises(ConfigError, match="step_budget"):
        task_from_dict(data)


def test_channels_last_option_reaches_the_cell_and_keeps_old_identities():
    """``detector.channels_last`` (CPU speed, other rounding) is part of a cell's identity only when on."""
    from mammobench.pipeline.cells import train_config

    base = dict(run_dir="r", task="t", generator="g", arm="g", ratio=0.5, seed=0, arch="test_resnet")
    assert "channels_last" not in CellSpec(**base).identity() and not train_config(CellSpec(**base), 10).channels_last
    on = CellSpec(**base, channels_last=True)
    assert on.identity()["channels_last"] is True and train_config(on, 10).channels_last
    data = find_task("vc_lesion").to_dict()
    data["detector"] = {**data["detector"], "channels_last": False}
    assert task_from_dict(data).detector.channels_last is False
    data["detector"] = {**data["detector"], "channels_last": True}
    assert task_from_dict(data).detector.channels_last is True
    data["detector"]["channels_last"] = "yes"
    with pytest.raises(ConfigError, match="channels_last"):
        task_from_dict(data)
