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
