"""Per-epoch validation scoring (channels_last, inference mode on CPU) gives what predict_scores gives and
leaves training untouched: same curve, same chosen epoch and bit-identical weights as the old path."""
from __future__ import annotations

import numpy as np
import torch

from mammobench.training import train as train_mod
from mammobench.training.train import TrainConfig, predict_scores, train_detector, validation_scores


def _data(n: int, seed: int):
    rng = np.random.default_rng(seed)
    y = (np.arange(n) % 3 == 0).astype(np.float32)
    x = rng.random((n, 1, 32, 32), dtype=np.float32) + 0.3 * y[:, None, None, None]
    return x, y


def test_validation_scores_match_predict_scores():
    x, y = _data(24, 0)
    vx, _ = _data(20, 1)
    res = train_detector(x, y, vx, y[:20], arch="test_resnet", seed=0, config=TrainConfig(epochs=1, batch_size=8))
    ref = predict_scores(res.model, vx)
    fast = validation_scores(res.model, vx, batch_size=7)  # several batches
    # float32 kernels differ in the last bits only: 1e-5 is ~100 ulps of a score in (0, 1)
    assert np.abs(fast - ref).max() < 1e-5 and fast.dtype == np.float64 and fast.shape == (20,)
    assert all(p.is_contiguous() for p in res.model.parameters())  # back in its own layout
    assert validation_scores(res.model, vx[:0]).shape == (0,)


def test_training_with_fast_validation_equals_the_previous_path(monkeypatch):
    x, y = _data(32, 2)
    vx, vy = _data(16, 3)
    cfg = TrainConfig(epochs=3, batch_size=8)
    fast = train_detector(x, y, vx, vy, arch="test_resnet", seed=5, config=cfg)
    monkeypatch.setattr(train_mod, "validation_scores", predict_scores)  # the implementation before
    before = train_detector(x, y, vx, vy, arch="test_resnet", seed=5, config=cfg)
    assert [c["val_auc"] for c in fast.curve] == [c["val_auc"] for c in before.curve]
    assert fast.best_epoch == before.best_epoch
    assert [c["train_loss"] for c in fast.curve] == [c["train_loss"] for c in before.curve]
    for a, b in zip(fast.model.state_dict().values(), before.model.state_dict().values()):
        assert torch.equal(a, b)


def test_channels_last_training_is_deterministic_and_returns_the_usual_layout():
    x, y = _data(24, 4)
    cfg = TrainConfig(epochs=2, batch_size=8, channels_last=True)
    a = train_detector(x, y, x[:12], y[:12], arch="test_resnet", seed=1, config=cfg)
    b = train_detector(x, y, x[:12], y[:12], arch="test_resnet", seed=1, config=cfg)
    assert a.curve == b.curve
    assert all(torch.equal(p, q) for p, q in zip(a.model.state_dict().values(), b.model.state_dict().values()))
    assert all(p.is_contiguous() for p in a.model.parameters())
    a.model.to(memory_format=torch.channels_last)
    validation_scores(a.model, x[:4])
    assert train_mod._is_channels_last(a.model)  # scoring restores the layout it found
