"""Image cache: matches direct preprocessing, boxes in cache pixels, rejects, resume after a kill, speed."""
from __future__ import annotations

import json

import numpy as np
import pytest

from mammobench.data import cache_build
from mammobench.data.cache import ImageCache, build_cache
from mammobench.data.dicom import read_dicom
from mammobench.data.ingest import load_dataset
from mammobench.data.preprocess import preprocess_image
from mammobench.errors import DataError
from tests.helpers.data_replicas import make_virtual_cohort


@pytest.fixture()
def cohort(tmp_path):
    make_virtual_cohort(tmp_path / "vc")
    return load_dataset("virtual_cohort", tmp_path / "vc", split_seed=0)


def test_cache_matches_direct_preprocessing_and_maps_boxes(cohort, tmp_path):
    cache = build_cache(cohort.manifest, cohort.root, tmp_path / "c", size=32, workers=1, progress=False)
    assert len(cache.index) == 8 and cache.rejects.empty
    row = cohort.manifest.iloc[0]
    direct, tf = preprocess_image(read_dicom(tmp_path / "vc" / row["image_path"]).pixels,
                                  laterality=row["laterality"], size=32)
    np.testing.assert_allclose(cache.images([row["image_id"]])[0], direct, atol=1.0 / 65535)
    box = cache.findings("s1LCC")[0]["box"]
    expected = tf.apply_boxes(np.array([[17.0, 37.0, 23.0, 43.0]]))[0]
    np.testing.assert_allclose(box, expected, atol=0.01)
    img = cache.images(["s1LCC"])[0]
    assert img[int((box[1] + box[3]) / 2), int((box[0] + box[2]) / 2)] > 0.9  # the lesion is there
    assert cache.verify() == []


def test_rejects_listed_and_unknown_id_errors(cohort, tmp_path):
    bad = cohort.manifest.copy()
    (tmp_path / "vc" / bad.loc[1, "image_path"]).write_bytes(b"not a dicom")
    cache = build_cache(bad, cohort.root, tmp_path / "c", size=16, workers=1, progress=False)
    assert cache.rejects["image_id"].tolist() == [bad.loc[1, "image_id"]]
    assert "not a DICOM file" in cache.rejects["reason"].iloc[0]
    with pytest.raises(DataError, match="not in the cache"):
        cache.images([bad.loc[1, "image_id"]])


def test_resume_after_kill_decodes_only_missing(cohort, tmp_path, monkeypatch):
    out = tmp_path / "c"
    monkeypatch.setattr(cache_build, "CHUNK", 3)
    real_commit, calls = cache_build._commit_chunk, []

    def dying_commit(*args):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt  # simulated kill during the second chunk
        real_commit(*args)

    monkeypatch.setattr(cache_build, "_commit_chunk", dying_commit)
    with pytest.raises(KeyboardInterrupt):
        build_cache(cohort.manifest, cohort.root, out, size=16, workers=1, progress=False)
    with pytest.raises(DataError, match="did not finish"):
        ImageCache.open(out)
    decoded = []
    real_decode = cache_build.decode_row
    monkeypatch.setattr(cache_build, "_commit_chunk", real_commit)
    monkeypatch.setattr(cache_build, "decode_row", lambda t: decoded.append(t["row"]) or real_decode(t))
    cache = build_cache(cohort.manifest, cohort.root, out, size=16, workers=1, progress=False)
    assert sorted(decoded) == list(range(3, 8)) and len(cache.index) == 8
    fresh = build_cache(cohort.manifest, cohort.root, tmp_path / "fresh", size=16, workers=1, progress=False)
    np.testing.assert_array_equal(cache.images(cache.index["image_id"]), fresh.images(cache.index["image_id"]))


def test_torn_row_detected_by_crc_and_key_mismatch_refused(cohort, tmp_path):
    out = tmp_path / "c"
    cache = build_cache(cohort.manifest, cohort.root, out, size=16, workers=1, progress=False)
    arr = np.memmap(out / "images.u16", dtype=np.uint16, mode="r+", shape=(8, 16, 16))
    arr[2, :4] = 12345
    arr.flush()
    assert ImageCache.open(out).verify() == [cache.index.loc[cache.index["row"] == 2, "image_id"].iloc[0]]
    with pytest.raises(DataError, match="another manifest/size"):
        build_cache(cohort.manifest, cohort.root, out, size=24, workers=1, progress=False)
    assert json.loads((out / "cache.json").read_text())["key"]["size"] == [16, 16]


def test_second_builder_on_the_same_folder_is_refused(cohort, tmp_path):
    from mammobench.errors import RunLockedError
    from mammobench.io import RunLock

    with RunLock(tmp_path / "c"):
        with pytest.raises(RunLockedError):
            build_cache(cohort.manifest, cohort.root, tmp_path / "c", size=16, workers=1, progress=False)
    assert len(build_cache(cohort.manifest, cohort.root, tmp_path / "c", size=16, workers=1, progress=False)) == 8


def test_shared_cache_builder_waits_for_the_other_then_reuses(cohort, tmp_path):
    """With ``wait`` (the pipeline's shared cache) a second builder waits for the holder instead of failing."""
    import threading

    from mammobench.io import RunLock

    first = build_cache(cohort.manifest, cohort.root, tmp_path / "c", size=16, workers=1, progress=False)
    lock = RunLock(tmp_path / "c").__enter__()
    threading.Timer(0.5, lock.__exit__, args=(None, None, None)).start()
    again = build_cache(cohort.manifest, cohort.root, tmp_path / "c", size=16, workers=1, progress=False, wait=30)
    assert len(again) == len(first) == 8
    np.testing.assert_array_equal(again.images(list(again.index["image_id"])), first.images(list(first.index["image_id"])))
