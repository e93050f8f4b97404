"""DICOM reading: compressed syntaxes, MONOCHROME1, rescale, padding, tags, and every failure as DicomError."""
from __future__ import annotations

import math

import numpy as np
import pytest

from mammobench.data.dicom import parse_patient_age, probe_dicom, read_dicom, read_dicom_meta
from mammobench.errors import DicomError
from tests.helpers.data_replicas import SYNTAXES, phantom, write_dicom


@pytest.mark.parametrize("syntax", sorted(SYNTAXES))
def test_compressed_syntaxes_round_trip(tmp_path, syntax):
    px = phantom(3)
    image = read_dicom(write_dicom(tmp_path / "a.dcm", px, syntax=syntax))
    assert image.pixels.dtype == np.float32
    np.testing.assert_array_equal(image.pixels, px.astype(np.float32))
    assert image.meta.transfer_syntax == str(SYNTAXES[syntax])


def test_monochrome1_is_inverted(tmp_path):
    px = phantom(1)
    stored = 4095 - px  # MONOCHROME1 stores dense tissue dark
    image = read_dicom(write_dicom(tmp_path / "m1.dcm", stored, photometric="MONOCHROME1"))
    assert np.corrcoef(image.pixels.ravel(), px.ravel())[0, 1] > 0.999
    assert image.pixels[48, 5] > image.pixels[2, 60]  # breast brighter than background


def test_rescale_and_padding(tmp_path):
    px = phantom(2)
    px[:, -4:] = 0  # padding strip
    image = read_dicom(write_dicom(tmp_path / "p.dcm", px, padding_value=0, rescale=(2.0, -100.0)))
    assert image.padding_mask[:, -4:].all() and not image.padding_mask[:, :10].any()
    valid = px[:, :-4][px[:, :-4] > 0].astype(np.float32) * 2 - 100
    assert image.pixels[:, -4:].max() == pytest.approx(valid.min())  # padding filled with the minimum
    assert image.pixels[40, 5] == pytest.approx(px[40, 5] * 2.0 - 100.0)


@pytest.mark.parametrize("text,years", [("054Y", 54.0), ("006M", 0.5), ("052W", 52 / 52.1775),
                                        ("365D", 365 / 365.25), ("54", 54.0), ("", math.nan), ("abcY", math.nan),
                                        (None, math.nan), ("999Y", math.nan)])
def test_patient_age_parsing(text, years):
    got = parse_patient_age(text)
    assert (math.isnan(got) and math.isnan(years)) or got == pytest.approx(years)


def test_meta_fallbacks(tmp_path):
    path = write_dicom(tmp_path / "v.dcm", phantom(0), laterality=None, view=None, view_code="399368009",
                       spacing=None, imager_spacing=0.085, age="067Y")
    import pydicom

    ds = pydicom.dcmread(path)
    ds.Laterality = "R"  # series-level laterality only
    ds.save_as(path)
    meta = read_dicom_meta(path)
    assert (meta.view, meta.laterality, meta.age, meta.pixel_spacing_mm) == ("MLO", "R", 67.0, 0.085)
    assert meta.manufacturer == "ACME" and meta.institution == "Site A"


def test_display_window_is_separate(tmp_path):
    image = read_dicom(write_dicom(tmp_path / "w.dcm", phantom(0)))
    disp = image.display()
    assert disp.min() >= 0 and disp.max() <= 1 and not np.shares_memory(disp, image.pixels)
    assert image.pixels.max() > 1  # raw values untouched by VOI


def _bad_files(tmp_path):
    good = write_dicom(tmp_path / "good.dcm", phantom(0, (200, 150)))
    data = good.read_bytes()
    (tmp_path / "trunc.dcm").write_bytes(data[: len(data) * 2 // 3])
    write_dicom(tmp_path / "trunc_rle.dcm", phantom(0, (200, 150)), syntax="rle")
    rle = (tmp_path / "trunc_rle.dcm").read_bytes()
    (tmp_path / "trunc_rle.dcm").write_bytes(rle[: len(rle) // 2])
    write_dicom(tmp_path / "nopix.dcm", phantom(0), with_pixels=False)
    (tmp_path / "text.dcm").write_text("patient,age\n1,54\n")
    (tmp_path / "empty.dcm").write_bytes(b"")
    return {"trunc.dcm": "truncated", "trunc_rle.dcm": "truncated", "nopix.dcm": "no pixel data",
            "text.dcm": "not a DICOM file", "empty.dcm": "empty file", "missing.dcm": "file not found"}


@pytest.mark.parametrize("reader", [read_dicom, probe_dicom])
def test_every_failure_is_a_dicom_error_naming_file_and_reason(tmp_path, reader):
    for name, reason in _bad_files(tmp_path).items():
        with pytest.raises(DicomError) as info:
            reader(tmp_path / name)
        assert name in str(info.value) and reason in str(info.value), str(info.value)


def test_absurd_size_refused_before_decoding(tmp_path):
    path = write_dicom(tmp_path / "big.dcm", phantom(0))
    with pytest.raises(DicomError, match="over the per-image limit of max_pixels=1,000"):
        read_dicom(path, max_pixels=1000)


def test_corrupted_bytes_only_raise_dicom_error(tmp_path):
    """Byte flips and truncations anywhere in a file: either a clean read or a DicomError, nothing else."""
    from hypothesis import HealthCheck, given, settings, strategies as st

    data = {s: write_dicom(tmp_path / f"{s}.dcm", phantom(5), syntax=s).read_bytes() for s in SYNTAXES}

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(syntax=st.sampled_from(sorted(SYNTAXES)), cut=st.floats(0.0, 1.0),
           flips=st.lists(st.tuples(st.floats(0.0, 0.999), st.integers(0, 255)), max_size=6))
    def check(syntax, cut, flips):
        raw = bytearray(data[syntax])
        for pos, value in flips:
            raw[int(pos * len(raw))] = value
        path = tmp_path / "fuzz.dcm"
        path.write_bytes(bytes(raw[: max(1, int(cut * len(raw)))] if cut < 0.98 else raw))
        for reader in (read_dicom, probe_dicom):
            try:
                reader(path)
            except DicomError:
                pass

    check()


def test_voi_lut_sequence_is_used_for_display_only(tmp_path):
    import pydicom

    px = phantom(4)
    path = write_dicom(tmp_path / "voi.dcm", px)
    ds = pydicom.dcmread(path)
    item = pydicom.Dataset()
    item.LUTDescriptor = [4096, 0, 16]
    lut = np.round(np.sqrt(np.arange(4096) / 4095.0) * 65535).astype(np.uint16)  # a gamma-like display curve
    item.add_new(0x00283006, "US", lut.tolist())
    ds.VOILUTSequence = pydicom.Sequence([item])
    ds.save_as(path)
    image = read_dicom(path)
    disp = image.display()
    np.testing.assert_array_equal(image.pixels, px.astype(np.float32))  # raw pixels untouched
    expected = np.sqrt(px / 4095.0)
    expected = (expected - expected.min()) / (expected.max() - expected.min())
    np.testing.assert_allclose(disp, expected, atol=2e-3)
