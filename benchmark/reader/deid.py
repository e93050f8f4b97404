"""De-identification of what a reader study ships.

* DICOM: the DICOM PS3.15 Annex E *Basic Application Level Confidentiality Profile* (the
  attributes below, a representative core of Table E.1-1): identifying attributes are removed (X),
  emptied (Z) or replaced by a dummy / pseudonym (D); UIDs are replaced by new ones (U); private
  tags are removed; ``PatientIdentityRemoved`` = YES and ``DeidentificationMethodCodeSequence``
  records profile 113100.
* PNG exports (the default study image format) are written from pixel arrays only and must carry
  no text/metadata chunks; :func:`png_metadata_chunks` lists any that are present.

Example:
    >>> from pydicom.dataset import Dataset
    >>> ds = Dataset(); ds.PatientName = "Doe^Jane"; ds.PatientID = "12345"
    >>> clean = deidentify_dataset(ds, pseudonym="case_01")
    >>> str(clean.PatientName), clean.PatientID, clean.PatientIdentityRemoved
    ('case_01', 'case_01', 'YES')
"""
from __future__ import annotations

import os
import struct
from pathlib import Path

from pydicom.dataset import Dataset
from pydicom.uid import generate_uid

from mammobench.errors import DataError

#: Attributes replaced by the pseudonym (D).
REPLACE = ("PatientName", "PatientID")
#: Attributes emptied (Z): type-2 attributes that must stay present.
EMPTY = ("PatientBirthDate", "PatientSex", "StudyDate", "StudyTime", "AccessionNumber", "StudyID",
         "ReferringPhysicianName", "ContentDate", "ContentTime")
#: Attributes removed (X).
REMOVE = (
    "PatientAge", "PatientBirthTime", "PatientBirthName", "PatientMotherBirthName", "OtherPatientIDs",
    "OtherPatientNames", "OtherPatientIDsSequence", "PatientAddress", "PatientTelephoneNumbers",
    "PatientSize", "PatientWeight", "EthnicGroup", "Occupation", "AdditionalPatientHistory",
    "PatientComments", "MedicalRecordLocator", "MilitaryRank", "BranchOfService", "CountryOfResidence",
    "RegionOfResidence", "PatientInsurancePlanCodeSequence", "InstitutionName", "InstitutionAddress",
    "InstitutionalDepartmentName", "StationName", "OperatorsName", "PerformingPhysicianName",
    "NameOfPhysiciansReadingStudy", "PhysiciansOfRecord", "RequestingPhysician", "DeviceSerialNumber",
    "PlateID", "DetectorID", "CassetteID", "StudyDescription", "SeriesDescription", "ImageComments",
    "AcquisitionDate", "AcquisitionTime", "AcquisitionDateTime", "SeriesDate", "SeriesTime",
    "InstanceCreationDate", "InstanceCreationTime", "OverlayDate", "OverlayTime", "CurveDate", "CurveTime",
    "RequestAttributesSequence", "ReferencedPatientSequence", "ReferencedStudySequence", "IssuerOfPatientID",
    "ProtocolName", "PerformedProcedureStepID", "PerformedProcedureStepDescription",
    "ScheduledProcedureStepID", "RequestedProcedureID", "DerivationDescription", "SourceImageSequence",
    "ReferencedImageSequence", "FrameOfReferenceUID", "SynchronizationFrameOfReferenceUID",
    "IrradiationEventUID", "TextComments", "PersonName", "ResponsiblePerson", "ResponsibleOrganization",
)
#: UIDs replaced by new UIDs (U).
UIDS = ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID")

_ALLOWED_PNG_CHUNKS = {b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"sBIT", b"gAMA", b"sRGB", b"pHYs"}


def deidentify_dataset(ds: Dataset, *, pseudonym: str) -> Dataset:
    """Apply the basic confidentiality profile in place and return ``ds``.

    Args:
        ds: a pydicom dataset (pixel data untouched: burned-in text is not handled; see
            ``BurnedInAnnotation`` and reject such images upstream).
        pseudonym: the opaque case id used as PatientName / PatientID.
    """
    if str(ds.get("BurnedInAnnotation", "NO")).upper() == "YES":
        raise DataError(f"{pseudonym}: image has burned-in annotation (BurnedInAnnotation=YES); "
                        "exclude it from the study, pixel text cannot be removed safely")
    ds.remove_private_tags()
    for keyword in REMOVE:
        if keyword in ds:
            delattr(ds, keyword)
    for keyword in EMPTY:
        if keyword in ds:
            setattr(ds, keyword, "")
    for keyword in REPLACE:
        setattr(ds, keyword, pseudonym)
    for keyword in UIDS:
        if keyword in ds:
            setattr(ds, keyword, generate_uid())
    if "file_meta" in ds.__dict__ and hasattr(ds.file_meta, "MediaStorageSOPInstanceUID") and "SOPInstanceUID" in ds:
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.PatientIdentityRemoved = "YES"
    code = Dataset()
    code.CodeValue, code.CodingSchemeDesignator = "113100", "DCM"
    code.CodeMeaning = "Basic Application Confidentiality Profile"
    ds.DeidentificationMethod = "MammoBench reader study: PS3.15 basic profile"
    ds.DeidentificationMethodCodeSequence = [code]
    return ds


def remaining_identifiers(ds: Dataset) -> list[str]:
    """Keywords of profile attributes still present with a value (empty list = clean)."""
    found = [k for k in REMOVE if k in ds]
    found += [k for k in EMPTY if k in ds and str(ds.get(k, "")) != ""]
    found += ["private tags"] if any(elem.tag.is_private for elem in ds) else []
    return found


def png_metadata_chunks(path: str | os.PathLike) -> list[str]:
    """Names of PNG chunks other than pixel/colour chunks (tEXt, iTXt, zTXt, eXIf, tIME …)."""
    data = Path(path).read_bytes()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise DataError(f"{path}: not a PNG file")
    pos, extra = 8, []
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind not in _ALLOWED_PNG_CHUNKS:
            extra.append(kind.decode("latin-1"))
        pos += 12 + length
    return extra
