"""Reading mammography DICOM files: pixels in MONOCHROME2 orientation plus the metadata we stratify by.

:func:`read_dicom` applies the Modality LUT / rescale, inverts MONOCHROME1, masks PixelPaddingValue
and decodes compressed transfer syntaxes (JPEG 2000, JPEG-LS, RLE, JPEG lossless) through the
pylibjpeg / pyjpegls plugins. VOI LUT / windowing is kept for *display only*
(:meth:`DicomImage.display`). Every failure raises :class:`~mammobench.errors.DicomError` naming the
file and the reason; no pydicom or numpy exception escapes.

Example:
    >>> parse_patient_age("054Y"), parse_patient_age("006M")
    (54.0, 0.5)
"""
from __future__ import annotations

import contextlib
import math
import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mammobench.errors import DicomError

MAX_PIXELS_DEFAULT = 100_000_000  # 10k × 10k; mammograms are at most ~ 4k × 5k
#: bytes per pixel allowed in the file on top of the pixel budget (16-bit native data is 2; headers are small)
_MAX_FILE_BYTES_PER_PIXEL = 4
_AGE_RE = re.compile(r"^\s*(\d{1,3})\s*([DWMY]?)\s*$", re.IGNORECASE)
_AGE_DIVISOR = {"Y": 1.0, "M": 12.0, "W": 52.1775, "D": 365.25, "": 1.0}
#: SNOMED-CT and legacy SNOMED-RT codes of the view (ViewCodeSequence)
VIEW_CODES = {"399162004": "CC", "R-10242": "CC", "399368009": "MLO", "R-10226": "MLO"}


@dataclass
class DicomMeta:
    """Header fields of one image (strings '' and floats NaN when absent)."""

    patient_id: str = ""
    study_uid: str = ""
    series_uid: str = ""
    sop_uid: str = ""
    accession: str = ""
    modality: str = ""
    sop_class_uid: str = ""
    image_type: str = ""
    frames: int = 1
    synthetic_markers: list[str] = field(default_factory=list)
    age: float = math.nan
    laterality: str = ""
    view: str = ""
    manufacturer: str = ""
    model: str = ""
    institution: str = ""
    pixel_spacing_mm: float = math.nan
    photometric: str = ""
    transfer_syntax: str = ""
    presentation_intent: str = ""
    rows: int = 0
    columns: int = 0
    window_center: float = math.nan
    window_width: float = math.nan
    warnings: list[str] = field(default_factory=list)


@dataclass
class DicomImage:
    """Decoded pixels (float32, bright = dense, padding filled with the minimum) and metadata."""

    path: str
    pixels: np.ndarray
    padding_mask: np.ndarray
    meta: DicomMeta
    header: Any = None  # the pydicom Dataset without its pixel data (VOI LUT for display)

    def display(self) -> np.ndarray:
        """Pixels for display only, in [0, 1]: VOI LUT Sequence, else window centre/width, else 1–99 %.

        The raw :attr:`pixels` (used by preprocessing) are never windowed.
        """
        m = self.meta
        if self.header is not None and "VOILUTSequence" in self.header:
            return self._display_voi_lut()
        if math.isfinite(m.window_center) and math.isfinite(m.window_width) and m.window_width > 1:
            lo = m.window_center - 0.5 - (m.window_width - 1) / 2
            hi = m.window_center - 0.5 + (m.window_width - 1) / 2
            if m.photometric == "MONOCHROME1":  # window was defined on the stored (inverted) values
                span = float(self.pixels.max() + self.pixels.min())
                lo, hi = span - hi, span - lo
        else:
            lo, hi = np.percentile(self.pixels[~self.padding_mask], [1, 99]) if (~self.padding_mask).any() else (0, 1)
        return np.clip((self.pixels - lo) / max(float(hi - lo), 1e-6), 0, 1).astype(np.float32)

    def _display_voi_lut(self) -> np.ndarray:
        from pydicom.pixels import apply_voi_lut

        valid = self.pixels[~self.padding_mask]
        span = float(valid.min() + valid.max()) if valid.size else 0.0
        stored_orientation = span - self.pixels if self.meta.photometric == "MONOCHROME1" else self.pixels
        try:
            lut_input = np.rint(stored_orientation).astype(np.int64)
            out = np.asarray(apply_voi_lut(lut_input, self.header), dtype=np.float32)
        except Exception as err:  # malformed LUT: fall back to the percentile window
            self.meta.warnings.append(f"VOI LUT unusable ({type(err).__name__}: {err}); percentile window used")
            return DicomImage(self.path, self.pixels, self.padding_mask, self.meta).display()
        lo, hi = float(out.min()), float(out.max())
        out = (out - lo) / max(hi - lo, 1e-6)
        return (1.0 - out if self.meta.photometric == "MONOCHROME1" else out).astype(np.float32)


def parse_patient_age(value: Any) -> float:
    """Parse a DICOM AS string ('054Y', '006M', '012W', '100D') to years; NaN when absent or invalid.

    Example:
        >>> parse_patient_age("012W") > 0.2, math.isnan(parse_patient_age("abc"))
        (True, True)
    """
    if value is None:
        return math.nan
    match = _AGE_RE.match(str(value))
    if not match:
        return math.nan
    years = int(match.group(1)) / _AGE_DIVISOR[match.group(2).upper()]
    return float(years) if 0 <= years <= 130 else math.nan


def _text(ds: Any, keyword: str) -> str:
    value = ds.get(keyword, "")
    if value is None:
        return ""
    if hasattr(value, "__iter__") and not isinstance(value, (str, bytes)):
        value = "\\".join(str(v) for v in value)
    return str(value).strip()


def _first_float(ds: Any, keyword: str) -> float:
    value = ds.get(keyword)
    if value is None or value == "":
        return math.nan
    try:
        seq = list(value) if hasattr(value, "__iter__") and not isinstance(value, (str, bytes)) else [value]
        return float(seq[0])
    except (TypeError, ValueError, IndexError):
        return math.nan


def _view(ds: Any) -> str:
    vp = _text(ds, "ViewPosition").upper()
    if vp in ("CC", "MLO"):
        return vp
    for item in ds.get("ViewCodeSequence", []) or []:
        code = str(item.get("CodeValue", "")).strip()
        if code in VIEW_CODES:
            return VIEW_CODES[code]
        meaning = str(item.get("CodeMeaning", "")).lower()
        if "cranio" in meaning:
            return "CC"
        if "oblique" in meaning:
            return "MLO"
    return "other" if vp else ""


def extract_meta(ds: Any) -> DicomMeta:
    """Read the stratification metadata from a pydicom Dataset (never raises on odd tags)."""
    meta = DicomMeta()
    try:
        meta.patient_id, meta.study_uid = _text(ds, "PatientID"), _text(ds, "StudyInstanceUID")
        meta.series_uid, meta.sop_uid = _text(ds, "SeriesInstanceUID"), _text(ds, "SOPInstanceUID")
        meta.accession, meta.modality = _text(ds, "AccessionNumber"), _text(ds, "Modality").upper()
        meta.sop_class_uid, meta.image_type = _text(ds, "SOPClassUID"), _text(ds, "ImageType").upper()
        meta.frames = int(ds.get("NumberOfFrames", 1) or 1)
        meta.synthetic_markers = _synthetic_markers(ds)
        raw_age = _text(ds, "PatientAge")
        meta.age = parse_patient_age(raw_age)
        if raw_age and math.isnan(meta.age):
            meta.warnings.append(f"PatientAge {raw_age!r} is not of the form nnnY/M/W/D; age unknown")
        lat = (_text(ds, "ImageLaterality") or _text(ds, "Laterality")).upper()
        meta.laterality = lat if lat in ("L", "R") else ""
        meta.view = _view(ds)
        meta.manufacturer, meta.model = _text(ds, "Manufacturer"), _text(ds, "ManufacturerModelName")
        meta.institution = _text(ds, "InstitutionName")
        spacing = _first_float(ds, "PixelSpacing")
        meta.pixel_spacing_mm = spacing if math.isfinite(spacing) else _first_float(ds, "ImagerPixelSpacing")
        meta.photometric = _text(ds, "PhotometricInterpretation").upper()
        meta.presentation_intent = _text(ds, "PresentationIntentType").upper()
        meta.rows, meta.columns = int(ds.get("Rows", 0) or 0), int(ds.get("Columns", 0) or 0)
        meta.window_center = _first_float(ds, "WindowCenter")
        meta.window_width = _first_float(ds, "WindowWidth")
        tsuid = getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", None)
        meta.transfer_syntax = str(tsuid) if tsuid else ""
    except Exception as err:  # odd VRs / broken sequences: keep what we have
        meta.warnings.append(f"header partly unreadable: {type(err).__name__}: {err}")
    return meta


def _synthetic_markers(ds: Any) -> list[str]:
    from mammobench.data.dicom_marker import synthetic_markers

    return synthetic_markers(ds)


def _open(path: Path, *, stop_before_pixels: bool, max_pixels: int = MAX_PIXELS_DEFAULT) -> Any:
    import pydicom
    from pydicom.errors import InvalidDicomError

    if not path.is_file():
        raise DicomError(f"{path}: file not found")
    size = path.stat().st_size
    if size == 0:
        raise DicomError(f"{path}: empty file (0 bytes)")
    limit = _MAX_FILE_BYTES_PER_PIXEL * max_pixels + 2**20  # pixel budget + 1 MiB of header
    if not stop_before_pixels and size > limit:
        raise DicomError(f"{path}: the file is {size / 2**20:.1f} MiB, over the per-file limit of {limit / 2**20:.1f} MiB "
                         f"({_MAX_FILE_BYTES_PER_PIXEL} bytes × max_pixels={max_pixels:,} + 1 MiB); refused before reading")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ds = pydicom.dcmread(path, stop_before_pixels=stop_before_pixels)
    except InvalidDicomError as err:
        raise DicomError(f"{path}: not a DICOM file (no DICM preamble / file meta): {err}") from err
    except (EOFError, OSError) as err:
        raise DicomError(f"{path}: truncated or unreadable DICOM ({type(err).__name__}: {err})") from err
    except Exception as err:
        raise DicomError(f"{path}: cannot parse DICOM ({type(err).__name__}: {err})") from err
    for w in caught:
        if "End of file" in str(w.message) or "delimiter" in str(w.message):
            raise DicomError(f"{path}: truncated: {w.message}")
    if not stop_before_pixels and "PixelData" in ds and ds.get("PixelData") is None:
        raise DicomError(f"{path}: truncated: the pixel data element is empty")
    return ds


def read_dicom_meta(path: str | os.PathLike) -> DicomMeta:
    """Read only the header (fast: stops before the pixel data).

    Example:
        >>> try:
        ...     read_dicom_meta("/nonexistent.dcm")
        ... except DicomError as err:
        ...     print("file not found" in str(err))
        True
    """
    return _guarded(path, lambda p, _m: extract_meta(_open(p, stop_before_pixels=True)), 0)


def _check_size(path: Path, ds: Any, max_pixels: int) -> tuple[int, int, int, int]:
    if "PixelData" not in ds and "FloatPixelData" not in ds and "DoubleFloatPixelData" not in ds:
        raise DicomError(f"{path}: no pixel data (PixelData element (7FE0,0010) missing); "
                         "is this a structured report or presentation state?")
    try:
        rows, cols = int(ds.Rows), int(ds.Columns)
        frames = int(ds.get("NumberOfFrames", 1) or 1)
        spp = int(ds.get("SamplesPerPixel", 1) or 1)
    except (AttributeError, TypeError, ValueError) as err:
        raise DicomError(f"{path}: Rows/Columns/NumberOfFrames missing or not integers ({err})") from err
    if rows <= 0 or cols <= 0 or frames <= 0:
        raise DicomError(f"{path}: image size {rows}×{cols}×{frames} is empty")
    if rows * cols * frames * spp > max_pixels:
        kind = f", {frames} frames (tomosynthesis?)" if frames > 1 else ""
        raise DicomError(f"{path}: the header declares {rows}×{cols} pixels{kind} × {spp} samples = "
                         f"{rows * cols * frames * spp:,} values, over the per-image limit of max_pixels={max_pixels:,}; "
                         "refused before decoding (raise max_pixels only if the image is genuine)")
    return rows, cols, frames, spp


def _check_native_length(path: Path, ds: Any, shape: tuple[int, int, int, int]) -> None:
    if ds.file_meta.TransferSyntaxUID.is_compressed or "PixelData" not in ds:
        return
    rows, cols, frames, spp = shape
    expected = rows * cols * frames * spp * int(ds.get("BitsAllocated", 16)) // 8
    actual = len(ds.PixelData)
    if actual < expected:
        raise DicomError(f"{path}: truncated: pixel data has {actual} of {expected} bytes")


def _decode(path: Path, ds: Any) -> np.ndarray:
    tsuid = ds.file_meta.TransferSyntaxUID
    try:
        arr = ds.pixel_array
    except (KeyboardInterrupt, SystemExit, MemoryError):
        raise
    except (NotImplementedError, ImportError) as err:
        raise DicomError(f"{path}: cannot decode transfer syntax {tsuid.name} ({tsuid}); install the matching "
                         f"pylibjpeg plugin or pyjpegls ({type(err).__name__}: {err})") from err
    except BaseException as err:  # includes decoder panics
        raise DicomError(f"{path}: pixel data of {tsuid.name} could not be decoded, file probably truncated or "
                         f"corrupt ({type(err).__name__}: {err})") from err
    if arr.ndim == 4 or (arr.ndim == 3 and int(ds.get("SamplesPerPixel", 1) or 1) == 1):
        arr = arr[0]  # first frame
    if arr.ndim == 3:  # colour: luminance
        arr = arr[..., :3].astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    return arr


def _padding_mask(ds: Any, stored: np.ndarray) -> np.ndarray:
    pad = ds.get("PixelPaddingValue")
    if pad is None:
        return np.zeros(stored.shape, bool)
    limit = ds.get("PixelPaddingRangeLimit")
    if limit is None:
        return stored == pad
    lo, hi = sorted((int(pad), int(limit)))
    return (stored >= lo) & (stored <= hi)


def read_dicom(path: str | os.PathLike, *, max_pixels: int = MAX_PIXELS_DEFAULT,
               acquired_only: bool = True) -> DicomImage:
    """Read one DICOM image as float32 pixels with bright = dense, plus its metadata.

    Args:
        path: the file.
        max_pixels: refuse files whose Rows × Columns × frames exceeds this (checked before decoding).
        acquired_only: refuse a file marked as a synthetic image (:func:`~mammobench.data.dicom_marker.
            require_acquired`); real cohorts, their caches and test sets read acquired images only.

    Raises:
        DicomError: file missing, empty, not DICOM, truncated, without pixel data, too large, marked
            synthetic, or in a transfer syntax no installed plugin decodes — the message names the file and reason.

    Example:
        >>> from mammobench.errors import DicomError
        >>> try:
        ...     read_dicom(__file__)
        ... except DicomError as err:
        ...     print("not a DICOM file" in str(err))
        True
    """
    return _guarded(path, lambda p, m: _read_dicom(p, m, acquired_only), max_pixels)


def _guarded(path: str | os.PathLike, func: Any, max_pixels: int) -> Any:
    """Run ``func`` turning *any* failure (incl. decoder panics, a BaseException) into a DicomError."""
    try:
        return func(Path(path), max_pixels)
    except DicomError:
        raise
    except (KeyboardInterrupt, SystemExit, MemoryError):
        raise
    except BaseException as err:  # pyo3 PanicException from the Rust RLE decoder derives from BaseException
        raise DicomError(f"{path}: cannot read DICOM ({type(err).__name__}: {str(err)[:200]})") from err


def _read_dicom(path: Path, max_pixels: int, acquired_only: bool = True) -> DicomImage:
    ds = _open(path, stop_before_pixels=False, max_pixels=max_pixels)
    if acquired_only:
        from mammobench.data.dicom_marker import require_acquired

        require_acquired(ds, name=str(path))
    try:
        shape = _check_size(path, ds, max_pixels)
        _check_native_length(path, ds, shape)
        stored = _decode(path, ds)
        from pydicom.pixels import apply_modality_lut

        pad = _padding_mask(ds, stored)
        pixels = np.asarray(apply_modality_lut(stored, ds), dtype=np.float32)
    except DicomError:
        raise
    except Exception as err:
        raise DicomError(f"{path}: cannot read pixel data ({type(err).__name__}: {err})") from err
    meta = extract_meta(ds)
    _check_finite(path, pixels)
    valid = pixels[~pad]
    if valid.size == 0:
        raise DicomError(f"{path}: every pixel equals PixelPaddingValue; the image is empty")
    lo, hi = float(valid.min()), float(valid.max())
    if meta.photometric == "MONOCHROME1":
        pixels = (lo + hi) - pixels
        _check_finite(path, pixels)
    pixels[pad] = lo
    with contextlib.suppress(AttributeError, KeyError):
        del ds.PixelData  # keep the header (VOI LUT for display) without the compressed pixel bytes
    return DicomImage(path=str(path), pixels=pixels, padding_mask=pad, meta=meta, header=ds)


def _check_finite(path: Path, pixels: np.ndarray) -> None:
    """Refuse NaN/inf pixels (float pixel data, or a rescale that overflows float32)."""
    bad = int(np.count_nonzero(~np.isfinite(pixels)))
    if bad:
        raise DicomError(f"{path}: {bad} pixel value(s) are NaN or infinite after rescale (float pixel data or "
                         "RescaleSlope/Intercept out of float32 range); re-export the image with finite values")


def probe_dicom(path: str | os.PathLike, *, max_pixels: int = MAX_PIXELS_DEFAULT) -> DicomMeta:
    """Check a file is a readable, complete DICOM image *without decoding it*; return its metadata.

    Detects: missing/empty file, not DICOM, no pixel data, truncated pixel data (native length or a
    missing encapsulation delimiter), absurd sizes. Decoding errors of intact compressed data are
    found later by :func:`read_dicom` (the cache lists them as rejects).

    Example:
        >>> try:
        ...     probe_dicom(__file__)
        ... except DicomError as err:
        ...     print("not a DICOM file" in str(err))
        True
    """
    return _guarded(path, _probe, max_pixels)


def _probe(path: Path, max_pixels: int) -> DicomMeta:
    ds = _open(path, stop_before_pixels=False, max_pixels=max_pixels)
    shape = _check_size(path, ds, max_pixels)
    _check_native_length(path, ds, shape)
    return extract_meta(ds)
