"""Fuzzing the DICOM reader (``read_dicom``, ``probe_dicom``, ``read_dicom_meta``).

Mutations: random truncation, byte flips, wrong VRs on the image-pixel tags, huge declared
dimensions (must be refused *before* decoding allocates), NaN/inf in float pixel data and bad
transfer syntaxes. Only :class:`~mammobench.errors.MammoBenchError` subclasses may escape; a
successfully read image must be finite float32 of the declared size. Default (CI) profile: bounded
examples; ``HYPOTHESIS_PROFILE=fuzz pytest -m fuzz tests/fuzz`` runs the long campaign.
"""
from __future__ import annotations

import io
import math
import struct

import numpy as np
import pydicom
import pytest
from hypothesis import event, given, strategies as st

from mammobench.data.dicom import probe_dicom, read_dicom, read_dicom_meta
from mammobench.data.dicom_write import phantom, write_dicom
from mammobench.errors import DicomError, MammoBenchError
from tests.helpers.fuzz_budget import address_space, ci

SHAPE = (64, 48)
_SEED_FILES: dict[str, bytes] = {}


def seed_bytes(syntax: str) -> bytes:
    """A small valid DICOM of the given transfer syntax (built once per process)."""
    if syntax not in _SEED_FILES:
        import tempfile
        from pathlib import Path

        with tempfile.TemporaryDirectory() as tmp:
            path = write_dicom(Path(tmp) / "seed.dcm", phantom(0, SHAPE), syntax=syntax, padding_value=0)
            _SEED_FILES[syntax] = path.read_bytes()
    return _SEED_FILES[syntax]


def mutate(data: bytes, cut: int, flips: list[tuple[int, int]]) -> bytes:
    """Truncate ``data`` to ``cut`` bytes (from 128 on, the preamble is kept) and overwrite bytes."""
    buf = bytearray(data[: max(0, min(cut, len(data)))])
    for pos, val in flips:
        if buf:
            buf[pos % len(buf)] = val
    return bytes(buf)


def check_reader(path) -> None:
    """Every reader entry point must succeed with sane output or raise a project error naming the file."""
    for fn in (read_dicom_meta, probe_dicom):
        try:
            fn(path)
        except MammoBenchError as err:
            assert str(path) in str(err), f"error does not name the file: {err}"
    try:
        image = read_dicom(path, max_pixels=1_000_000)
    except MammoBenchError as err:
        assert isinstance(err, DicomError) and str(path) in str(err), err
        event("DicomError: " + str(err).replace(str(path), "").strip(": ")[:30])
        return
    event("decoded")
    assert image.pixels.dtype == np.float32 and image.pixels.ndim == 2
    assert np.isfinite(image.pixels).all(), "non-finite pixels escaped read_dicom"
    assert image.pixels.shape == image.padding_mask.shape


syntaxes = st.sampled_from(["native", "rle", "jpegls", "j2k"])
cuts = st.integers(0, 4000)
flips_small = st.lists(st.tuples(st.integers(0, 1 << 16), st.integers(0, 255)), max_size=6)
flips_large = st.lists(st.tuples(st.integers(0, 1 << 16), st.integers(0, 255)), max_size=40)


def _run_bytes(tmp_path_factory, syntax: str, cut: int, flips, from_end: bool) -> None:
    data = seed_bytes(syntax)
    cut = len(data) - cut if from_end else cut
    path = tmp_path_factory.mktemp("d") / "f.dcm"
    path.write_bytes(mutate(data, cut, flips))
    check_reader(path)


@ci(40)
@given(syntax=syntaxes, cut=cuts, flips=flips_small, from_end=st.booleans())
def test_truncation_and_byte_flips(tmp_path_factory, syntax, cut, flips, from_end):
    _run_bytes(tmp_path_factory, syntax, cut, flips, from_end)


@pytest.mark.fuzz
@given(syntax=syntaxes, cut=cuts, flips=flips_large, from_end=st.booleans())
def test_truncation_and_byte_flips_long(tmp_path_factory, syntax, cut, flips, from_end):
    _run_bytes(tmp_path_factory, syntax, cut, flips, from_end)


# ---------------------------------------------------------------- header-level mutations (pydicom datasets)
PIXEL_TAGS = ["Rows", "Columns", "NumberOfFrames", "BitsAllocated", "BitsStored", "HighBit", "PixelRepresentation",
              "SamplesPerPixel", "PhotometricInterpretation", "PixelPaddingValue", "RescaleSlope",
              "RescaleIntercept", "WindowCenter", "WindowWidth", "PatientAge", "PixelSpacing", "ImageLaterality",
              "ViewPosition", "PlanarConfiguration"]
VRS = ["US", "SS", "UL", "SL", "FL", "FD", "DS", "IS", "CS", "LO", "SH", "AS", "OB", "OW", "UN", "SQ", "UT"]
_LONG_VRS = {"OB", "OW", "OF", "OD", "OL", "OV", "SQ", "UT", "UN", "UC", "UR", "SV", "UV"}
raw_values = st.one_of(
    st.binary(max_size=16),
    st.integers(0, (1 << 16) - 1).map(lambda i: struct.pack("<H", i)),
    st.integers(-(1 << 31), (1 << 31) - 1).map(lambda i: struct.pack("<i", i)),
    st.floats(allow_nan=True, allow_infinity=True).map(lambda f: struct.pack("<d", f)),
    st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=12).map(str.encode),
    st.sampled_from([b"nan", b"inf", b"-1", b"0", b"99999999", b"1e308", b"\\", b"054Y"]),
)
TRANSFER_SYNTAXES = ["1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2", "1.2.840.10008.1.2.4.50",
                     "1.2.840.10008.1.2.4.70", "1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.5",
                     "1.2.840.10008.1.2.1.99", "1.2.3.4.5.6.7", "", "not-a-uid"]
_PIXEL_TAG = b"\xe0\x7f\x10\x00"


def _ds() -> pydicom.Dataset:
    return pydicom.dcmread(io.BytesIO(seed_bytes("native")))


def _save(ds: pydicom.Dataset, path) -> bool:
    """Write without validation; False when pydicom itself refuses to encode the value (not our reader)."""
    try:
        ds.save_as(path, enforce_file_format=False)
    except Exception:  # the *writer* refusing a nonsense value is not a reader finding
        return False
    return True


def encode_element(keyword: str, vr: str, value: bytes) -> bytes:
    """Explicit-VR little-endian bytes of one element, whatever its (possibly wrong) VR and value."""
    tag = pydicom.datadict.tag_for_keyword(keyword)
    value = value + b"\0" * (len(value) % 2)
    head = struct.pack("<HH", tag >> 16, tag & 0xFFFF) + vr.encode()
    if vr in _LONG_VRS:
        return head + b"\0\0" + struct.pack("<I", len(value)) + value
    return head + struct.pack("<H", len(value)) + value


def _run_header(tmp_path_factory, edits, syntax_uid) -> None:
    """Insert raw elements (later ones override) just before PixelData; optionally swap the transfer syntax."""
    data = seed_bytes("native")
    at = data.rindex(_PIXEL_TAG)
    extra = b"".join(encode_element(k, vr, v) for k, vr, v in edits)
    data = data[:at] + extra + data[at:]
    if syntax_uid is not None:
        old = str(pydicom.uid.ExplicitVRLittleEndian).encode() + b"\0"
        new = syntax_uid.encode()
        new = new + b"\0" * (len(new) % 2)
        # keep the group length right: pad/trim the UID value to the original length
        data = data.replace(old, (new + b"\0" * len(old))[: len(old)], 1)
    path = tmp_path_factory.mktemp("h") / "h.dcm"
    path.write_bytes(data)
    check_reader(path)


edits_strategy = st.lists(st.tuples(st.sampled_from(PIXEL_TAGS), st.sampled_from(VRS), raw_values), max_size=4)


@ci(40)
@given(edits=edits_strategy, syntax_uid=st.none() | st.sampled_from(TRANSFER_SYNTAXES))
def test_wrong_vrs_values_and_transfer_syntax(tmp_path_factory, edits, syntax_uid):
    _run_header(tmp_path_factory, edits, syntax_uid)


@pytest.mark.fuzz
@given(edits=st.lists(st.tuples(st.sampled_from(PIXEL_TAGS), st.sampled_from(VRS), raw_values), max_size=10),
       syntax_uid=st.none() | st.sampled_from(TRANSFER_SYNTAXES))
def test_wrong_vrs_values_and_transfer_syntax_long(tmp_path_factory, edits, syntax_uid):
    _run_header(tmp_path_factory, edits, syntax_uid)


# ---------------------------------------------------------------- huge declared sizes: refused before allocation
def _run_huge(tmp_path_factory, rows, cols, frames, bits) -> None:
    ds = _ds()
    ds.Rows, ds.Columns, ds.BitsAllocated = rows, cols, bits
    ds.BitsStored, ds.HighBit = min(bits, 16), min(bits, 16) - 1
    if frames is not None:
        ds.NumberOfFrames = frames
    path = tmp_path_factory.mktemp("g") / "g.dcm"
    assert _save(ds, path)
    declared = rows * cols * (frames or 1) * bits // 8
    with address_space(2 << 30):  # 2 GiB of address space on top of what the process already maps
        try:
            read_dicom(path, max_pixels=1_000_000)
        except DicomError as err:
            assert str(path) in str(err)
            if rows * cols * (frames or 1) > 1_000_000:
                assert "max_pixels" in str(err), err
        except MemoryError as err:  # pragma: no cover - the finding this test exists for
            pytest.fail(f"read_dicom allocated for a declared {declared} bytes image: {err}")


@ci(40)
@given(rows=st.integers(1, 65535), cols=st.integers(1, 65535), frames=st.none() | st.integers(1, 100_000),
       bits=st.sampled_from([8, 16, 32]))
def test_huge_declared_dimensions_refused_before_decoding(tmp_path_factory, rows, cols, frames, bits):
    _run_huge(tmp_path_factory, rows, cols, frames, bits)


def test_max_pixels_counts_frames(tmp_path):
    ds = _ds()
    ds.Rows, ds.Columns, ds.NumberOfFrames = 1000, 1000, 50_000
    path = tmp_path / "frames.dcm"
    ds.save_as(path, enforce_file_format=False)
    with pytest.raises(DicomError, match="max_pixels"):
        read_dicom(path)


# ---------------------------------------------------------------- float pixel data with NaN / inf
def _float_file(path, values_: np.ndarray, double: bool):
    ds = _ds()
    del ds.PixelData
    for k in ("BitsStored", "HighBit", "PixelRepresentation", "PixelPaddingValue", "WindowCenter", "WindowWidth"):
        if k in ds:
            delattr(ds, k)
    ds.BitsAllocated = 64 if double else 32
    arr = values_.astype(np.float64 if double else np.float32).reshape(SHAPE)
    if double:
        ds.DoubleFloatPixelData = arr.tobytes()
    else:
        ds.FloatPixelData = arr.tobytes()
    return _save(ds, path)


specials = st.sampled_from([math.nan, math.inf, -math.inf, 0.0, 1.0, -1e30, 1e30, 3.4e38])


@ci(40)
@given(base=st.floats(-1e6, 1e6), specials_at=st.lists(st.tuples(st.integers(0, SHAPE[0] * SHAPE[1] - 1), specials),
                                                         max_size=8), double=st.booleans())
def test_nan_inf_float_pixel_data(tmp_path_factory, base, specials_at, double):
    values_ = np.full(SHAPE[0] * SHAPE[1], base)
    for pos, v in specials_at:
        values_[pos] = v
    path = tmp_path_factory.mktemp("f") / "float.dcm"
    if _float_file(path, values_, double):
        check_reader(path)


@pytest.mark.fuzz
@given(base=st.floats(allow_nan=True, allow_infinity=True),
       specials_at=st.lists(st.tuples(st.integers(0, SHAPE[0] * SHAPE[1] - 1), specials), max_size=64),
       double=st.booleans())
def test_nan_inf_float_pixel_data_long(tmp_path_factory, base, specials_at, double):
    test_nan_inf_float_pixel_data.hypothesis.inner_test(tmp_path_factory, base, specials_at, double)


@pytest.mark.fuzz
@given(rows=st.integers(1, 65535), cols=st.integers(1, 65535), frames=st.none() | st.integers(1, 1 << 31),
       bits=st.sampled_from([1, 8, 16, 32, 64]))
def test_huge_declared_dimensions_long(tmp_path_factory, rows, cols, frames, bits):
    _run_huge(tmp_path_factory, rows, cols, frames, bits)
