"""Writing 16-bit mammography DICOM files with pydicom (test replicas, cache benchmarks, fixtures).

Supports the native and compressed transfer syntaxes the reader must handle: ``native`` (explicit VR
little endian), ``rle`` (pydicom's own encoder), ``jpegls`` (pyjpegls) and ``j2k`` (JPEG 2000
lossless via pylibjpeg-openjpeg).

Example:
    >>> import tempfile, numpy as np
    >>> p = write_dicom(Path(tempfile.mkdtemp()) / "a.dcm", np.zeros((8, 8), np.uint16), syntax="rle")
    >>> p.suffix
    '.dcm'
"""
from __future__ import annotations

import datetime as _dt
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, JPEG2000Lossless, JPEGLSLossless, RLELossless, generate_uid

SYNTAXES = {"native": ExplicitVRLittleEndian, "rle": RLELossless, "jpegls": JPEGLSLossless,
            "j2k": JPEG2000Lossless}
DIGITAL_MG = "1.2.840.10008.5.1.4.1.1.1.2"


def phantom(seed: int, shape: tuple[int, int] = (96, 64), *, side: str = "L", dense: float = 0.5,
            lesion_xy: tuple[int, int] | None = None) -> np.ndarray:
    """A half-ellipse 'breast' against the left (side='L') or right edge; uint16, bright = dense."""
    rng = np.random.default_rng(seed)
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w]
    x_from_wall = xx if side == "L" else (w - 1 - xx)
    inside = (x_from_wall / (0.8 * w)) ** 2 + ((yy - h / 2) / (0.45 * h)) ** 2 <= 1
    img = np.where(inside, 1500 + 1500 * dense + rng.normal(0, 80, shape), 50 + rng.normal(0, 5, shape))
    if lesion_xy is not None:
        lx, ly = lesion_xy
        img[max(0, ly - 3):ly + 3, max(0, lx - 3):lx + 3] += 1200
    return np.clip(img, 0, 4095).astype(np.uint16)


def write_dicom(path: Path, pixels: np.ndarray, *, syntax: str = "native", photometric: str = "MONOCHROME2",
                laterality: str | None = "L", view: str | None = "CC", view_code: str | None = None,
                age: str | None = "054Y", patient_id: str = "P1", study_uid: str | None = None,
                sop_uid: str | None = None, manufacturer: str = "ACME", institution: str = "Site A",
                spacing: float | None = 0.1, imager_spacing: float | None = None,
                padding_value: int | None = None, rescale: tuple[float, float] | None = None,
                with_pixels: bool = True, sop_class: str = DIGITAL_MG, extra: dict | None = None) -> Path:
    """Write one 16-bit MG DICOM (pixels given in the *stored* orientation); returns the path.

    ``extra`` sets further attributes by keyword (``{"PresentationIntentType": "FOR PROCESSING"}``,
    ``{"Modality": "US"}``, ``{"AccessionNumber": "A1"}``); a value of None deletes the attribute.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = sop_uid or generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID, ds.SOPInstanceUID = sop_class, meta.MediaStorageSOPInstanceUID
    ds.Modality, ds.PatientID, ds.StudyInstanceUID = "MG", patient_id, study_uid or generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.StudyDate = _dt.date(2020, 1, 1).strftime("%Y%m%d")
    ds.Manufacturer, ds.InstitutionName = manufacturer, institution
    if age is not None:
        ds.PatientAge = age
    if laterality is not None:
        ds.ImageLaterality = laterality
    if view is not None:
        ds.ViewPosition = view
    if view_code is not None:
        item = pydicom.Dataset()
        item.CodeValue, item.CodingSchemeDesignator = view_code, "SCT"
        item.CodeMeaning = {"399162004": "cranio-caudal", "399368009": "medio-lateral oblique"}.get(view_code, "x")
        ds.ViewCodeSequence = pydicom.Sequence([item])
    if spacing is not None:
        ds.PixelSpacing = [spacing, spacing]
    if imager_spacing is not None:
        ds.ImagerPixelSpacing = [imager_spacing, imager_spacing]
    if padding_value is not None:
        ds.PixelPaddingValue = padding_value
    if rescale is not None:
        ds.RescaleSlope, ds.RescaleIntercept = rescale
    ds.WindowCenter, ds.WindowWidth = 2000, 3000
    for keyword, value in (extra or {}).items():
        if value is None:
            if keyword in ds:
                delattr(ds, keyword)
        else:
            setattr(ds, keyword, value)
    pixels = np.asarray(pixels, dtype=np.uint16)
    ds.Rows, ds.Columns = pixels.shape
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, photometric
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    if with_pixels:
        ds.PixelData = pixels.tobytes()
        if syntax != "native":
            ds.compress(SYNTAXES[syntax], pixels, generate_instance_uid=False)
    ds.save_as(path, enforce_file_format=True)
    return path
