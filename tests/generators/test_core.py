"""Generator plumbing: registry lookup, conditions, insertion geometry, fit cache, fixtures."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from mammobench.errors import ConfigError, DataError, RegistryError
from mammobench.generators import BUILTIN_GENERATORS, get_generator
from mammobench.generators.cache import cache_key, fit_or_load, load_generator, save_generator
from mammobench.generators.conditions import resolve_conditions, validate_conditions
from mammobench.generators.fixtures import make_tiny_train_view
from mammobench.generators.insertion import CONTEXT, extract_patches, insert_patch
from mammobench.registry import GENERATORS


@pytest.fixture(scope="module")
def view():
    return make_tiny_train_view(n=32, size=32, seed=0)


def test_builtins_registered_lazily_and_resolvable():
    for name in BUILTIN_GENERATORS:
        assert name in GENERATORS.names()
        assert isinstance(GENERATORS.spec(name), (str, type))
    assert type(get_generator("mammobench.baselines.classic.generator:ClassicAugmentation")).__name__ == "ClassicAugmentation"


def test_unknown_generator_suggests_close_name():
    with pytest.raises(RegistryError, match="Did you mean 'cgan'"):
        get_generator("cgn")


def test_bad_parameter_is_a_config_error():
    with pytest.raises(ConfigError, match="bad parameters"):
        get_generator("classic", not_a_param=1)


def test_fixture_is_deterministic_and_boxes_cover_drawn_lesions(view):
    again = make_tiny_train_view(n=32, size=32, seed=0)
    assert np.array_equal(view.images, again.images) and view.manifest_hash == again.manifest_hash
    for img, fs in zip(view.images, view.findings):
        for f in fs:
            x0, y0, x1, y1 = (int(v) for v in f["box"])
            assert img[y0:y1, x0:x1].max() > np.median(img[img > 0.05]) + 0.1


@pytest.mark.parametrize("conditions, message", [
    (pd.DataFrame({"density": ["E"]}), "condition 'density' row 0 is 'E'"),
    (pd.DataFrame({"colour": ["red"]}), "unknown condition column"),
    (pd.DataFrame({"label": ["normal"], "lesion_type": ["mass"]}), "'normal' goes with 'none' only"),
    (pd.DataFrame({"label": ["normal", "normal"]}), "has 2 rows but n=1"),
])
def test_bad_conditions_are_rejected_with_named_value(conditions, message):
    with pytest.raises(ConfigError, match=message):
        validate_conditions(1, conditions)


def test_resolve_conditions_keeps_requests_and_fills_from_training(view):
    rows = resolve_conditions(6, pd.DataFrame({"density": list("ABCDAB")}), view.manifest, np.random.default_rng(0))
    assert rows["density"].tolist() == list("ABCDAB")
    src = rows["source_row"].to_numpy()
    assert (view.manifest["density"].to_numpy()[src] == rows["density"].to_numpy()).all()
    assert ((rows["label"] == "normal") == (rows["lesion_type"] == "none")).all()


def test_insert_patch_box_is_exact_and_outside_unchanged():
    bg = np.full((40, 40), 0.3, np.float32)
    patch = np.full((16, 16), 0.3, np.float32)
    patch[4:12, 4:12] = 0.8  # lesion = central half of the patch
    img, box = insert_patch(bg, patch, center=(20.0, 18.0), side=16.0)
    assert box == [14.0, 16.0, 22.0, 24.0]
    assert (box[2] - box[0]) * CONTEXT == 16
    ys, xs = np.nonzero(img > 0.55)
    assert xs.min() >= box[0] - 1 and xs.max() < box[2] + 1 and ys.min() >= box[1] - 1 and ys.max() < box[3] + 1
    outside = np.ones_like(bg, bool)
    outside[12:28, 10:26] = False
    assert np.allclose(img[outside], 0.3)


def test_insert_patch_never_darkens_tissue():
    """A patch whose ring is brighter than its centre adds nothing (no dark holes), and with a
    reference (inpainting) only what the generator added to that tissue is inserted."""
    bg = np.full((40, 40), 0.5, np.float32)
    hole = np.full((16, 16), 0.9, np.float32)
    hole[4:12, 4:12] = 0.2
    img, _ = insert_patch(bg, hole, center=(20.0, 20.0), side=16.0)
    assert img.min() >= 0.5 - 1e-6
    context = np.full((16, 16), 0.6, np.float32)
    added = context.copy()
    added[6:10, 6:10] += 0.3
    img, _ = insert_patch(bg, added, center=(20.0, 20.0), side=16.0, reference=context)
    assert img.max() == pytest.approx(0.8, abs=0.05) and img.min() >= 0.5 - 1e-6


def test_lesions_are_placed_where_training_lesions_are():
    from mammobench.generators.backgrounds import place_lesion

    bg = np.full((64, 64), 0.4, np.float32)
    rng = np.random.default_rng(0)
    points = np.array([place_lesion(bg, 10.0, [[0.25, 0.75]], rng) for _ in range(200)])
    assert np.allclose(points.mean(axis=0), [16, 48], atol=1.5)
    bg[:, 32:] = 0.0  # that position is air here: fall back to tissue
    points = np.array([place_lesion(bg, 10.0, [[0.25, 0.75]], rng) for _ in range(50)])
    assert (points[:, 1] < 32).all()


def test_insert_patch_clips_box_at_the_border():
    img, box = insert_patch(np.zeros((20, 20), np.float32), np.ones((8, 8), np.float32), center=(1.0, 1.0), side=8.0)
    assert box[0] >= 0 and box[1] >= 0 and img.shape == (20, 20)


def test_extract_patches_one_per_finding_plus_normals(view):
    patches, table = extract_patches(view, 16, np.random.default_rng(0))
    n_findings = sum(len(f) for f in view.findings)
    n_normal = sum(1 for f in view.findings if not f)
    assert patches.shape == (n_findings + n_normal, 16, 16)
    assert (table["lesion_type"] == "none").sum() == n_normal


class _Counting:
    """Wraps classic to count fits."""

    fits = 0


def test_fit_or_load_caches_by_params_manifest_and_seed(view, tmp_path, monkeypatch):
    from mammobench.baselines.classic.generator import ClassicAugmentation

    original = ClassicAugmentation.fit

    def counting_fit(self, data, *, seed):
        _Counting.fits += 1
        return original(self, data, seed=seed)

    monkeypatch.setattr(ClassicAugmentation, "fit", counting_fit)
    info: dict = {}
    a = fit_or_load("classic", view, seed=0, cache_dir=tmp_path, info=info)
    assert info["cached"] is False and _Counting.fits == 1
    b = fit_or_load({"name": "classic"}, view, seed=0, cache_dir=tmp_path, info=info)
    assert info["cached"] is True and _Counting.fits == 1
    assert np.array_equal(a.sample(3, seed=1).images, b.sample(3, seed=1).images)
    fit_or_load({"name": "classic", "params": {"gamma": 0.0}}, view, seed=0, cache_dir=tmp_path)
    fit_or_load("classic", view, seed=1, cache_dir=tmp_path)
    assert _Counting.fits == 3
    keys = {cache_key("classic", {}, "h1", 0), cache_key("classic", {}, "h2", 0), cache_key("classic", {"a": 1}, "h1", 0),
            cache_key("classic", {}, "h1", 0, version="1.1"), cache_key("classic", {}, "h1", 0, version="1.2")}
    assert len(keys) == 5  # a new card version of the code is a new fit


def test_fit_or_load_without_cache_dir_fits_and_writes_nothing(view, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    info: dict = {}
    gen = fit_or_load("classic", view, seed=0, cache_dir=None, info=info)
    assert info["cached"] is False and info["path"] is None
    assert gen.sample(2, seed=1).images.shape[0] == 2
    assert not any(tmp_path.iterdir())


def test_saved_generator_is_plain_data_not_pickled_code(view, tmp_path):
    gen = get_generator("classic").fit(view, seed=0)
    path = save_generator(gen, tmp_path / "g.pt")
    payload = torch.load(path, weights_only=True)  # raises if the file needs arbitrary unpickling
    assert payload["spec"] == "mammobench.baselines.classic.generator:ClassicAugmentation"
    assert payload["card"]["name"] == "classic" and payload["card"]["training_manifest_sha256"] == view.manifest_hash
    loaded = load_generator(path)
    assert np.array_equal(loaded.sample(2, seed=3).images, gen.sample(2, seed=3).images)


def test_load_generator_rejects_garbage(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a torch file")
    with pytest.raises(DataError, match="bad.pt"):
        load_generator(bad)
