"""Per-image checks at ingest: the file exists, its header is readable, it is an acquired mammogram, and the
tables agree with it.

``verify`` levels (``mammobench data inspect|prepare --verify``):

* ``none`` — trust the tables: no file is opened (fast); the acquisition checks of
  :mod:`mammobench.data.acquired` are **skipped**, a warning says so, and the image cache still refuses
  synthetic-marked files when it decodes them;
* ``exists`` — each file exists and its header (read without the pixel data) passes the acquisition
  checks and agrees with the tables;
* ``header`` (default) — as ``exists``, and the file is a complete DICOM image with all of its pixel data
  (no decoding).

Blank laterality/view/age/vendor/site/spacing in the tables are filled from the header (a note records a
filled laterality or view); a table value that **contradicts** the header (ImageLaterality, ViewPosition /
ViewCodeSequence, PatientID where the adapter says the ids are the same) is a reject with both values.

Example:
    >>> contradictions({"laterality": "L", "view": "CC", "patient_id": "p"},
    ...                type("M", (), {"laterality": "R", "view": "CC", "patient_id": "p"})(), check_patient=True)
    ["laterality 'L' in the table but ImageLaterality 'R' in the DICOM header"]
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Callable

from mammobench.data.acquired import acquisition_problem
from mammobench.errors import DicomError

VERIFY_LEVELS = ("none", "exists", "header")
NONE_WARNING = ("--verify none: no image file was opened, so missing files, FOR PROCESSING, non-MG, secondary-capture "
                "and synthetic-marked images were NOT checked at ingest (the image cache still refuses synthetic "
                "files when it decodes them); use --verify exists or header for the full checks")


def header_reader(verify: str) -> Callable[[Path], Any]:
    """The per-file header function of a verify level (``exists``: header only; ``header``: + pixel data)."""
    from mammobench.data.dicom import probe_dicom, read_dicom_meta

    return probe_dicom if verify == "header" else read_dicom_meta


def contradictions(row: dict, meta: Any, *, check_patient: bool) -> list[str]:
    """Table values that contradict the DICOM header (both present and different)."""
    found = []
    lat, hlat = str(row.get("laterality") or ""), str(getattr(meta, "laterality", "") or "")
    if lat in ("L", "R") and hlat in ("L", "R") and lat != hlat:
        found.append(f"laterality {lat!r} in the table but ImageLaterality {hlat!r} in the DICOM header")
    view, hview = str(row.get("view") or ""), str(getattr(meta, "view", "") or "")
    if view in ("CC", "MLO") and hview in ("CC", "MLO") and view != hview:
        found.append(f"view {view!r} in the table but {hview!r} in the DICOM header (ViewPosition/ViewCodeSequence)")
    pid, hpid = str(row.get("patient_id") or ""), str(getattr(meta, "patient_id", "") or "")
    if check_patient and pid and hpid and pid != hpid:
        found.append(f"patient {pid!r} in the table but PatientID {hpid!r} in the DICOM header")
    return found


def fill_from_header(row: dict, meta: Any) -> list[str]:
    """Fill blank columns from the header; returns the names of the filled laterality/view columns."""
    filled = []
    for col, attr in (("laterality", "laterality"), ("view", "view"), ("vendor", "manufacturer"),
                      ("site", "institution")):
        value = getattr(meta, attr, "") or ""
        if not row.get(col) and value:
            row[col] = value
            if col in ("laterality", "view"):
                filled.append(col)
    for col, attr in (("age", "age"), ("pixel_spacing_mm", "pixel_spacing_mm")):
        value = float(getattr(meta, attr, math.nan))
        current = row.get(col)
        if (current is None or current == "" or math.isnan(float(current))) and math.isfinite(value):
            row[col] = value
    return filled


def check_file(row: dict, root: Path, *, verify: str, reader: Callable[[Path], Any], known_meta: Any = None,
               allow_secondary_capture: bool = False, check_patient: bool = False) -> tuple[str, str, Any]:
    """Check one candidate row's file; returns (stage, reason, meta) — stage '' when the row passes.

    ``known_meta`` is a header the adapter already read (its file is then only probed for completeness
    at ``header`` level).
    """
    if verify == "none":
        return "", "", None
    path = root / str(row.get("image_path") or "")
    if not row.get("image_path") or not path.is_file():
        return "files", f"file not found: {path}", None
    try:
        meta = reader(path) if (known_meta is None or verify == "header") else known_meta
    except DicomError as err:
        return "dicom", str(err), None
    problem = acquisition_problem(meta, allow_secondary_capture=allow_secondary_capture)
    if problem:
        return "acquisition", f"{path}: {problem}", meta
    clash = contradictions(row, meta, check_patient=check_patient)
    if clash:
        return "consistency", f"{path}: " + "; ".join(clash), meta
    return "", "", meta
