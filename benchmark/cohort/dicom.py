"""Real DICOM files for the virtual cohort (Digital Mammography X-Ray, for presentation).

Every tag the readers rely on is written: Modality MG, 16-bit allocation with the vendor's
BitsStored, PatientAge ``'054Y'``, ImageLaterality, ViewPosition, Manufacturer and
InstitutionName of the simulated site, PixelSpacing, deterministic UIDs and pseudonymous
PatientID/PatientName only. ImageComments and the manufacturer names mark the files as simulated.

Example:
    >>> import numpy as np
    >>> data = dicom_bytes(np.zeros((4, 4), np.uint16), {
    ...     "patient_id": "VC0", "patient_name": "Virtual^P0", "age": 54, "laterality": "L", "view": "CC",
    ...     "vendor": "SYNTH Alpha", "site": "Site 1", "pixel_spacing_mm": 0.94, "bits_stored": 12,
    ...     "photometric": "MONOCHROME2", "uid_key": "x", "study_date": "20200101", "image_number": 1})
    >>> data[128:132]
    b'DICM'
"""
from __future__ import annotations

import io

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, PYDICOM_IMPLEMENTATION_UID, generate_uid

MG_FOR_PRESENTATION = "1.2.840.10008.5.1.4.1.1.1.2"


def uid(*parts: object) -> str:
    """Deterministic DICOM UID from the given parts (pydicom's hashed ``generate_uid``)."""
    return generate_uid(entropy_srcs=[str(p) for p in parts])


def _file_meta(sop_uid: str) -> FileMetaDataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = MG_FOR_PRESENTATION
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    return meta


def _patient_study(ds: Dataset, info: dict) -> None:
    ds.PatientID = info["patient_id"]
    ds.PatientName = info["patient_name"]
    ds.PatientAge = f"{int(info['age']):03d}Y"
    ds.PatientSex = "F"
    ds.StudyInstanceUID = uid("study", info["uid_key"].rsplit(":", 1)[0])
    ds.SeriesInstanceUID = uid("series", info["uid_key"])
    ds.StudyDate = ds.SeriesDate = ds.ContentDate = info["study_date"]
    ds.StudyTime = ds.ContentTime = "090000"
    ds.StudyID = "1"
    ds.SeriesNumber = 1
    ds.InstanceNumber = int(info["image_number"])
    ds.AccessionNumber = ""
    ds.ReferringPhysicianName = ""


def _equipment_image(ds: Dataset, pixels: np.ndarray, info: dict) -> None:
    ds.Modality = "MG"
    ds.Manufacturer = info["vendor"]
    ds.ManufacturerModelName = "MammoBench virtual detector"
    ds.InstitutionName = info["site"]
    ds.BodyPartExamined = "BREAST"
    ds.ImageLaterality = info["laterality"]
    ds.ViewPosition = info["view"]
    ds.PresentationIntentType = "FOR PRESENTATION"
    ds.ImageType = ["ORIGINAL", "PRIMARY"]
    ds.BurnedInAnnotation = "NO"
    ds.ImageComments = "SIMULATED: MammoBench virtual clinical trial (not a patient image)"
    spacing = f"{info['pixel_spacing_mm']:.6f}"
    ds.PixelSpacing = [spacing, spacing]
    ds.ImagerPixelSpacing = [spacing, spacing]
    ds.Rows, ds.Columns = (int(v) for v in pixels.shape)
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = info["photometric"]
    ds.BitsAllocated = 16
    ds.BitsStored = int(info["bits_stored"])
    ds.HighBit = int(info["bits_stored"]) - 1
    ds.PixelRepresentation = 0
    top = (1 << int(info["bits_stored"])) - 1
    ds.WindowCenter, ds.WindowWidth = str(top // 2), str(top)
    ds.PixelData = np.ascontiguousarray(pixels, dtype="<u2").tobytes()


def dicom_bytes(pixels: np.ndarray, info: dict) -> bytes:
    """Encode one image as a DICOM Part 10 file (explicit VR little endian) and return its bytes."""
    sop = uid("image", info["uid_key"])
    ds = Dataset()
    ds.file_meta = _file_meta(sop)
    ds.SOPClassUID = MG_FOR_PRESENTATION
    ds.SOPInstanceUID = sop
    ds.SpecificCharacterSet = "ISO_IR 100"
    _patient_study(ds, info)
    _equipment_image(ds, pixels, info)
    buf = io.BytesIO()
    pydicom.dcmwrite(buf, ds, enforce_file_format=True)
    return buf.getvalue()
