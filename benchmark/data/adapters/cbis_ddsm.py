"""CBIS-DDSM (TCIA) adapter.

Tables: ``mass_case_description_{train,test}_set.csv`` and ``calc_case_description_{train,test}_set.csv``
(one row per abnormality; the official split is in the file name), downloaded from the TCIA collection page
next to the images, or under ``csv/`` (Kaggle re-packaging). Images, in every nesting the NBIA Data
Retriever writes:

* descriptive names: ``manifest-<number>/CBIS-DDSM/<Mass|Calc>-<Training|Test>_P_xxxxx_<LEFT|RIGHT>_<CC|MLO>/
  <date>-DDSM-NA-<n>/1.000000-full mammogram images-<n>/1-1.dcm``;
* classic names: ``CBIS-DDSM/<case folder>/<StudyInstanceUID>/<SeriesInstanceUID>/000000.dcm`` (or ``1-1.dcm``) —
  the form of the CSVs' own ``image file path`` column;
* the case folders directly in the root.

ROI folders carry an ``_<abnormality id>`` suffix and hold the ``ROI mask images`` and ``cropped images``
series. The root is the folder with the CSVs (found at, below or above the folder named); the images are
searched in ``CBIS-DDSM/`` up to two levels below it (``manifest-*/CBIS-DDSM``). Sources: the TCIA collection
page and NBIA Data Retriever; TFDS ``cbis_ddsm.py`` (CSV paths); public loaders and tests citing
``manifest-ZkhPvrLo…/CBIS-DDSM/Calc-Test_P_00038_LEFT_CC/08-29-2017-DDSM-NA-96009/1.000000-full mammogram
images-63992/1-1.dcm``.

Quirks handled: density column ``breast_density`` (mass) vs ``breast density`` (calc); CSV paths end in
``000000.dcm`` while newer downloads write ``1-1.dcm``/``1-2.dcm`` (resolved by searching the case folder);
``ROI mask file path`` and ``cropped image file path`` are often swapped — the mask is the ROI file whose
size is closest to the full image (boxes are derived from it in the cache, so detection gets boxes);
an exact duplicate CSV line is counted once (noted). The images are digitised film: secondary-capture
conversions are accepted for this dataset. Density 1–4 → A–D, 0/blank → unknown, anything else →
rejected. Lesion type: calcification; mass shape with ARCHITECTURAL_DISTORTION → architectural_distortion;
ASYMMETRIC_BREAST_TISSUE / FOCAL_ASYMMETRIC_DENSITY → asymmetry; LYMPH_NODE → other; else mass.
Pathology MALIGNANT → malignant, BENIGN / BENIGN_WITHOUT_CALLBACK → benign. No age (DDSM .ics files are
not part of CBIS).

Example:
    >>> cbis_lesion_type("mass", "IRREGULAR-ARCHITECTURAL_DISTORTION")
    'architectural_distortion'
"""
from __future__ import annotations

import re
from pathlib import Path

from mammobench.data.adapters.base import BaseAdapter, IngestLog, findings_json, read_table, unique_findings, worst_label
from mammobench.data.adapters.layout import find_dir, walk_files
from mammobench.data.adapters.vindr import image_lesion_type
from mammobench.data.manifest import harmonise_density

TABLES = {"mass_case_description_train_set.csv": "train", "mass_case_description_test_set.csv": "test",
          "calc_case_description_train_set.csv": "train", "calc_case_description_test_set.csv": "test"}
REQUIRED = ("patient_id", "left or right breast", "image view", "abnormality type", "pathology", "image file path")
PATHOLOGY = {"MALIGNANT": "malignant", "BENIGN": "benign", "BENIGN_WITHOUT_CALLBACK": "benign"}
_MISSING_DENSITY = {"", "0", "0.0", "nan"}
_ROI_FOLDER = re.compile(r"_\d+$")


def cbis_lesion_type(abnormality: str, mass_shape: str) -> str:
    """Canonical lesion type from ``abnormality type`` and ``mass shape``."""
    if abnormality.strip().lower().startswith("calc"):
        return "calcification"
    shape = mass_shape.upper()
    if "ARCHITECTURAL_DISTORTION" in shape:
        return "architectural_distortion"
    if "ASYMMETRIC" in shape:
        return "asymmetry"
    if "LYMPH_NODE" in shape:
        return "other"
    return "mass"


class _Images:
    """Locates the DICOMs of a CSV path in the image folders of one download."""

    def __init__(self, root: Path):
        found = find_dir(root, ("CBIS-DDSM",))
        self.bases = [b for b in (found, root) if b is not None]

    def files(self, csv_path: str) -> list[Path]:
        """DICOM files of the case folder a CSV path points to (the exact file first when it exists)."""
        rel = csv_path.strip().replace("\\", "/")
        for base in self.bases:
            if rel and (base / rel).is_file():
                return [base / rel]
        top = rel.split("/")[0] if rel else ""
        for base in self.bases:
            if top and (base / top).is_dir():
                return sorted((base / top).rglob("*.dcm"))
        return []


def _pick_mask(root: Path, images: _Images, full: Path | None, crop_col: str, roi_col: str) -> str:
    """The ROI file whose pixel count is closest to the full image (handles swapped columns)."""
    from mammobench.data.dicom import read_dicom_meta
    from mammobench.errors import DicomError

    candidates = {p for col in (roi_col, crop_col) for p in images.files(col)}
    if not candidates:
        return ""
    try:
        meta = read_dicom_meta(full) if full else None
        target = meta.rows * meta.columns if meta else 0
        sizes = {p: (lambda m: m.rows * m.columns)(read_dicom_meta(p)) for p in candidates}
    except DicomError:
        return ""
    best = min(sizes, key=lambda p: (abs(sizes[p] - target) if target else -sizes[p], str(p)))
    return best.relative_to(root).as_posix()


class CBISDDSMAdapter(BaseAdapter):
    """CBIS-DDSM: mass/calc abnormalities with pathology, ROI masks, density 1–4, official split."""

    name = "cbis_ddsm"
    description = "CBIS-DDSM (TCIA): digitised film, masses + calcifications, biopsy pathology, official split"
    readme = "tasks/cbis_ddsm_malignancy/README.md"
    markers = (("*_case_description_*_set.csv",), ("csv/*_case_description_*_set.csv",))
    has_official_split = True
    allow_secondary_capture = True

    def image_files(self, root: Path):
        """Full-mammogram DICOMs: files in case folders without the ROI ``_<n>`` suffix."""
        for base in _Images(root).bases[:1]:
            for case in sorted(p for p in base.iterdir() if p.is_dir() and not _ROI_FOLDER.search(p.name)):
                if re.match(r"^(Mass|Calc)-(Training|Test)_", case.name):
                    yield from (p.relative_to(root).as_posix() for p in walk_files(case, (".dcm",)))

    def collect(self, root: Path, log: IngestLog) -> None:
        """One manifest row per full mammogram, findings gathered from every abnormality row."""
        images: dict[str, dict] = {}
        lookup = _Images(root)
        for name, split in TABLES.items():
            path = root / name if (root / name).is_file() else root / "csv" / name
            if not path.is_file():
                continue
            table = read_table(path, dataset=self.name, required=REQUIRED, hint=self.hint())
            density_col = "breast_density" if "breast_density" in table.columns else "breast density"
            for r in table.to_dict("records"):
                self._add_abnormality(root, lookup, images, r, r.get(density_col, ""), split)
        for row in images.values():
            row["findings"] = unique_findings(row["findings"], log, row["image_id"], source="the case description CSV")
            row["label"] = worst_label([f["pathology"] for f in row["findings"]])
            row["lesion_type"] = image_lesion_type(row["findings"])
            reason = row.pop("_reject", None)
            row["findings"] = findings_json(row["findings"])
            log.add(row)
            if reason:
                log.reject(row["image_id"], reason, stage="labels")

    def _add_abnormality(self, root: Path, lookup: _Images, images: dict, r: dict, density_raw: str,
                         split: str) -> None:
        full_files = [p for p in lookup.files(r["image file path"])]
        top = r["image file path"].strip().replace("\\", "/").split("/")[0]
        image_id = top or f"{r['patient_id']}_{r['left or right breast']}_{r['image view']}"
        full = full_files[0] if full_files else None
        row = images.get(image_id)
        if row is None:
            density = harmonise_density(density_raw)
            row = images[image_id] = {
                "patient_id": r["patient_id"].strip(), "exam_id": r["patient_id"].strip(), "image_id": image_id,
                "image_path": full.relative_to(root).as_posix() if full else r["image file path"].strip(),
                "laterality": r["left or right breast"].strip().upper()[:1], "view": r["image view"].strip().upper(),
                "split": split, "density": density, "density_raw": str(density_raw),
                "label_source": "biopsy_pathology", "findings": [],
                "birads_raw": r.get("assessment", ""), "vendor": "DDSM film digitiser", "site": "DDSM"}
            if str(density_raw).strip().lower() not in _MISSING_DENSITY and not density:
                row["_reject"] = f"unknown density code {density_raw!r} (expected 1-4, or 0/blank = unknown)"
        row["birads_raw"] = max(str(row["birads_raw"]), str(r.get("assessment", "")))
        pathology = PATHOLOGY.get(r["pathology"].strip().upper(), "unknown")
        if pathology == "unknown" and "_reject" not in row:
            row["_reject"] = f"pathology {r['pathology']!r} is not MALIGNANT/BENIGN/BENIGN_WITHOUT_CALLBACK"
        mask = _pick_mask(root, lookup, full, r.get("cropped image file path", ""), r.get("ROI mask file path", ""))
        row["findings"].append({"box": None, "mask_path": mask or None, "pathology": pathology,
                                "lesion_type": cbis_lesion_type(r["abnormality type"], r.get("mass shape", "")),
                                "abnormality_id": r.get("abnormality id", "")})
