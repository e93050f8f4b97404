"""Huge-dimension image headers: PNG IHDR and NPY headers in folder submissions, DICOM headers at ingest.

A small file may declare a huge image. Every reader must refuse it from the header — before decoding or
allocating — in one sentence that names the file and the limit. The address-space limit makes an
allocation for the declared size fail loudly (MemoryError) instead of passing unnoticed.
"""
from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, strategies as st

from mammobench.baselines.folder.validate import MAX_IMAGE_PIXELS, MAX_SUBMISSION_PIXELS, load_folder
from mammobench.errors import DataError, MammoBenchError
from tests.helpers.fuzz_budget import address_space, ci

HEADER = "file,label,lesion_type,density,age_band,view,findings\n"


def png_declaring(path: Path, width: int, height: int) -> Path:
    """A valid-looking 16-bit greyscale PNG whose IHDR declares ``width`` × ``height`` (a few hundred bytes)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 16, 0, 0, 0, 0)
    body = zlib.compress(b"\0" * 4096)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", body) + chunk(b"IEND", b""))
    return path


def npy_declaring(path: Path, shape: tuple[int, ...]) -> Path:
    """An .npy whose header declares ``shape`` float32 with (almost) no data after it."""
    header = {"descr": "<f4", "fortran_order": False, "shape": shape}
    with open(path, "wb") as fh:
        np.lib.format.write_array_header_1_0(fh, header)
        fh.write(b"\0" * 64)
    return path


def submission(root: Path, files: list[str]) -> Path:
    (root / "manifest.csv").write_text(HEADER + "".join(f"{f},normal,none,A,50-59,CC,[]\n" for f in files))
    (root / "card.yaml").write_text("name: t\nversion: '1'\n")
    return root


def test_157kb_9000x9000_png_in_32_rows_is_refused_before_decoding(tmp_path):
    png = png_declaring(tmp_path / "big.png", 9000, 9000)
    assert png.stat().st_size < 200_000
    submission(tmp_path, ["big.png"] * 32)
    with address_space(512 * 2**20), pytest.raises(DataError) as err:
        load_folder(tmp_path)
    text = str(err.value)
    assert str(png) in text and "9000×9000" in text and f"{MAX_IMAGE_PIXELS:,}" in text and "before decoding" in text
    assert text.count(". ") == 0  # one sentence


def test_per_submission_budget_counts_every_row(tmp_path):
    npy_declaring(tmp_path / "a.npy", (4096, 4096))
    rows = MAX_SUBMISSION_PIXELS // (4096 * 4096) + 1
    submission(tmp_path, ["a.npy"] * rows)
    with pytest.raises(DataError, match=f"per-submission limit of {MAX_SUBMISSION_PIXELS:,} pixels"):
        load_folder(tmp_path)


@ci(40)
@given(width=st.integers(0, 2**31 - 1), height=st.integers(0, 2**31 - 1), rows=st.integers(1, 40))
def test_fuzz_png_headers(tmp_path_factory, width, height, rows):
    root = tmp_path_factory.mktemp("png")
    png_declaring(root / "x.png", width, height)
    submission(root, ["x.png"] * rows)
    with address_space(512 * 2**20):
        try:
            load_folder(root)
        except MammoBenchError as err:
            assert "x.png" in str(err) or "manifest.csv" in str(err)
        except MemoryError as err:  # pragma: no cover - the finding this test exists for
            pytest.fail(f"load_folder allocated for a declared {width}×{height} PNG: {err}")


@ci(40)
@given(shape=st.lists(st.integers(0, 2**40), min_size=0, max_size=4).map(tuple))
def test_fuzz_npy_headers(tmp_path_factory, shape):
    root = tmp_path_factory.mktemp("npy")
    npy_declaring(root / "x.npy", shape)
    submission(root, ["x.npy"])
    with address_space(512 * 2**20):
        try:
            load_folder(root)
        except MammoBenchError as err:
            assert "x.npy" in str(err)
        except MemoryError as err:  # pragma: no cover
            pytest.fail(f"load_folder allocated for a declared {shape} array: {err}")


@ci(20)
@given(rows=st.integers(1, 65535), cols=st.integers(1, 65535), frames=st.integers(1, 5000))
def test_fuzz_dicom_headers_at_ingest(tmp_path_factory, rows, cols, frames):
    """The dicom adapter (header level) refuses huge declared DICOMs at ingest, naming the file and limit."""
    import pydicom

    from mammobench.data.dicom_write import phantom, write_dicom
    from mammobench.data.ingest import load_dataset

    root = tmp_path_factory.mktemp("dcm")
    path = write_dicom(root / "IM1", phantom(0, (32, 24)), laterality="L", view="CC")
    ds = pydicom.dcmread(path)
    ds.Rows, ds.Columns, ds.NumberOfFrames = rows, cols, frames
    ds.save_as(path)
    with address_space(512 * 2**20):
        res = load_dataset("dicom", root)
    if rows * cols * frames > 100_000_000:
        assert len(res.manifest) == 0
        reason = res.rejects["reason"].iloc[0]
        assert str(path) in reason and "max_pixels=100,000,000" in reason and "before decoding" in reason
