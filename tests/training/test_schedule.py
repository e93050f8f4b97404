"""The detector's learning-rate schedule: cosine annealing by default, constant on request."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from mammobench.errors import ConfigError
from mammobench.training.train import TrainConfig, lr_scheduler, train_detector


def test_cosine_schedule_matches_the_closed_form_and_ends_at_zero():
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.002)
    sched = lr_scheduler(opt, "cosine", 10)
    lrs = []
    for _ in range(10):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    expected = [0.001 * (1 + np.cos(np.pi * k / 10)) for k in range(10)]
    assert np.allclose(lrs, expected) and opt.param_groups[0]["lr"] == pytest.approx(0.0, abs=1e-12)


def test_constant_schedule_and_unknown_name():
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.5)
    sched = lr_scheduler(opt, "constant", 3)
    for _ in range(3):
        opt.step()
        sched.step()
    assert opt.param_groups[0]["lr"] == 0.5
    with pytest.raises(ConfigError, match="lr_schedule='step'"):
        lr_scheduler(opt, "step", 3)


def test_schedule_changes_training_and_is_deterministic():
    rng = np.random.default_rng(0)
    x = rng.random((48, 1, 16, 16), dtype=np.float32)
    y = (rng.random(48) < 0.5).astype(np.float32)
    x[y == 1, :, 6:10, 6:10] += 0.5

    def scores(schedule: str) -> np.ndarray:
        cfg = TrainConfig(epochs=2, batch_size=16, device="cpu", lr_schedule=schedule)
        res = train_detector(x, y, x, y, arch="test_resnet", seed=0, config=cfg)
        return torch.nn.utils.parameters_to_vector(res.model.parameters()).detach().numpy()

    cosine = scores("cosine")
    assert np.array_equal(cosine, scores("cosine"))
    assert not np.allclose(cosine, scores("constant"))
