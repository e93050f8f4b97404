"""The cheaper training harness (issue #19.7, #23 row 2) changes no result, bit for bit.

The ``_ref_*`` functions below are the code as it was before (copied verbatim, only renamed): the
per-image decoding into dicts, the per-image, per-mark wAFROC scoring with ``stats.froc.match_image``,
the whole-image copy before cropping, and the training loop with ``copy.deepcopy`` of the best
state dict and a validation pass that converts the images every epoch. The new code must give the same
marks, the same figure of merit (``==``, not approximately), the same curve and chosen epoch, and
bit-identical weights. Everything is seeded and runs on CPU in a few seconds.
"""
from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

import mammobench.training.detection_train as DT
from mammobench.errors import ConfigError
from mammobench.generators.fixtures import make_tiny_train_view
from mammobench.stats.froc import match_image
from mammobench.stats.wafroc import wafroc
from mammobench.training import train as train_mod
from mammobench.training.detection_model import _peaks, decode_fields
from mammobench.training.detection_validation import lesion_table, score_fields
from mammobench.training.train import TrainConfig, train_detector

CONFIG = TrainConfig(epochs=3, batch_size=8, recipe="timm_centernet", device="cpu", threads=1)


# ---------------------------------------------------------------- the previous code, verbatim
@torch.no_grad()
def _ref_decode_marks(out, *, stride, max_marks=10):
    out = out.float()
    heat = _peaks(torch.sigmoid(out[:, :1]))
    n, _, h, w = heat.shape
    k = min(int(max_marks), h * w)
    scores, index = heat.view(n, -1).topk(k, dim=1)
    rows, cols = (index // w).float(), (index % w).float()
    flat = out[:, 1:].reshape(n, 4, -1)
    pick = flat.gather(2, index[:, None, :].expand(n, 4, k))
    size = torch.exp(pick[:, :2].clamp(-4.0, 6.0)) * stride
    cx = (cols + 0.5 + pick[:, 2].clamp(-1.0, 1.0)) * stride
    cy = (rows + 0.5 + pick[:, 3].clamp(-1.0, 1.0)) * stride
    fields = torch.stack([cx, cy, cx - size[:, 0] / 2, cy - size[:, 1] / 2, cx + size[:, 0] / 2,
                          cy + size[:, 1] / 2, scores], dim=2).cpu().tolist()
    names = ("x", "y", "x0", "y0", "x1", "y1", "score")
    return [[dict(zip(names, mark)) for mark in image] for image in fields]


@torch.inference_mode()
def _ref_predict_marks(model, x, *, device="cpu", max_marks=10, batch_size=64):
    model.eval()
    out = []
    for i in range(0, len(x), batch_size):
        xb = torch.from_numpy(np.ascontiguousarray(x[i:i + batch_size])).to(device)
        xb = xb.contiguous(memory_format=torch.channels_last)
        out += _ref_decode_marks(model(xb), stride=model.stride, max_marks=max_marks)
    return out


def _ref_validation_wafroc(marks, boxes, options):
    normal_fp, lesion_scores, weights = [], [], []
    for image_marks, image_boxes in zip(marks, boxes):
        mark_boxes = np.array([[m["x0"], m["y0"], m["x1"], m["y1"]] for m in image_marks]).reshape(-1, 4)
        scores = np.array([m["score"] for m in image_marks])
        if not image_boxes:
            normal_fp.append(scores.max() if scores.size else -np.inf)
            continue
        ls, _ = match_image(mark_boxes, scores, np.array(image_boxes), criterion=options.criterion,
                            iou_threshold=options.iou_threshold)
        lesion_scores += ls.tolist()
        weights += [1.0 / len(image_boxes)] * len(image_boxes)
    if not normal_fp or not lesion_scores:
        return float("nan")
    return wafroc(normal_fp, lesion_scores, weights)


class _RefTargetBatches(DT._TargetBatches):
    def __getitem__(self, i):
        rows = np.sort(self.idx[i])
        images, boxes = np.asarray(self.x[rows], dtype=np.float32), [self.boxes[r] for r in rows]
        if self.crop:
            rng = np.random.default_rng([*self.seed, i])
            cropped = [DT._crop(img, b, *DT.crop_window(b, img.shape[1:], self.crop, self.stride, rng), self.crop)
                       for img, b in zip(images, boxes)]
            images, boxes = np.stack([c[0] for c in cropped]), [c[1] for c in cropped]
        out_size = (images.shape[2] // self.stride, images.shape[3] // self.stride)
        return torch.from_numpy(np.ascontiguousarray(images)), DT.render_targets(boxes, out_size=out_size,
                                                                                stride=self.stride)


def _ref_train(train_x, train_boxes, val_x, val_boxes, *, arch, seed, config, options, fom_of=None):
    from mammobench.registry import DETECTORS

    device = "cpu"
    train_mod.set_determinism(seed, device, config.threads)
    model = DETECTORS.get(config.recipe)().build(arch=arch, weights=config.weights)
    model = model.to(device, memory_format=torch.channels_last)
    opt = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    crop = options.train_crop if options.train_crop and options.train_crop < min(train_x.shape[2:]) else None
    rng = np.random.default_rng(seed)
    sched = train_mod.lr_scheduler(opt, config.lr_schedule, config.epochs * -(-len(train_x) // config.batch_size))
    best, best_fom, best_epoch, curve = None, -np.inf, 0, []
    for epoch in range(config.epochs):
        data = _RefTargetBatches(train_x, train_boxes, train_mod._batches(len(train_x), config.batch_size, rng),
                                 model.stride, crop, (seed, epoch))
        loss = DT._epoch(model, opt, DT._loader(data, device, config.workers), device, None, None, sched)
        if (epoch + 1) % options.validate_every and epoch + 1 < config.epochs:
            curve.append({"epoch": epoch + 1, "train_loss": loss, "val_wafroc": None})
            continue
        marks = _ref_predict_marks(model, val_x, device=device, max_marks=options.max_marks)
        fom = fom_of(epoch) if fom_of else _ref_validation_wafroc(marks, val_boxes, options)
        curve.append({"epoch": epoch + 1, "train_loss": loss, "val_wafroc": fom})
        if best is None or (fom == fom and fom > best_fom):
            best, best_fom, best_epoch = copy.deepcopy(model.state_dict()), fom, epoch + 1
    model.load_state_dict(best)
    return model, best_epoch, curve


# ---------------------------------------------------------------- helpers
@pytest.fixture(scope="module")
def data():
    v = make_tiny_train_view(n=24, size=32, seed=1)
    return v.images[:, None].astype(np.float32), [[f["box"] for f in fs] for fs in v.findings]


def _same_state(a, b) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def _same_number(a: float, b: float) -> bool:
    return a == b or (a != a and b != b)


def _random_marks(rng, n_images: int, k: int, side: float = 32.0):
    """Marks on a coarse grid (ties of scores and coordinates on box edges are common), as dicts."""
    marks = []
    for _ in range(n_images):
        image = []
        for _ in range(k):
            x0, y0 = rng.integers(0, 8, 2) * side / 8
            w, h = rng.integers(1, 4, 2) * side / 8
            image.append({"x": x0 + w / 2, "y": y0 + h / 2, "x0": x0, "y0": y0, "x1": x0 + w, "y1": y0 + h,
                          "score": float(rng.integers(0, 6)) / 5})
        marks.append(sorted(image, key=lambda m: -m["score"]))
    return marks


def _random_boxes(rng, n_images: int, side: float = 32.0):
    boxes = []
    for _ in range(n_images):
        n = int(rng.choice([0, 0, 1, 2, 3]))
        image = []
        for _ in range(n):
            x0, y0 = rng.integers(0, 7, 2) * side / 8
            image.append([float(x0), float(y0), float(x0 + rng.integers(1, 3) * side / 8),
                          float(y0 + rng.integers(1, 3) * side / 8)])
        boxes.append(image)
    return boxes


# ---------------------------------------------------------------- scoring and decoding
@pytest.mark.parametrize("criterion,iou", [("centre", 0.1), ("iou", 0.1), ("iou", 0.3), ("iou", 0.0)])
def test_vectorised_scoring_equals_the_per_image_loop(criterion, iou):
    rng = np.random.default_rng(7)
    options = DT.DetectionOptions(criterion=criterion, iou_threshold=iou)
    nan_seen = finite_seen = 0
    for trial in range(150):
        n, k = int(rng.integers(1, 12)), int(rng.integers(1, 6))
        marks, boxes = _random_marks(rng, n, k), _random_boxes(rng, n)
        ref = _ref_validation_wafroc(marks, boxes, options)
        new = DT.validation_wafroc(marks, boxes, options)
        fields = np.array([[[m[c] for c in ("x", "y", "x0", "y0", "x1", "y1", "score")] for m in im] for im in marks])
        fast = score_fields(fields, lesion_table(boxes), criterion=criterion, iou_threshold=iou)
        assert _same_number(new, ref) and _same_number(fast, ref), (trial, ref, new, fast)
        nan_seen += ref != ref
        finite_seen += ref == ref
    assert nan_seen and finite_seen > 100  # both branches exercised


def test_scoring_of_ragged_and_empty_mark_lists_equals_the_loop():
    options = DT.DetectionOptions()
    boxes = [[[0, 0, 8, 8]], [], [[10, 10, 20, 20], [0, 0, 4, 4]], []]
    marks = [[{"x": 4, "y": 4, "x0": 2, "y0": 2, "x1": 6, "y1": 6, "score": 0.4}], [],
             [{"x": 15, "y": 15, "x0": 12, "y0": 12, "x1": 18, "y1": 18, "score": 0.9},
              {"x": 30, "y": 30, "x0": 28, "y0": 28, "x1": 32, "y1": 32, "score": 0.1}],
             [{"x": 1, "y": 1, "x0": 0, "y0": 0, "x1": 2, "y1": 2, "score": 0.5}]]
    assert DT.validation_wafroc(marks, boxes, options) == _ref_validation_wafroc(marks, boxes, options)
    empty = [[] for _ in boxes]
    assert DT.validation_wafroc(empty, boxes, options) == _ref_validation_wafroc(empty, boxes, options) == 0.5


def test_bad_scoring_input_is_a_clear_error():
    with pytest.raises(ConfigError, match="hit_criterion"):
        DT.DetectionOptions(criterion="overlap")
    with pytest.raises(ConfigError, match="criterion"):
        score_fields(np.zeros((1, 1, 7)), lesion_table([[[0, 0, 1, 1]]]), criterion="overlap")
    with pytest.raises(ConfigError, match="expected"):
        score_fields(np.zeros((2, 1, 7)), lesion_table([[[0, 0, 1, 1]]]))
    with pytest.raises(ConfigError, match="not \\[x0, y0, x1, y1\\]"):
        lesion_table([[[0, 0, 1]]])
    with pytest.raises(ConfigError, match="mark lists"):
        DT.validation_wafroc([[]], [[], []], DT.DetectionOptions())


def test_decoding_and_predicted_marks_equal_the_dict_path(data):
    torch.manual_seed(0)
    out = torch.randn(5, 5, 8, 8)
    out[:, 0, 2:4, 2:4] = 3.0  # a plateau: tied peaks
    fields = decode_fields(out, stride=4, max_marks=6)
    names = ("x", "y", "x0", "y0", "x1", "y1", "score")
    assert [[dict(zip(names, m)) for m in im] for im in fields.tolist()] == _ref_decode_marks(out, stride=4, max_marks=6)
    res = DT.train_lesion_detector(*data, *data, arch="test_resnet", seed=0, config=TrainConfig(
        epochs=1, batch_size=8, recipe="timm_centernet", device="cpu", threads=1))
    x = data[0]
    for bs in (64, 5):
        assert DT.predict_marks(res.model, x, max_marks=7, batch_size=bs) == _ref_predict_marks(res.model, x, max_marks=7,
                                                                                              batch_size=bs)


@pytest.mark.parametrize("crop", [16, None])
def test_training_batches_equal_the_whole_image_copy(data, crop, tmp_path):
    x, boxes = data
    mm = np.lib.format.open_memmap(tmp_path / "x.npy", mode="w+", dtype=np.float32, shape=x.shape)
    mm[:] = x
    idx = train_mod._batches(len(x), 8, np.random.default_rng(3))
    for source in (x, mm):
        new, ref = DT._TargetBatches(source, boxes, idx, 4, crop, (3, 1)), _RefTargetBatches(x, boxes, idx, 4, crop, (3, 1))
        for i in range(len(idx)):
            (xa, ta), (xb, tb) = new[i], ref[i]
            assert xa.dtype == xb.dtype and torch.equal(xa, xb)
            assert ta.keys() == tb.keys() and all(torch.equal(ta[k], tb[k]) for k in ta)


# ---------------------------------------------------------------- whole training runs
@pytest.mark.parametrize("seed,criterion,every", [(0, "centre", 1), (1, "iou", 1), (2, "centre", 2)])
def test_detector_training_equals_the_previous_loop(data, seed, criterion, every):
    x, boxes = data
    options = DT.DetectionOptions(criterion=criterion, train_crop=16, validate_every=every)
    new = DT.train_lesion_detector(x, boxes, x[:12], boxes[:12], arch="test_resnet", seed=seed, config=CONFIG,
                                   options=options)
    ref_model, ref_epoch, ref_curve = _ref_train(x, boxes, x[:12], boxes[:12], arch="test_resnet", seed=seed,
                                                 config=CONFIG, options=options)
    assert new.best_epoch == ref_epoch
    assert [c["train_loss"] for c in new.curve] == [c["train_loss"] for c in ref_curve]
    assert all(_same_number(a["val_wafroc"] or 0.0, b["val_wafroc"] or 0.0) for a, b in zip(new.curve, ref_curve))
    assert _same_state(new.model, ref_model)
    assert DT.predict_marks(new.model, x[:6]) == _ref_predict_marks(ref_model, x[:6])


@pytest.mark.parametrize("foms", [(0.9, 0.5, 0.7), (0.5, 0.9, 0.7), (0.5, 0.7, 0.9), (float("nan"), 0.6, 0.6),
                                  (float("nan"),) * 3])
def test_detector_keeps_the_same_checkpoint_for_any_validation_curve(data, foms, monkeypatch):
    """Earlier best (weights copied and restored), last best (no copy), ties and NaN: as the previous loop."""
    x, boxes = data
    options = DT.DetectionOptions(train_crop=16)
    calls = []

    def scripted(model, val, device, opts):
        calls.append(1)
        return foms[len(calls) - 1]

    monkeypatch.setattr(DT, "_validate", scripted)
    new = DT.train_lesion_detector(x, boxes, x[:6], boxes[:6], arch="test_resnet", seed=4, config=CONFIG,
                                   options=options)
    ref_model, ref_epoch, _ = _ref_train(x, boxes, x[:6], boxes[:6], arch="test_resnet", seed=4, config=CONFIG,
                                         options=options, fom_of=lambda epoch: foms[epoch])
    assert len(calls) == 3 and new.best_epoch == ref_epoch and _same_state(new.model, ref_model)


@pytest.mark.parametrize("aucs,expected", [((0.9, 0.5, 0.7), 1), ((0.5, 0.9, 0.7), 2), ((0.5, 0.7, 0.9), 3),
                                           ((0.5, 0.7, 0.7), 2), ((float("nan"),) * 3, 1)])
@pytest.mark.parametrize("background", [False, True], ids=["in-turn", "background"])
def test_classifier_keeps_the_scored_epochs_weights(aucs, expected, background, monkeypatch):
    """Each epoch's AUC belongs to that epoch's weights, whether scored in turn or while the next epoch trains."""
    rng = np.random.default_rng(2)
    y = (np.arange(24) % 3 == 0).astype(np.float32)
    x = rng.random((24, 1, 32, 32), dtype=np.float32) + 0.3 * y[:, None, None, None]
    states, real = [], train_mod.validation_scores

    def recording(model, vx, **kw):  # the weights each epoch's score belongs to, copied the old way
        states.append(copy.deepcopy(model.state_dict()))
        return real(model, vx, **kw)

    monkeypatch.setattr(train_mod, "validation_scores", recording)
    monkeypatch.setattr(train_mod, "_val_auc", lambda vy, s: aucs[len(states) - 1])
    res = train_detector(x, y, x[:12], y[:12], arch="test_resnet", seed=3,
                         config=TrainConfig(epochs=3, batch_size=8, background_validation=background))
    assert res.best_epoch == expected and len(states) == 3
    kept = res.model.state_dict()
    assert all(torch.equal(kept[k], states[expected - 1][k]) for k in kept)
