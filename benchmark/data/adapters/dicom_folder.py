"""``dicom`` adapter: a hospital's plain DICOM export (PACS, CD/DVD, research archive) plus an optional labels file.

Walks the folder (any nesting; any extension or none — a file is DICOM when it has the ``DICM`` preamble, or a
``.dcm``/``.dicom`` name; ``DICOMDIR`` media directories are skipped) and reads each header without the pixel
data: patient (PatientID), exam (AccessionNumber, else StudyInstanceUID), image (SOPInstanceUID), laterality
(ImageLaterality/Laterality), view (ViewPosition/ViewCodeSequence), age (PatientAge ``062Y``), manufacturer,
institution, pixel spacing, and density where a site writes it (``density_tag``: a DICOM keyword whose text
holds ``DENSITY C``/``ACR C``/``BI-RADS density c``/``3``; the MG image object has no standard density
attribute). Non-image objects (structured reports, presentation states) and non-mammograms are rejected by
the ingest checks with their reason.

Labels (optional) — a CSV or XLSX table joined on a key the user names, in a small YAML mapping
(``mapping=``) or as options (``labels=``, ``key_column=``, ``label_column=``, ``label_map=``)::

    labels: outcomes.xlsx            # relative to the DICOM folder, or absolute
    sheet: 0                         # XLSX sheet (name or 0-based index)
    key: {Accession: AccessionNumber, Side: ImageLaterality}   # labels column: DICOM keyword it matches
    label: Outcome                   # labels column with the outcome
    values:
      label: {"0": normal, "1": malignant, B: benign}
      laterality: {LEFT: L, RIGHT: R}
    columns: {patient_id: MRN, laterality: Side, view: View, density: ACR, age: Age, lesion_type: Finding,
              split: Split}          # more fields from the table; laterality/view/patient are cross-checked
    density_tag: ImageComments

Key targets: ``SOPInstanceUID``, ``AccessionNumber``, ``StudyInstanceUID``, ``SeriesInstanceUID``, ``PatientID``,
``ImageLaterality``, ``ViewPosition``, ``path`` (relative path) and ``filename``. The key's grain is the label's
grain: per image (SOPInstanceUID, path), per breast (AccessionNumber + ImageLaterality), per exam. Label values:
``normal``/``benign``/``malignant`` in any case, or mapped in ``values.label``; anything else is a reject naming
the value. Without a labels file the folder is read **unlabelled** (label ``unknown``) for audits and reader
studies; a task that needs labels refuses it with a message. Rejects: an image with no labels row; a labels
key with rows that disagree; a table laterality, view or patient that contradicts the header; a labels row
that matches no image is counted as a metadata row without an image.

Example:
    >>> parse_key_spec("Accession=AccessionNumber,Side=ImageLaterality")
    {'Accession': 'AccessionNumber', 'Side': 'ImageLaterality'}
    >>> parse_density_text("BI-RADS density: c"), parse_density_text("DENSITY B")
    ('C', 'B')
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mammobench.data.acquired import acquisition_problem
from mammobench.data.adapters.base import BaseAdapter, IngestLog
from mammobench.data.adapters.dicom_labels import LabelsTable, load_labels_spec, parse_key_spec
from mammobench.data.adapters.layout import walk_files
from mammobench.errors import DicomError

_DENSITY_TEXT = re.compile(r"(?:density|acr|composition)\s*(?:category|type)?\s*[:=]?\s*([a-d1-4])\b", re.IGNORECASE)
_DICOM_SUFFIXES = (".dcm", ".dicom", ".dic")


def parse_density_text(text: Any) -> str:
    """Density A–D from free header text ('DENSITY C', 'ACR: c', 'BI-RADS density 3'); '' when none."""
    from mammobench.data.manifest import harmonise_density

    value = str(text or "").strip()
    direct = harmonise_density(value)
    if direct:
        return direct
    match = _DENSITY_TEXT.search(value)
    return harmonise_density(match.group(1)) if match else ""


def is_dicom_file(path: Path) -> bool:
    """True for a file with the DICM preamble, or named ``*.dcm``/``*.dicom`` (not DICOMDIR)."""
    if path.name.upper() == "DICOMDIR":
        return False
    if path.suffix.lower() in _DICOM_SUFFIXES:
        return True
    try:
        with open(path, "rb") as fh:
            head = fh.read(132)
    except OSError:
        return False
    return len(head) == 132 and head[128:132] == b"DICM"


class DicomFolderAdapter(BaseAdapter):
    """A folder of DICOM files (any nesting, any extension) + optional labels table (CSV/XLSX)."""

    name = "dicom"
    description = "plain DICOM folder (PACS export) + optional CSV/XLSX labels joined on a key you name"
    readme = "tasks/dicom_folder/README.md"
    check_patient = True

    def __init__(self, verify: str = "header", mapping: str | Path | None = None, labels: str | Path | None = None,
                 key_column: str | dict | None = None, label_column: str | None = None,
                 label_map: str | dict | None = None, sheet: str | int | None = None, density_tag: str | None = None):
        super().__init__(verify)
        self.spec = load_labels_spec(mapping=mapping, labels=labels, key=key_column, label=label_column,
                                     label_map=label_map, sheet=sheet, density_tag=density_tag, hint=self.hint())
        self.required = ("patient_id", "laterality", "view") + (("label",) if self.spec.get("labels") else ())

    def collect(self, root: Path, log: IngestLog) -> None:
        """Read every DICOM header; join the labels row; table/header contradictions are left to the checks."""
        from mammobench.data.dicom import read_dicom_meta

        table = LabelsTable(self.spec, root, hint=self.hint()) if self.spec.get("labels") else None
        skipped = 0
        labels_file = table.path.resolve() if table is not None else None
        for path in walk_files(root):
            if not is_dicom_file(path):
                skipped += path.name.upper() != "DICOMDIR" and path.resolve() != labels_file
                continue
            rel = path.relative_to(root).as_posix()
            try:
                meta = read_dicom_meta(path)
            except DicomError as err:
                log.add({"patient_id": "", "exam_id": "", "image_id": rel, "image_path": rel})
                log.reject(rel, str(err), stage="dicom")
                continue
            row = self._row(rel, meta, path)
            problem = table.apply(row, meta, rel) if table is not None else ""
            log.add(row, meta=meta)
            not_acquired = acquisition_problem(meta)
            if not_acquired:  # a synthetic, non-MG or secondary-capture file: that, not its label, is the reason
                log.reject(row["image_id"], f"{path}: {not_acquired}", stage="acquisition")
            elif problem:
                log.reject(row["image_id"], problem, stage="labels")
        if skipped:
            log.warnings.append(f"{skipped} file(s) in {root} are not DICOM (no DICM preamble, no .dcm name) and "
                                "were skipped")
        if table is not None:
            for text in table.unmatched():
                log.reject("", text, stage="files")

    def _density_raw(self, path: Path) -> str:
        """The text of the ``density_tag`` attribute ('' when not asked for or absent)."""
        tag = self.spec.get("density_tag")
        if not tag:
            return ""
        import pydicom

        try:
            ds = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=[tag])
        except Exception:  # the header was read once already; an odd tag only loses the density
            return ""
        value = ds.get(tag, "")
        return str(value.value if hasattr(value, "value") else value).strip()

    def _row(self, rel: str, meta: Any, path: Path) -> dict:
        density_raw = self._density_raw(path)
        return {"patient_id": meta.patient_id, "exam_id": meta.accession or meta.study_uid or meta.patient_id,
                "image_id": meta.sop_uid or rel, "image_path": rel, "laterality": meta.laterality,
                "view": meta.view, "age": meta.age, "vendor": meta.manufacturer, "site": meta.institution,
                "pixel_spacing_mm": meta.pixel_spacing_mm, "density": parse_density_text(density_raw),
                "density_raw": density_raw, "label": "unknown", "lesion_type": "unknown",
                "label_source": "labels_file" if self.spec.get("labels") else "none", "findings": "[]"}
