"""preprocess_image: laterality flip, breast crop robust to labels/padding, normalisation, box/mask transform."""
from __future__ import annotations

import numpy as np
import pytest

from mammobench.data.dicom_write import phantom
from mammobench.data.preprocess import ImageTransform, breast_mask, preprocess_image
from mammobench.errors import DataError


def _raw(side: str, label: bool = False) -> np.ndarray:
    img = phantom(0, (120, 90), side=side, lesion_xy=(20 if side == "L" else 69, 60)).astype(np.float32)
    if label:  # bright burned-in marker in the opposite corner
        x0 = 80 if side == "L" else 2
        img[2:8, x0:x0 + 8] = 4000.0
    return img


def test_right_breast_is_flipped_to_the_left():
    left, tf_l = preprocess_image(_raw("L"), laterality="L", size=64)
    right, tf_r = preprocess_image(_raw("R"), laterality="R", size=64)
    assert not tf_l.flipped and tf_r.flipped
    for img in (left, right):
        assert img[:, :8].mean() > img[:, -8:].mean()  # chest wall against the left edge
    assert np.abs(left - right).mean() < 0.05  # mirror images preprocess alike


def test_wrong_laterality_tag_is_corrected_by_the_image():
    _, tf = preprocess_image(_raw("R"), laterality="L", size=64)
    assert tf.flipped


def test_output_range_dtype_and_shape():
    img, tf = preprocess_image(_raw("L"), laterality="L", size=(64, 48))
    assert img.shape == (64, 48) and img.dtype == np.float32
    assert img.min() >= 0.0 and img.max() <= 1.0 and img.max() > 0.9
    assert (tf.out_height, tf.out_width) == (64, 48)


def test_crop_ignores_labels_and_nan_padding():
    raw = _raw("L", label=True)
    raw[:, -5:] = np.nan
    mask = breast_mask(raw)
    assert not mask[2:8, 80:88].any()  # the label is not breast
    _, tf = preprocess_image(raw, laterality="L", size=64)
    assert tf.crop_xyxy[2] < 80  # crop stops at the breast


def test_box_follows_the_lesion_after_flip_crop_and_resize():
    raw = _raw("R")
    img, tf = preprocess_image(raw, laterality="R", size=64)
    box = tf.apply_boxes(np.array([[66.0, 57.0, 72.0, 63.0]]))[0]  # lesion at x 66..72, y 57..63
    cx, cy = int((box[0] + box[2]) / 2), int((box[1] + box[3]) / 2)
    assert img[cy, cx] == pytest.approx(img.max(), abs=0.05)  # lesion is the brightest spot
    mask = np.zeros(raw.shape, bool)
    mask[57:63, 66:72] = True
    out_mask = tf.apply_mask(mask)
    ys, xs = np.nonzero(out_mask)
    assert abs(xs.min() - box[0]) <= 1 and abs(ys.max() + 1 - box[3]) <= 1


def test_transform_algebra_matches_hand_computation():
    tf = ImageTransform(100, 80, True, (10, 20, 50, 90), 0.5, 0.0, 3.0, 40, 40)
    # x: 80-70=10 → (10-10)*0.5=0 ; x: 80-60=20 → 5 ; y: (30-20)*0.5+3=8 ; (40-20)*0.5+3=13
    np.testing.assert_allclose(tf.apply_boxes(np.array([[60, 30, 70, 40]])), [[0, 8, 5, 13]])
    assert ImageTransform(**tf.to_dict()) == tf


def test_blank_and_bad_inputs():
    img, tf = preprocess_image(np.zeros((20, 20)), laterality="L", size=16)
    assert img.shape == (16, 16) and np.isfinite(img).all()
    with pytest.raises(DataError):
        preprocess_image(np.zeros((3, 4, 5)), laterality="L", size=16)
    with pytest.raises(DataError):
        preprocess_image(np.ones((10, 10)), laterality="L", size=2)


@pytest.mark.parametrize("density", ["A", "B", "C", "D"])
@pytest.mark.parametrize("view", ["MLO", "CC"])
def test_breast_mask_keeps_fatty_tissue_not_just_the_pectoral_muscle(view, density):
    """Regression: an Otsu split kept only the bright pectoral muscle of fatty MLO images."""
    from mammobench.data.preprocess import breast_mask
    from mammobench.simulator import sample_case, simulate_image

    rng = np.random.default_rng(7)
    spec = sample_case(rng, view=view, density=density, lesion_type="none", laterality="L")
    sim = simulate_image(spec, size=128, seed=3)
    mask = breast_mask(sim.pixels)
    assert (mask & sim.breast_mask).sum() >= 0.95 * sim.breast_mask.sum()
    assert (mask & ~sim.breast_mask).sum() <= 0.05 * mask.sum()
