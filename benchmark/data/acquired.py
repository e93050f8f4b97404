"""Which DICOM images a benchmark may use: acquired, for-presentation mammograms — checked from the header.

Every adapter applies :func:`acquisition_problem` to each image it ingests, whatever ``--verify`` says
(``--verify none`` reads no file at all, says so, and the image cache then refuses synthetic-marked files
on decoding). An image is refused when it is:

* **marked synthetic** (:mod:`mammobench.data.dicom_marker`: ImageType SYNTHETIC, ConversionType SYN,
  DerivationDescription, the MammoBench private block) — a generator's output must never pass as a patient;
* **not mammography**: ``Modality`` present and not ``MG`` (an ultrasound, MRI or structured report in a PACS
  export); an absent Modality is accepted (several public releases strip it);
* **FOR PROCESSING**: ``PresentationIntentType`` FOR PROCESSING or the *For Processing* SOP class
  (raw detector data, not what readers and detectors see);
* **secondary capture**: the Secondary Capture SOP classes (``1.2.840.10008.5.1.4.1.1.7*``) or ImageType
  value 2 ``SECONDARY`` (screenshots, screen-saves with burned-in ROIs, scanned paper, post-processed
  copies) — except in releases whose images are conversions by design, where the adapter says so
  (CBIS-DDSM: digitised film; CMMD: TCIA conversion).

Example:
    >>> from mammobench.data.dicom import DicomMeta
    >>> acquisition_problem(DicomMeta(modality="US"))
    "Modality is 'US', not MG (mammography): not a mammogram"
    >>> acquisition_problem(DicomMeta(modality="MG", presentation_intent="FOR PRESENTATION"))
    ''
"""
from __future__ import annotations

from typing import Any

FOR_PROCESSING_SOP_CLASSES = ("1.2.840.10008.5.1.4.1.1.1.2.1", "1.2.840.10008.5.1.4.1.1.1.1.1")
SECONDARY_CAPTURE_PREFIX = "1.2.840.10008.5.1.4.1.1.7"


def is_secondary_capture(meta: Any) -> bool:
    """True for the Secondary Capture SOP classes or ImageType value 2 SECONDARY."""
    sop = str(getattr(meta, "sop_class_uid", "") or "")
    image_type = str(getattr(meta, "image_type", "") or "").split("\\")
    return sop == SECONDARY_CAPTURE_PREFIX or sop.startswith(SECONDARY_CAPTURE_PREFIX + ".") or \
        (len(image_type) > 1 and image_type[1].strip().upper() == "SECONDARY")


def acquisition_problem(meta: Any, *, allow_secondary_capture: bool = False) -> str:
    """Why an image must not be used as an acquired mammogram ('' when it may).

    Args:
        meta: a :class:`~mammobench.data.dicom.DicomMeta` (or any object with the same attributes).
        allow_secondary_capture: the dataset is a conversion by design (digitised film).
    """
    markers = list(getattr(meta, "synthetic_markers", []) or [])
    if markers:
        return (f"marked as a SYNTHETIC image ({', '.join(markers)}): a generator's output cannot be used as an "
                "acquired image; remove it from the dataset folder")
    modality = str(getattr(meta, "modality", "") or "").upper()
    if modality and modality != "MG":
        return f"Modality is {modality!r}, not MG (mammography): not a mammogram"
    intent = str(getattr(meta, "presentation_intent", "") or "").upper()
    if intent == "FOR PROCESSING" or str(getattr(meta, "sop_class_uid", "")) in FOR_PROCESSING_SOP_CLASSES:
        return ("PresentationIntentType is FOR PROCESSING (raw detector data); MammoBench reads FOR PRESENTATION "
                "images: export the processed images from the modality or PACS")
    if not allow_secondary_capture and is_secondary_capture(meta):
        return ("secondary capture (screenshot, screen-save or post-processed copy: SOP class "
                f"{getattr(meta, 'sop_class_uid', '') or '?'}, ImageType {getattr(meta, 'image_type', '') or '?'}); "
                "export the original image from the modality or PACS")
    return ""
