"""Synthetic DICOM marking: the markers are written, the reader check refuses such files, no identifiers."""
from __future__ import annotations

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from mammobench.errors import DataError, DicomError
from mammobench.data.dicom_marker import is_synthetic, require_acquired, synthetic_markers, write_synthetic_dicom


def _acquired(path):
    ds = Dataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.1.2"
    ds.SOPInstanceUID = generate_uid()
    ds.Modality, ds.ImageType = "MG", ["ORIGINAL", "PRIMARY"]
    ds.PatientName, ds.PatientID = "DOE^JANE", "PAT-0001"
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID, ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPClassUID, ds.SOPInstanceUID
    ds.save_as(path, enforce_file_format=True)
    return path


def test_synthetic_dicom_markers_and_pixels(tmp_path):
    image = np.linspace(0, 1, 12 * 10).reshape(12, 10)
    path = tmp_path / "syn.dcm"
    write_synthetic_dicom(path, image, generator="ddpm", version="0.3.0", seed=42, index=3)
    ds = pydicom.dcmread(path)
    assert list(ds.ImageType) == ["DERIVED", "SECONDARY", "SYNTHETIC"]
    assert "ddpm 0.3.0" in ds.DerivationDescription and ds.BurnedInAnnotation == "NO"
    equipment = ds.ContributingEquipmentSequence[0]
    assert equipment.ManufacturerModelName == "ddpm" and equipment.SoftwareVersions == "0.3.0"
    block = ds.private_block(0x0011, "MAMMOBENCH SYNTHETIC")
    assert block[0x10].value == "ddpm" and block[0x11].value == "0.3.0" and block[0x12].value == 42
    assert str(ds.PatientName) == "" and ds.PatientID == "SYNTHETIC" and ds.PatientIdentityRemoved == "YES"
    np.testing.assert_allclose(ds.pixel_array / 65535, image, atol=1 / 65535)
    assert len(synthetic_markers(path)) == 4
    write_synthetic_dicom(tmp_path / "again.dcm", image, generator="ddpm", version="0.3.0", seed=42, index=3)
    assert (tmp_path / "again.dcm").read_bytes() == path.read_bytes()  # deterministic UIDs


def test_reader_refuses_synthetic(tmp_path):
    path = tmp_path / "syn.dcm"
    write_synthetic_dicom(path, np.zeros((4, 4)), generator="physics", version="1.0", seed=0)
    with pytest.raises(DicomError, match="SYNTHETIC"):
        require_acquired(path)
    ds = pydicom.dcmread(path)
    ds.ImageType = ["DERIVED", "SECONDARY"]  # stripping one marker is not enough
    del ds[0x0011, 0x0010]
    assert is_synthetic(ds)
    acquired = _acquired(tmp_path / "real.dcm")
    assert not is_synthetic(acquired) and require_acquired(acquired).PatientID == "PAT-0001"


def test_bad_inputs(tmp_path):
    with pytest.raises(DataError, match="2-D"):
        write_synthetic_dicom(tmp_path / "x.dcm", np.zeros((2, 2, 2)), generator="g", version="1", seed=0)
    with pytest.raises(DataError, match="version"):
        write_synthetic_dicom(tmp_path / "x.dcm", np.zeros((2, 2)), generator="g", version=" ", seed=0)
    (tmp_path / "junk.dcm").write_bytes(b"not dicom")
    with pytest.raises(DicomError, match="junk.dcm"):
        require_acquired(tmp_path / "junk.dcm")
    assert not (tmp_path / "x.dcm").exists()
