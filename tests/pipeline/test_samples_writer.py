"""``samples/<arm>.npz``: 8 real and 8 synthetic images per condition (density, lesion type, label) with lesion boxes."""
from __future__ import annotations

import numpy as np

from mammobench.generators.conditions import labels_frame
from mammobench.generators.fixtures import make_tiny_train_view
from mammobench.pipeline.augment import PER_CONDITION, write_samples
from mammobench.protocols import SyntheticBatch


def _batch(view):
    """A 'synthetic' batch made of the view's own images, boxes shifted by 1 px so real and synthetic differ."""
    rows = view.manifest
    findings = [[{**f, "box": [v + 1 for v in f["box"]]} for f in fs] for fs in view.findings]
    return SyntheticBatch(view.images[:, None] * 0.5, labels_frame(rows, findings))


def test_samples_carry_conditions_and_boxes(tmp_path):
    view = make_tiny_train_view(n=48, size=32, seed=3)
    batch = _batch(view)
    path = write_samples(tmp_path, "gen", view, batch)
    with np.load(path) as npz:
        arrays = {k: npz[k] for k in npz.files}
    conds = {k.split("__", 1)[1] for k in arrays if k.startswith("synthetic__")}
    assert {"density=A", "label=normal", "lesion_type=mass"} <= conds and "lesion_type=none" not in conds
    for cond in conds:
        real, synth = arrays[f"real__{cond}"], arrays[f"synthetic__{cond}"]
        assert real.shape[1:] == synth.shape[1:] == (32, 32) and real.dtype == np.float32
        n_match = int((view.manifest[cond.split("=")[0]].astype(str) == cond.split("=")[1]).sum())
        assert len(real) == min(PER_CONDITION, n_match) == len(synth) and PER_CONDITION >= 8
        assert arrays[f"boxes_real__{cond}"].shape[:2] == (len(real), arrays[f"boxes_real__{cond}"].shape[1])
    # every shown mass has its box, at the same place on the real image and (shifted) on the synthetic one
    masses = np.flatnonzero(view.manifest["lesion_type"].astype(str) == "mass")
    real_boxes, synth_boxes = arrays["boxes_real__lesion_type=mass"], arrays["boxes_synthetic__lesion_type=mass"]
    expected = {tuple(view.findings[i][0]["box"]) for i in masses}
    assert {tuple(b) for b in real_boxes[:, 0]} <= expected and not np.isnan(real_boxes[:, 0]).any()
    np.testing.assert_allclose(synth_boxes[:, 0], real_boxes[:, 0] + 1)
    assert np.isnan(arrays["boxes_real__label=normal"]).all()  # normals have no box
