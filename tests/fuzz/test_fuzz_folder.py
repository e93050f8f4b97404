"""Fuzzing untrusted folder submissions (``baselines/folder/validate.py`` ``load_folder``).

Mutates manifest.csv cells (file paths incl. traversal, labels, findings JSON, codes) and the image
files (random bytes, truncation, byte flips, wrong dtype / NaN .npy). Only project errors may
escape; a loaded submission has finite images in [0, 1]. Regression tests for the bugs found are at
the bottom (see docs/hardening.md).
"""
from __future__ import annotations

import csv
import io
import shutil

import numpy as np
import pytest
from hypothesis import event, given, strategies as st

from mammobench.errors import DataError, MammoBenchError
from tests.helpers.fuzz_budget import ci

CELLS = ["", "normal", "malignant", "mass", "none", "A", "E", "[]", "[{}]", "[{\"box\": [0, 0, 99, 99]}]",
         "{", "nan", "../outside.png", "/etc/passwd", "images/s0000.npy", "images", "x.tif", "<50", "CC", "\u00e9"]
_BASE: dict[str, object] = {}


@pytest.fixture(scope="module")
def submission(tmp_path_factory):
    from mammobench.generators.fixtures import write_tiny_folder_submission

    if "root" not in _BASE:
        root = write_tiny_folder_submission(tmp_path_factory.mktemp("sub"), n=4, size=16)
        _BASE["root"] = root
        _BASE["files"] = {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}
    return _BASE


def _restore(sub) -> None:
    root = sub["root"]
    for p in list(root.rglob("*")):
        if p.is_file() and p.relative_to(root).as_posix() not in sub["files"]:
            p.unlink()
    for rel, data in sub["files"].items():
        (root / rel).write_bytes(data)


def _load(sub) -> None:
    from mammobench.baselines.folder.validate import load_folder

    try:
        labels, images = load_folder(sub["root"])
    except MammoBenchError as err:
        assert str(sub["root"]) in str(err), err
        event(type(err).__name__)
        return
    event("loaded")
    assert np.isfinite(images).all() and images.min() >= 0 and images.max() <= 1
    assert len(labels) == len(images)


def _cells_case(sub, edits) -> None:
    root = sub["root"]
    rows = list(csv.reader(io.StringIO(sub["files"]["manifest.csv"].decode())))
    for r, c, value in edits:
        row = rows[1 + r % (len(rows) - 1)]
        row[c % len(row)] = value
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    try:
        (root / "manifest.csv").write_text(out.getvalue(), encoding="utf-8")
        _load(sub)
    finally:
        _restore(sub)


@ci(40)
@given(edits=st.lists(st.tuples(st.integers(0, 10), st.integers(0, 10), st.sampled_from(CELLS)), max_size=3))
def test_folder_manifest_cells(submission, edits):
    _cells_case(submission, edits)


@pytest.mark.fuzz
@given(edits=st.lists(st.tuples(st.integers(0, 10), st.integers(0, 10), st.sampled_from(CELLS) | st.text(max_size=8)),
                      max_size=8))
def test_folder_manifest_cells_long(submission, edits):
    _cells_case(submission, edits)


@ci(30)
@given(dtype=st.sampled_from(["float32", "float64", "float16"]),
       special=st.sampled_from([np.nan, np.inf, -1.0, 2.0, 0.5]), ndim=st.integers(1, 3))
def test_folder_npy_values(submission, dtype, special, ndim):
    root = submission["root"]
    arr = np.full((16,) * ndim, 0.5, dtype=dtype)
    arr.flat[0] = special
    np.save(root / "images" / "s0000.npy", arr)
    text = submission["files"]["manifest.csv"].decode().replace("images/s0000.png", "images/s0000.npy", 1)
    try:
        (root / "manifest.csv").write_text(text, encoding="utf-8")
        _load(submission)
    finally:
        _restore(submission)


# ---------------------------------------------------------------- bugs found (fixed in baselines/folder/validate.py)
def _write(sub, rel: str, data: bytes, manifest_from: str | None = None, manifest_to: str | None = None):
    root = sub["root"]
    (root / rel).write_bytes(data)
    if manifest_from:
        text = sub["files"]["manifest.csv"].decode().replace(manifest_from, manifest_to, 1)
        (root / "manifest.csv").write_text(text, encoding="utf-8")


@pytest.mark.parametrize("mutation", ["random", "truncated"])
def test_folder_corrupt_png_is_data_error(submission, mutation):
    png = submission["files"]["images/s0000.png"]
    data = b"not a png at all" if mutation == "random" else png[: len(png) // 2]
    try:
        _write(submission, "images/s0000.png", data)
        with pytest.raises(DataError, match="s0000.png"):
            from mammobench.baselines.folder.validate import load_folder

            load_folder(submission["root"])
    finally:
        _restore(submission)


def test_folder_corrupt_npy_is_data_error(submission):
    try:
        _write(submission, "images/s0000.npy", b"\x93NUMPY garbage", "images/s0000.png", "images/s0000.npy")
        with pytest.raises(DataError, match="s0000.npy"):
            from mammobench.baselines.folder.validate import load_folder

            load_folder(submission["root"])
    finally:
        _restore(submission)


def test_folder_file_outside_submission_is_refused(submission, tmp_path):
    outside = submission["root"].parent / "outside.npy"
    np.save(outside, np.full((16, 16), 0.5, np.float32))
    try:
        _write(submission, "card.yaml", submission["files"]["card.yaml"], "images/s0000.png", "../outside.npy")
        with pytest.raises(DataError, match="outside"):
            from mammobench.baselines.folder.validate import load_folder

            load_folder(submission["root"])
    finally:
        outside.unlink()
        _restore(submission)


def test_folder_empty_manifest_is_data_error(submission):
    try:
        (submission["root"] / "manifest.csv").write_bytes(b"")
        with pytest.raises(DataError, match="manifest.csv"):
            from mammobench.baselines.folder.validate import load_folder

            load_folder(submission["root"])
    finally:
        _restore(submission)


def teardown_module(module):
    if "root" in _BASE:
        shutil.rmtree(_BASE["root"], ignore_errors=True)
    _BASE.clear()
