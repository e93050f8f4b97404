"""The learned baselines (cgan, ddpm) at smoke size: fits are reused from the fit cache by a later run, and
fitted models generate what they are asked for (lesion type honoured, conditioning changes the output)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mammobench.generators import generator_class
from mammobench.generators.cache import fit_or_load
from mammobench.generators.fixtures import make_tiny_train_view
from mammobench.protocols import TrainView
from mammobench.torchutil import torch_threads

LEARNED = ["cgan", "ddpm"]


@pytest.fixture(scope="module")
def view():
    return make_tiny_train_view(n=32, size=32, seed=0)


def _reread(view: TrainView) -> TrainView:
    """What a second run sees: the same training rows and pixels, read again into new objects."""
    return TrainView(view.manifest.copy(), np.array(view.images, copy=True), [list(f) for f in view.findings],
                     manifest_hash=view.manifest_hash, patch=getattr(view, "patch", None))


def _counting_fit(monkeypatch, name: str) -> list[int]:
    cls = generator_class(name)
    original, calls = cls.fit, []

    def fit(self, data, *, seed):
        calls.append(seed)
        return original(self, data, seed=seed)

    monkeypatch.setattr(cls, "fit", fit)
    return calls


@pytest.mark.parametrize("name", LEARNED)
def test_second_run_reuses_the_learned_fit(name, view, tmp_path, monkeypatch):
    cls = generator_class(name)
    calls = _counting_fit(monkeypatch, name)
    info: dict = {}
    with torch_threads(1):
        first = fit_or_load(cls(**cls.tiny_config()), view, seed=3, cache_dir=tmp_path, info=info)
        assert info["cached"] is False and calls == [3] and info["fit_seconds"] > 0
        again = fit_or_load(cls(**cls.tiny_config()), _reread(view), seed=3, cache_dir=tmp_path, info=info)
        assert info["cached"] is True and calls == [3]  # no second fit
        assert np.array_equal(first.sample(4, seed=5).images, again.sample(4, seed=5).images)
        # other training rows (a different manifest hash) or another fit seed: a new fit, a new file
        fewer = TrainView(view.manifest.iloc[:-1].reset_index(drop=True), view.images[:-1], view.findings[:-1],
                          manifest_hash=view.manifest_hash + "-minus-one")
        fit_or_load(cls(**cls.tiny_config()), fewer, seed=3, cache_dir=tmp_path, info=info)
        fit_or_load(cls(**cls.tiny_config()), view, seed=4, cache_dir=tmp_path, info=info)
    assert info["cached"] is False and calls == [3, 3, 4]
    assert len(list(tmp_path.glob("*.pt"))) == 3


@pytest.mark.parametrize("name", LEARNED)
def test_smoke_fit_generates_the_requested_lesions(name, view):
    cls = generator_class(name)
    requests = pd.DataFrame({"lesion_type": ["mass", "calcification", "none", "mass", "calcification", "none"],
                             "density": ["A", "D", "B", "C", "A", "D"]})
    with torch_threads(1):
        gen = cls(**cls.tiny_config()).fit(view, seed=0)
        batch = gen.sample(len(requests), conditions=requests, seed=0)
        # the conditioning reaches the network: the same noise with another lesion type gives another patch
        table = pd.DataFrame({"lesion_type": ["mass", "calcification"], "label": ["malignant"] * 2, "density": ["B"] * 2})
        same_noise = [gen.generate_patches(table.iloc[[i]].reset_index(drop=True), seed=7)[0] for i in range(2)]
    labels = batch.labels
    assert labels["lesion_type"].tolist() == requests["lesion_type"].tolist()
    assert labels["density"].tolist() == requests["density"].tolist()
    for row, found in zip(requests.itertuples(), labels["findings"]):
        assert [f["lesion_type"] for f in found] == ([] if row.lesion_type == "none" else [row.lesion_type])
        for f in found:
            x0, y0, x1, y1 = f["box"]
            assert 0 <= x0 < x1 <= view.image_size[1] and 0 <= y0 < y1 <= view.image_size[0]
    assert np.isfinite(batch.images).all() and batch.images.min() >= 0 and batch.images.max() <= 1
    # a conditioning-blind network would give identical patches; 1e-3 is far below any visible difference
    assert np.abs(same_noise[0] - same_noise[1]).max() > 1e-3
