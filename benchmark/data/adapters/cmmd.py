"""CMMD — The Chinese Mammography Database (TCIA) adapter.

Layout as downloaded: the NBIA Data Retriever writes ``manifest-<number>/CMMD/<ID1>/<study>/<series>/1-1.dcm …``
(e.g. ``manifest-1616439774456/CMMD/D1-0001/07-18-2010-NA-NA-79377/1.000000-NA-70244/1-1.dcm``) plus the
manifest's ``metadata.csv``; the clinical sheet ``CMMD_clinicaldata_revision.xlsx`` (one row **per breast**:
``ID1, LeftRight, Age, number, abnormality, classification, subtype``) is downloaded from the collection page
and read directly (openpyxl); a CSV export with the same columns is accepted. The root is the folder holding
the sheet (found at, below or above the folder named); the images are searched in ``CMMD/`` up to two levels
below it, or in the root itself. Sources: the TCIA collection page; public loaders reading
``manifest-1616439774456/CMMD_clinicaldata_revision.xlsx`` and ``…/CMMD/D1-0001/07-18-2010-NA-NA-79377/…``;
a public inventory of the release (ImageLaterality on every image, the view only in ViewCodeSequence, PatientID
equal to the folder name, no Manufacturer tag, 1,458 D2 images of breasts without a clinical row).

Every image is identified from its own header: patient = DICOM PatientID (cross-checked with the ``D1-0001``
folder name when the folder has that form — a contradiction is a reject; the folder alone is used when the
header has none), laterality = ImageLaterality, view = ViewPosition / ViewCodeSequence (SNOMED 399162004 = CC,
399368009 = MLO) — never the ``1-1 … 1-4`` file order. An image is joined to the clinical row of its breast
(ID1 + laterality); an image whose breast or patient has no clinical row is **rejected** (its label cannot be
established). Harmonisation: ``classification`` Benign → benign, Malignant → malignant; ``abnormality`` mass →
mass, calcification → calcification, both → mass (priority order; the raw value kept in ``abnormality_raw``).
No density, no boxes, no official split. Vendor GE (the dataset description; the files carry no Manufacturer).

Example:
    >>> CMMDAdapter.name, bool(PATIENT_FOLDER.match("D2-0750"))
    ('cmmd', True)
"""
from __future__ import annotations

import math
import re
from pathlib import Path

from mammobench.data.adapters.base import BaseAdapter, IngestLog, read_table
from mammobench.data.adapters.layout import find_dir, walk_files
from mammobench.errors import DicomError

REQUIRED = ("ID1", "LeftRight", "Age", "abnormality", "classification")
SHEETS = ("CMMD_clinicaldata_revision.xlsx", "CMMD_clinicaldata_revision.csv")
ABNORMALITY = {"mass": "mass", "calcification": "calcification", "both": "mass"}
CLASSIFICATION = {"benign": "benign", "malignant": "malignant"}
PATIENT_FOLDER = re.compile(r"^D[12]-\d{4}$")


def _float(text: str) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return math.nan


class CMMDAdapter(BaseAdapter):
    """CMMD: benign/malignant per breast, mass/calcification, age; patient, side and view from DICOM tags."""

    name = "cmmd"
    description = "CMMD (TCIA): Chinese cohort, benign/malignant per breast, age; views read from DICOM"
    readme = "tasks/cmmd_malignancy/README.md"
    markers = tuple((name,) for name in SHEETS)
    allow_secondary_capture = True

    def _clinical(self, root: Path) -> tuple[dict[tuple[str, str], dict], set[str], str]:
        sheet = next((root / n for n in SHEETS if (root / n).is_file()), root / SHEETS[0])
        table = read_table(sheet, dataset=self.name, required=REQUIRED, hint=self.hint())
        rows: dict[tuple[str, str], dict] = {}
        for r in table.to_dict("records"):
            rows.setdefault((r["ID1"].strip(), r["LeftRight"].strip().upper()), r)
        return rows, {k[0] for k in rows}, sheet.name

    def _patient(self, folder: str, meta) -> tuple[str, str]:
        """(patient id, problem) from the header PatientID and the folder name."""
        header, by_folder = meta.patient_id.strip(), folder if PATIENT_FOLDER.match(folder) else ""
        if header and by_folder and header != by_folder:
            return header, f"PatientID {header!r} in the DICOM header but folder {folder!r}: patient contradiction"
        return header or by_folder, ""

    def collect(self, root: Path, log: IngestLog) -> None:
        """Scan every DICOM under ``CMMD/`` (or the root), read its header, join the clinical row."""
        from mammobench.data.dicom import read_dicom_meta

        clinical, patients, sheet = self._clinical(root)
        base = find_dir(root, ("CMMD",)) or root
        for path in walk_files(base, (".dcm",)):
            rel = path.relative_to(root).as_posix()
            folder = path.relative_to(base).parts[0]
            try:
                meta = read_dicom_meta(path)
            except DicomError as err:
                log.add({"patient_id": folder, "exam_id": folder, "image_id": rel, "image_path": rel})
                log.reject(rel, str(err), stage="dicom")
                continue
            patient, problem = self._patient(folder, meta)
            clin = clinical.get((patient, meta.laterality))
            row = {"patient_id": patient, "exam_id": meta.study_uid or patient, "image_id": meta.sop_uid or rel,
                   "image_path": rel, "laterality": meta.laterality, "view": meta.view,
                   "label": CLASSIFICATION.get(str(clin["classification"]).strip().lower(), "unknown") if clin
                   else "unknown",
                   "lesion_type": ABNORMALITY.get(str(clin["abnormality"]).strip().lower(), "unknown") if clin
                   else "unknown", "age": _float(clin["Age"]) if clin else meta.age,
                   "vendor": meta.manufacturer or "GE", "site": meta.institution, "findings": "[]",
                   "label_source": "biopsy_pathology", "abnormality_raw": clin["abnormality"] if clin else "",
                   "subtype": clin.get("subtype", "") if clin else ""}
            log.add(row, meta=meta)
            reason = problem or self._no_row(patient, meta.laterality, clin, patients, sheet)
            if reason:
                log.reject(row["image_id"], reason, stage="consistency" if problem else "labels")

    @staticmethod
    def _no_row(patient: str, side: str, clin: dict | None, patients: set[str], sheet: str) -> str:
        if clin is not None or not patient or side not in ("L", "R"):
            return ""  # a missing patient or side is rejected by the required-field check with its own reason
        if patient not in patients:
            return f"patient {patient!r} has no row in {sheet}: label cannot be established"
        return f"breast {patient} {side} has no row in {sheet} (ID1 + LeftRight): label cannot be established"
