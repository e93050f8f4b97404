"""Domain encoder / oracle: learns the attributes, is seeded, saves/loads, and timm weights stay local."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from threadpoolctl import threadpool_limits

from tests.helpers.audits import make_view
from mammobench.audits.encoder import DomainEncoder, as_image_stack, load_or_train_domain_encoder, train_domain_encoder
from mammobench.audits.timm_encoder import load_timm_encoder
from mammobench.errors import ConfigError, DataError

torch.set_num_threads(1)  # 2 shared cores: oversubscription makes small kernels 10x slower
threadpool_limits(1)


@pytest.fixture(scope="module")
def views():
    return make_view(60, size=32, seed=0), make_view(30, size=32, seed=5, split="val", prefix="v")


@pytest.fixture(scope="module")
def encoder(views):
    return train_domain_encoder(views[0], seed=0, epochs=20)


def test_oracle_beats_chance_on_held_out_images(encoder, views):
    _, holdout = views
    pred = encoder.predict(holdout.images)
    assert set(pred) == {"density", "lesion_type", "label"}
    for attr, chance in (("density", 0.25), ("lesion_type", 1 / 3), ("label", 1 / 3)):
        acc = float((pred[attr] == holdout.manifest[attr].to_numpy()).mean())
        assert acc > chance + 0.25, (attr, acc)


def test_features_and_probabilities_shapes(encoder, views):
    _, holdout = views
    feats = encoder.features(holdout.images)
    assert feats.shape == (len(holdout), encoder.feature_dim) and feats.dtype == np.float64
    probs = encoder.predict_proba(holdout.images[:, None])  # [N, 1, H, W] accepted
    assert list(probs["density"].columns) == ["A", "B", "C", "D"]
    np.testing.assert_allclose(probs["density"].sum(axis=1), 1.0, rtol=1e-9)
    assert "32x32" in encoder.name and encoder.resolution == (32, 32)


def test_training_is_seeded(views):
    train, holdout = views
    a = train_domain_encoder(train, seed=3, epochs=2, width=4).features(holdout.images[:5])
    b = train_domain_encoder(train, seed=3, epochs=2, width=4).features(holdout.images[:5])
    c = train_domain_encoder(train, seed=4, epochs=2, width=4).features(holdout.images[:5])
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_save_load_roundtrip_and_cache(encoder, views, tmp_path):
    _, holdout = views
    encoder.save(tmp_path / "enc.pt")
    loaded = DomainEncoder.load(tmp_path / "enc.pt")
    np.testing.assert_allclose(loaded.features(holdout.images), encoder.features(holdout.images), rtol=1e-6)
    assert loaded.name == encoder.name and loaded.classes == encoder.classes
    first = load_or_train_domain_encoder(views[0], seed=1, epochs=1, width=4, cache_dir=tmp_path)
    again = load_or_train_domain_encoder(views[0], seed=1, epochs=1, width=4, cache_dir=tmp_path)
    np.testing.assert_array_equal(first.features(holdout.images[:3]), again.features(holdout.images[:3]))
    assert len(list(tmp_path.glob("domain_encoder_*.pt"))) == 1


def test_bad_inputs_raise_project_errors(encoder, tmp_path):
    with pytest.raises(DataError, match="not found"):
        DomainEncoder.load(tmp_path / "missing.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(DataError, match="cannot read"):
        DomainEncoder.load(tmp_path / "junk.pt")
    with pytest.raises(DataError, match=r"\[0, 1\]"):
        encoder.features(np.full((2, 32, 32), 3.0, np.float32))
    with pytest.raises(DataError, match="shape"):
        encoder.features(np.zeros((32, 32), np.float32))


def test_timm_encoder_loads_local_file_only(tmp_path):
    import timm

    with pytest.raises(ConfigError, match="never downloads"):
        load_timm_encoder(tmp_path / "absent.pth", "resnet18")
    model = timm.create_model("resnet18", pretrained=False, num_classes=0)
    torch.save({"state_dict": model.state_dict()}, tmp_path / "r18.pth")
    enc = load_timm_encoder(tmp_path / "r18.pth", "resnet18", resolution=32)
    feats = enc.features(np.random.default_rng(0).random((3, 40, 40), dtype=np.float32))
    assert feats.shape == (3, 512) and "resnet18" in enc.name
    with pytest.raises(ConfigError, match="do not fit"):
        load_timm_encoder(tmp_path / "r18.pth", "resnet34", resolution=32)


def test_features_of_the_same_images_are_computed_once_per_encoder(views, monkeypatch):
    """Every arm's audits embed the same training/held-out images: one forward pass per image set."""
    enc = train_domain_encoder(views[0], seed=5, epochs=1, width=4)
    calls = []
    original_forward, original_descriptor = enc._forward_uncached, enc._descriptor_uncached
    monkeypatch.setattr(enc, "_forward_uncached", lambda *a: calls.append("f") or original_forward(*a))
    monkeypatch.setattr(enc, "_descriptor_uncached", lambda *a: calls.append("d") or original_descriptor(*a))
    images = views[1].images
    first = enc.features(images)
    first[:] = 0.0  # a caller scribbling on its copy must not change what the next caller gets
    again, labels = enc.features(np.array(images, copy=True)), enc.predict(images)
    enc.descriptor(images), enc.descriptor(images)
    assert calls == ["f", "d"]
    assert np.array_equal(again, enc._forward_uncached(as_image_stack(images), 256)[0]) and again.any()
    assert set(labels) == set(enc.classes)
    enc.features(images[:-1])  # other images: computed
    assert calls == ["f", "d", "f", "f"]
