"""CMMD — The Chinese Mammography Database (TCIA) adapter.

Layout: ``CMMD/<ID1>/<study>/<series>/1-1.dcm …`` plus the clinical table, one row **per breast**
(``ID1, LeftRight, Age, number, abnormality, classification, subtype``). The table ships as
``CMMD_clinicaldata_revision.xlsx``; openpyxl is not a dependency, so export it once to
``CMMD_clinicaldata_revision.csv`` (same columns) — the adapter reads the CSV and says so if only the
xlsx is present.

Views and laterality are read from each DICOM (ImageLaterality, ViewPosition / ViewCodeSequence
SNOMED 399162004 = CC, 399368009 = MLO) — never from the ``1-1 … 1-4`` file order. An image is joined
to the clinical row of its breast (ID1 + laterality). Harmonisation: ``classification`` Benign →
benign, Malignant → malignant; ``abnormality`` mass → mass, calcification → calcification, both →
mass (priority order, the calcification is kept in ``abnormality_raw``). A breast without a clinical
row gets label/lesion type ``unknown``. No density, no boxes, no official split. Vendor GE.

Example:
    >>> CMMDAdapter.name
    'cmmd'
"""
from __future__ import annotations

import math
from pathlib import Path

from mammobench.data.adapters.base import BaseAdapter, IngestLog, read_table
from mammobench.errors import DataError, DicomError

REQUIRED = ("ID1", "LeftRight", "Age", "abnormality", "classification")
ABNORMALITY = {"mass": "mass", "calcification": "calcification", "both": "mass"}
CLASSIFICATION = {"benign": "benign", "malignant": "malignant"}


def _float(text: str) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return math.nan


class CMMDAdapter(BaseAdapter):
    """CMMD: benign/malignant per breast, mass/calcification, age; views from DICOM tags."""

    name = "cmmd"
    description = "CMMD (TCIA): Chinese cohort, benign/malignant per breast, age; views read from DICOM"

    def _clinical(self, root: Path) -> dict[tuple[str, str], dict]:
        csv = root / "CMMD_clinicaldata_revision.csv"
        if not csv.is_file() and (root / "CMMD_clinicaldata_revision.xlsx").is_file():
            raise DataError(f"cmmd: {root / 'CMMD_clinicaldata_revision.xlsx'} found but openpyxl is not installed; "
                            "export the sheet to CMMD_clinicaldata_revision.csv (same columns) next to it")
        table = read_table(csv, dataset=self.name, required=REQUIRED)
        return {(r["ID1"].strip(), r["LeftRight"].strip().upper()): r for r in table.to_dict("records")}

    def collect(self, root: Path, log: IngestLog) -> None:
        """Scan every DICOM under ``CMMD/`` (or the root), read its header, join the clinical row."""
        from mammobench.data.dicom import read_dicom_meta

        clinical = self._clinical(root)
        base = root / "CMMD" if (root / "CMMD").is_dir() else root
        for path in sorted(base.rglob("*.dcm")):
            rel = path.relative_to(root).as_posix()
            subject = path.relative_to(base).parts[0]
            image_id = rel.replace("/", "_").removesuffix(".dcm")
            try:
                meta = read_dicom_meta(path)
            except DicomError as err:
                log.add({"patient_id": subject, "exam_id": subject, "image_id": image_id, "image_path": rel})
                log.reject(image_id, str(err), stage="dicom")
                continue
            clin = clinical.get((subject, meta.laterality))
            lesion = ABNORMALITY.get(str(clin["abnormality"]).strip().lower(), "unknown") if clin else "unknown"
            label = CLASSIFICATION.get(str(clin["classification"]).strip().lower(), "unknown") if clin else "unknown"
            log.add({"patient_id": subject, "exam_id": meta.study_uid or subject, "image_id": image_id,
                     "image_path": rel, "laterality": meta.laterality, "view": meta.view,
                     "label": label, "lesion_type": lesion, "age": _float(clin["Age"]) if clin else meta.age,
                     "vendor": meta.manufacturer or "GE", "site": meta.institution, "findings": "[]",
                     "label_source": "biopsy_pathology", "abnormality_raw": clin["abnormality"] if clin else "",
                     "subtype": clin.get("subtype", "") if clin else ""})
