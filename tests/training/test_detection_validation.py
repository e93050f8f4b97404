"""The lesion detector's per-epoch validation: cheaper (inference_mode) and optionally sparser
(``detection.validate_every``), never changing what the detector learns for a seed (issue #19.7)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import mammobench.training.detection_train as DT
import mammobench.training.detection_validation as DV
from mammobench.errors import ConfigError
from mammobench.fields import build
from mammobench.generators.fixtures import make_tiny_train_view
from mammobench.pipeline.config import DetectionSpec
from mammobench.training.train import TrainConfig

CONFIG = TrainConfig(epochs=3, batch_size=8, recipe="timm_centernet", device="cpu", threads=1)


@pytest.fixture(scope="module")
def data():
    v = make_tiny_train_view(n=16, size=32)
    x, boxes = v.images[:, None].astype(np.float32), [[f["box"] for f in fs] for fs in v.findings]
    return x, boxes


def _train(data, **options):
    x, boxes = data
    return DT.train_lesion_detector(x, boxes, x, boxes, arch="test_resnet", seed=3, config=CONFIG,
                                    options=DT.DetectionOptions(train_crop=16, **options))


def _same_weights(a, b) -> bool:
    sa, sb = a.model.state_dict(), b.model.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


_UNDECORATED = DV.forward_fields.__wrapped__


def _no_grad_fields(model, batches, **kw):  # the validation forward pass as it was before inference_mode
    with torch.no_grad():
        return _UNDECORATED(model, batches, **kw)


def test_inference_mode_validation_leaves_marks_weights_and_curve_unchanged(data, monkeypatch):
    new = _train(data)
    x = data[0][:4]
    new_marks = DT.predict_marks(new.model, x, max_marks=5)
    monkeypatch.setattr(DV, "forward_fields", _no_grad_fields)
    old = _train(data)
    assert _same_weights(new, old) and new.best_epoch == old.best_epoch
    assert [p["val_wafroc"] for p in new.curve] == [p["val_wafroc"] for p in old.curve]
    no_grad = _no_grad_fields(new.model, DV.image_batches(x, 64), max_marks=5).tolist()
    assert new_marks == [[dict(zip(DV.MARK_FIELDS, m)) for m in image] for image in no_grad]


def test_sparse_validation_keeps_the_training_trajectory(data, monkeypatch):
    calls = []

    def rising(model, val, device, options):  # every later validated epoch is better: the last one is kept
        calls.append(1)
        return float(len(calls))

    monkeypatch.setattr(DT, "_validate", rising)
    every = _train(data)
    n_every = len(calls)
    sparse = _train(data, validate_every=2)
    last_only = _train(data, validate_every=10)
    assert n_every == 3 and len(calls) == 3 + 2 + 1  # epochs 1,2,3 | 2,3 | 3
    assert every.best_epoch == sparse.best_epoch == last_only.best_epoch == 3
    assert _same_weights(every, sparse) and _same_weights(every, last_only)
    assert [p["val_wafroc"] is None for p in sparse.curve] == [True, False, False]
    assert [p["train_loss"] for p in sparse.curve] == [p["train_loss"] for p in every.curve]


def test_validate_every_is_checked_and_kept_out_of_default_cell_options():
    with pytest.raises(ConfigError, match="validate_every"):
        DT.DetectionOptions(validate_every=0)
    assert "validate_every" not in build(DetectionSpec, {}, source="task.yaml").options()
    assert build(DetectionSpec, {"validate_every": 2}, source="task.yaml").options()["validate_every"] == 2
    with pytest.raises(ConfigError, match="validate_every"):
        build(DetectionSpec, {"validate_every": 0}, source="task.yaml")
