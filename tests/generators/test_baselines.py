"""Baseline-specific behaviour: exact boxes, folder validation errors, learned-model plumbing, figures."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from mammobench.errors import DataError
from mammobench.generators import get_generator
from mammobench.generators.fixtures import make_tiny_train_view, write_tiny_folder_submission
from mammobench.protocols import TrainView


@pytest.fixture(scope="module")
def view():
    return make_tiny_train_view(n=32, size=32, seed=0)


def _square_view() -> TrainView:
    """One image whose only bright structure is exactly its box."""
    base = make_tiny_train_view(n=1, size=48, seed=0)
    img = np.zeros((1, 48, 48), np.float32)
    img[0, 14:26, 10:20] = 1.0
    m = base.manifest.assign(label="benign", lesion_type="mass")
    return TrainView(m, img, [[{"box": [10.0, 14.0, 20.0, 26.0], "lesion_type": "mass", "pathology": "benign"}]],
                     manifest_hash="sq")


def test_classic_boxes_follow_the_warp_exactly():
    gen = get_generator("classic", gamma=0.0, contrast=0.0, rotate_deg=15.0, elastic_alpha=2.0).fit(_square_view(), seed=0)
    batch = gen.sample(12, seed=4)
    for img, fs in zip(batch.images[:, 0], batch.labels["findings"]):
        ys, xs = np.nonzero(img > 0.5)
        x0, y0, x1, y1 = fs[0]["box"]
        assert abs(xs.min() - x0) <= 1 and abs(xs.max() + 1 - x1) <= 1
        assert abs(ys.min() - y0) <= 1 and abs(ys.max() + 1 - y1) <= 1


def test_classic_labels_are_the_source_truth(view):
    batch = get_generator("classic").fit(view, seed=0).sample(
        4, conditions=pd.DataFrame({"lesion_type": ["calcification"] * 4}), seed=0)
    assert set(batch.labels["lesion_type"]) == {"calcification"}
    assert all(f and f[0]["lesion_type"] == "calcification" for f in batch.labels["findings"])


def test_folder_serves_matching_rows(tmp_path, view):
    d = write_tiny_folder_submission(tmp_path, n=16, size=32, seed=0)
    gen = get_generator("folder", path=str(d)).fit(view, seed=0)
    batch = gen.sample(5, conditions=pd.DataFrame({"label": ["malignant"] * 5}), seed=2)
    assert set(batch.labels["label"]) == {"malignant"} and batch.images.shape == (5, 1, 32, 32)


def _break(d, mutate):
    m = pd.read_csv(d / "manifest.csv", dtype=str, keep_default_na=False)
    mutate(d, m)
    m.to_csv(d / "manifest.csv", index=False)


@pytest.mark.parametrize("mutate, message", [
    (lambda d, m: m.__setitem__("file", m["file"].where(m.index != 2, "images/missing.png")),
     r"missing\.png \(manifest row 2\): file not found"),
    (lambda d, m: Image.fromarray(np.zeros((32, 32), np.uint8)).save(d / m["file"][1]),
     r"manifest row 1\): PNG mode is 'L'"),
    (lambda d, m: Image.fromarray(np.zeros((20, 32), np.uint16)).save(d / m["file"][3]),
     r"manifest row 3\): size \(20, 32\)"),
    (lambda d, m: m.__setitem__("density", m["density"].where(m.index != 4, "Z")), r"column 'density' row 4"),
    (lambda d, m: m.__setitem__("findings", m["findings"].where(
        m["label"] == "normal", '[{"box": [0, 0, 99, 5], "lesion_type": "mass"}]')), r"row \d+: .*box|row \d+: finding"),
    (lambda d, m: m.__delitem__("view"), r"missing column\(s\) \['view'\]"),
])
def test_folder_validation_names_file_and_row(tmp_path, view, mutate, message):
    d = write_tiny_folder_submission(tmp_path, n=8, size=32, seed=0)
    _break(d, mutate)
    with pytest.raises(DataError, match=message):
        get_generator("folder", path=str(d)).fit(view, seed=0)


def test_folder_rejects_npy_out_of_range(tmp_path, view):
    d = write_tiny_folder_submission(tmp_path, n=4, size=32, seed=0)
    np.save(d / "images" / "bad.npy", np.full((32, 32), 1.5, np.float32))
    _break(d, lambda d, m: m.__setitem__("file", m["file"].where(m.index != 0, "images/bad.npy")))
    with pytest.raises(DataError, match=r"bad\.npy \(manifest row 0\): expected a finite 2-D array in \[0, 1\]"):
        get_generator("folder", path=str(d)).fit(view, seed=0)


@pytest.mark.parametrize("name", ["cgan", "ddpm"])
def test_learned_baselines_record_curves_and_insert_requested_lesions(name, view):
    from mammobench.generators import generator_class
    from mammobench.torchutil import torch_threads

    cls = generator_class(name)
    with torch_threads(1):
        gen = cls(**cls.tiny_config()).fit(view, seed=0)
        batch = gen.sample(4, conditions=pd.DataFrame({"lesion_type": ["mass", "calcification", "none", "mass"]}), seed=0)
    assert len(gen.history_["step"]) >= 2 and np.isfinite(gen.history_["seconds"]).all()
    assert [len(f) for f in batch.labels["findings"]] == [1, 1, 0, 1]
    assert batch.labels["findings"][1][0]["lesion_type"] == "calcification"


def test_physics_samples_have_boxes_inside_and_requested_density(view):
    gen = get_generator("physics", sim_size=64).fit(view, seed=0)
    batch = gen.sample(3, conditions=pd.DataFrame({"density": ["D", "A", "C"], "lesion_type": ["mass", "none", "calcification"]}), seed=0)
    assert batch.labels["density"].tolist() == ["D", "A", "C"]
    for fs in batch.labels["findings"]:
        for f in fs:
            x0, y0, x1, y1 = f["box"]
            assert 0 <= x0 < x1 <= 32 and 0 <= y0 < y1 <= 32


def test_physics_batch_is_the_same_in_one_or_several_processes(view, monkeypatch):
    import mammobench.baselines.physics.generator as physics

    gen = get_generator("physics", sim_size=64).fit(view, seed=0)
    wanted = pd.DataFrame({"density": ["D", "A", "C", "B"], "lesion_type": ["mass", "none", "calcification", "mass"]})
    monkeypatch.setattr(physics, "sample_workers", lambda n: 1)
    alone = gen.sample(4, conditions=wanted, seed=2)
    monkeypatch.setattr(physics, "sample_workers", lambda n: 2)
    monkeypatch.setattr(physics, "SERIAL_BUDGET_S", 1e-9)  # the first image in this process, three in the pool
    pooled = gen.sample(4, conditions=wanted, seed=2)
    assert np.array_equal(alone.images, pooled.images) and alone.images.std() > 0
    assert alone.labels["findings"].tolist() == pooled.labels["findings"].tolist()
    monkeypatch.undo()
    assert physics._render_jobs([], 2) == []
    assert physics.sample_workers(10) == 1 and physics.sample_workers(1000, max_workers=1) == 1  # not worth a process


def test_figures_return_matplotlib_figures(view):
    from matplotlib.figure import Figure

    from mammobench.generators.figures import sample_grid, training_curves

    fig = sample_grid(view.images, view.manifest, view.images[:, None], view.manifest, by="density", per_condition=2)
    assert isinstance(fig, Figure) and len(fig.axes) == 4 * 4
    curves = training_curves({"g": {"step": [0.0, 1.0], "loss": [1.0, 0.5], "seconds": [0.1, 0.2]}})
    assert isinstance(curves, Figure)
