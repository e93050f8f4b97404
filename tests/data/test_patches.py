"""Patch preprocessing (benchmark/data/patches.py): one fixed-field window per image, same rules for real and simulated."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mammobench.data.patches import field_pixels, preprocess_patch
from mammobench.errors import DataError


def _breast(h=240, w=200, right=False, lesion=(90, 120, 20)):
    """A flat breast (value 1000) against background 0, with one bright square lesion (x, y, side)."""
    raw = np.zeros((h, w), np.float32)
    raw[10:h - 10, 0:int(0.7 * w)] = 1000.0
    x, y, side = lesion
    raw[y:y + side, x:x + side] = 1600.0
    box = [x, y, x + side, y + side]
    if right:
        raw, box = raw[:, ::-1].copy(), [w - box[2], box[1], w - box[0], box[3]]
    return raw, box


@pytest.mark.parametrize("right", [False, True])
def test_lesion_window_contains_the_lesion_and_the_box_follows_the_pixels(right):
    raw, box = _breast(right=right)
    for key in ("a", "b", "c", "d"):
        patch, tf = preprocess_patch(raw, laterality="R" if right else "L", size=48, field_px=80, boxes=[box],
                                     key=key, jitter=0.25)
        assert patch.shape == (48, 48) and patch.dtype == np.float32
        x0, y0, x1, y1 = tf.apply_boxes(np.array([box]))[0]
        assert x1 - x0 > 5 and y1 - y0 > 5, "the lesion must lie inside the window"
        inside = patch[int(np.ceil(y0)) + 1:int(y1) - 1, int(np.ceil(x0)) + 1:int(x1) - 1]
        assert inside.min() > 0.9, "the mapped box must sit on the bright lesion pixels"
        assert tf.flipped == right


def test_same_key_same_window_other_key_other_jitter():
    raw, box = _breast()
    a = preprocess_patch(raw, laterality="L", size=32, field_px=80, boxes=[box], key="img-1")[1]
    b = preprocess_patch(raw, laterality="L", size=32, field_px=80, boxes=[box], key="img-1")[1]
    offsets = {preprocess_patch(raw, laterality="L", size=32, field_px=80, boxes=[box], key=f"k{i}")[1].crop_xyxy
               for i in range(6)}
    assert a == b
    assert len(offsets) > 1, "the jitter must move lesion windows between images"


def test_jitter_zero_centres_the_lesion():
    raw, box = _breast(lesion=(60, 100, 20))
    _, tf = preprocess_patch(raw, laterality="L", size=40, field_px=80, boxes=[box], key="x", jitter=0.0)
    x0, y0, x1, y1 = tf.apply_boxes(np.array([box]))[0]
    assert abs((x0 + x1) / 2 - 20) <= 0.5 and abs((y0 + y1) / 2 - 20) <= 0.5


def test_normal_windows_come_from_the_breast_core():
    raw, _ = _breast(lesion=(0, 0, 0))
    for key in map(str, range(10)):
        patch, tf = preprocess_patch(raw, laterality="L", size=32, field_px=60, boxes=[], key=key)
        assert (patch > 0).mean() > 0.6, f"window {tf.crop_xyxy} is mostly background"


def test_window_beyond_the_image_is_padded_not_an_error():
    raw, box = _breast(lesion=(2, 12, 10))  # lesion at the chest wall corner
    patch, tf = preprocess_patch(raw, laterality="L", size=32, field_px=100, boxes=[box], key="edge", jitter=0.0)
    assert patch.shape == (32, 32) and patch[:, :4].max() == 0.0  # left of the image: background


def test_unknown_pixel_spacing_is_a_clear_error():
    with pytest.raises(DataError, match="pixel spacing"):
        field_pixels(60.0, float("nan"), where="images/x.dcm")
    assert field_pixels(60.0, 0.5) == 120.0


def test_cache_in_patch_mode_records_the_geometry(tmp_path):
    from mammobench.cohort import make_cohort
    from mammobench.data.cache import build_cache
    from mammobench.data.ingest import load_dataset

    root = tmp_path / "vc"
    make_cohort(root, n_patients=4, seed=3, size=128)
    manifest = load_dataset("virtual_cohort", root).manifest
    patch = {"field_mm": 60.0, "jitter": 0.25}
    cache = build_cache(manifest, root, tmp_path / "c", size=32, workers=1, progress=False, patch=patch)
    whole = build_cache(manifest, root, tmp_path / "w", size=32, workers=1, progress=False)
    assert cache.patch == patch and whole.patch is None
    assert cache.info["key"] != whole.info["key"]
    with_box = [i for i in cache.index["image_id"] if cache.findings(i)]
    for image_id in with_box:
        x0, y0, x1, y1 = cache.findings(image_id)[0]["box"]
        assert 0 <= x0 < x1 <= 32 and 0 <= y0 < y1 <= 32


def test_physics_generator_cuts_patches_like_the_view(tmp_path):
    from mammobench.baselines.physics.generator import PhysicsGenerator
    from mammobench.protocols import TrainView

    manifest = pd.DataFrame({"patient_id": ["p1", "p2"], "split": ["train"] * 2, "label": ["normal", "malignant"],
                             "lesion_type": ["none", "mass"], "density": ["A", "B"], "age_band": ["50-59"] * 2,
                             "view": ["CC", "MLO"], "image_id": ["a", "b"]})
    view = TrainView(manifest, np.zeros((2, 32, 32), np.float32), patch={"field_mm": 60.0, "jitter": 0.25})
    gen = PhysicsGenerator().fit(view, seed=0)
    conditions = pd.DataFrame({"label": ["malignant"] * 3, "lesion_type": ["mass"] * 3, "density": ["A"] * 3,
                               "age_band": ["50-59"] * 3, "view": ["CC"] * 3})
    batch = gen.sample(3, conditions=conditions, seed=1)
    assert batch.images.shape == (3, 1, 32, 32)
    for img, findings in zip(batch.images[:, 0], batch.labels["findings"]):
        import json

        x0, y0, x1, y1 = (json.loads(findings) if isinstance(findings, str) else findings)[0]["box"]
        assert (x1 - x0) * (y1 - y0) >= 4, "the requested mass must be inside the window"
        assert (img > 0).mean() > 0.3
