"""Synthetic backgrounds: the learned baselines' images are not copies of training images.

With ``background: synthetic`` (default) the pixel-space copy detector, calibrated on held-out
images, flags ``cgan``/``ddpm`` samples at about its calibrated rate; with ``background: training``
(lesions inserted into real training normals) it flags the normal rows — which are training images —
so the audit and the option agree on what "derived from a patient's image" means.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from mammobench.audits.memorisation import copy_detection, flipped_pixel_reference, pixel_embedding
from mammobench.errors import ConfigError
from mammobench.generators.backgrounds import SpectralBackgrounds
from mammobench.generators.compose import background_source
from mammobench.generators.fixtures import make_tiny_train_view
from mammobench.registry import GENERATORS

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def views():
    return make_tiny_train_view(n=160, size=32, seed=0), make_tiny_train_view(n=200, size=32, seed=1)


def _flags(batch, train, held) -> np.ndarray:
    """The audit's pixel-space copy flags (flip-invariant reference, threshold calibrated on ``held``)."""
    reference, index = flipped_pixel_reference(train.images)
    return copy_detection(pixel_embedding(batch.images), reference, pixel_embedding(held.images), alpha=0.01,
                          train_index=index)["flags"]


@pytest.mark.parametrize("name", ["cgan", "ddpm"])
def test_learned_baselines_do_not_copy_training_images(name, views):
    train, held = views
    cls = GENERATORS.get(name)
    synthetic = cls(**cls.tiny_config()).fit(train, seed=0).sample(120, seed=1)
    copying = cls(**cls.tiny_config(), background="training").fit(train, seed=0).sample(120, seed=1)
    assert _flags(synthetic, train, held).mean() <= 0.05
    normal = (copying.labels["label"] == "normal").to_numpy()
    assert normal.sum() >= 30 and _flags(copying, train, held)[normal].mean() >= 0.95  # training normals, returned


def test_spectral_backgrounds_match_density_brightness_and_store_no_pixels(views):
    train, _ = views
    bg = SpectralBackgrounds.from_view(train)
    rng = np.random.default_rng(0)
    m = train.manifest
    for d in ("A", "D"):
        real = train.images[((m["density"] == d) & (m["label"] == "normal")).to_numpy()]
        fake = np.stack([bg.pick(d, "CC", rng) for _ in range(40)])
        in_real, in_fake = real[real > 0.02], fake[fake > 0.02]
        assert abs(np.median(in_real) - np.median(in_fake)) < 0.05, d
    a = np.stack([bg.pick("A", "CC", rng) for _ in range(20)]).mean()
    dd = np.stack([bg.pick("D", "CC", rng) for _ in range(20)]).mean()
    assert dd > a  # denser breasts are brighter
    state = bg.to_state()
    arrays = [v for s in state["stats"].values() for v in s.values() if isinstance(v, np.ndarray)]
    assert all(arr.shape != train.images.shape[1:] or not any(np.allclose(arr, img) for img in train.images)
               for arr in arrays)
    again = SpectralBackgrounds.from_state(state).pick("B", "CC", np.random.default_rng(5))
    assert np.array_equal(again, bg.pick("B", "CC", np.random.default_rng(5)))


def test_unknown_background_source_is_a_config_error(views):
    with pytest.raises(ConfigError, match="background='scanner'"):
        background_source(views[0], "scanner")


def test_unseen_density_falls_back_to_pooled_statistics(views):
    bg = SpectralBackgrounds.from_view(views[0])
    img = bg.pick("Z", "CC", np.random.default_rng(0))
    assert img.shape == (32, 32) and np.isfinite(img).all()
    assert isinstance(pd.Series(img.ravel()).describe(), pd.Series)


def _window_view(seed: int = 0):
    """Windows inside the breast: half the normals run past the image border (8 px black strip on the
    left), half the MLO normals show a bright muscle wedge; lesion windows show neither."""
    from mammobench.protocols import TrainView

    base = make_tiny_train_view(n=160, size=32, seed=seed)
    rng = np.random.default_rng(seed)
    m = base.manifest
    images = np.clip(0.35 + 0.1 * rng.standard_normal((len(m), 32, 32)), 0.05, 0.7).astype(np.float32)
    strips, muscles = np.zeros(len(m), bool), np.zeros(len(m), bool)
    yy, xx = np.mgrid[0:32, 0:32]
    for i, row in m.iterrows():
        if row["label"] != "normal":
            continue
        if rng.random() < 0.5:
            strips[i] = True
            images[i, :, :8] = 0.0
        if row["view"] == "MLO" and rng.random() < 0.5:
            muscles[i] = True
            images[i][(xx >= (8 if strips[i] else 0)) & (yy + xx < 20)] = 0.92
    return TrainView(m, images, base.findings, manifest_hash=base.manifest_hash + "-windows"), strips, muscles


def test_window_backgrounds_draw_the_training_layouts_per_label_and_view():
    from mammobench.generators.layouts import layout_rows

    view, strips, muscles = _window_view()
    m = view.manifest
    bg = SpectralBackgrounds.from_view(view)
    rng = np.random.default_rng(1)
    normal = np.stack([bg.pick("B", "MLO", rng, label="normal") for _ in range(200)])
    lesion = np.stack([bg.pick("B", "MLO", rng, label="malignant") for _ in range(200)])
    rows_n, rows_l = layout_rows(normal), layout_rows(lesion)
    real_strip = strips[(m["label"] == "normal").to_numpy() & (m["view"] == "MLO").to_numpy()].mean()
    real_muscle = muscles[(m["label"] == "normal").to_numpy() & (m["view"] == "MLO").to_numpy()].mean()
    # n = 200 draws: binomial SD ≤ 0.036, so 0.15 is > 4 SD
    assert abs((rows_n[:, 0] > 0).mean() - real_strip) < 0.15
    assert abs((rows_n[:, 4] > 0).mean() - real_muscle) < 0.15
    assert (rows_l[:, 0] > 0).mean() == 0.0 and (rows_l[:, 4] > 0).mean() == 0.0  # lesion windows show neither
    widths = rows_n[rows_n[:, 0] > 0, 0]  # near the training strip (8 px), not its exact copy (jitter_row)
    assert abs(widths.mean() - 8.0) < 1.0 and widths.min() >= 3 and widths.max() <= 13 and len(set(widths)) > 2
    state = bg.to_state()
    assert all(np.asarray(v).ndim <= 2 and np.asarray(v).shape[-1] in (7, 33) for v in state["layouts"].values())
    again = SpectralBackgrounds.from_state(state).pick("B", "MLO", np.random.default_rng(5), label="normal")
    assert np.array_equal(again, bg.pick("B", "MLO", np.random.default_rng(5), label="normal"))


def test_whole_breast_backgrounds_keep_the_silhouette_model():
    from mammobench.protocols import TrainView

    view, _, _ = _window_view()
    images = view.images.copy()
    images[:, :, 13:] = 0.0  # whole breasts: about 40 % of the image is breast (< WINDOW_FRACTION)
    bg = SpectralBackgrounds.from_view(TrainView(view.manifest, images, view.findings, manifest_hash="whole"))
    assert bg.layouts == {}
    img = bg.pick("B", "CC", np.random.default_rng(0), label="benign")
    assert (img == 0).any() and (img > 0.02).any()
