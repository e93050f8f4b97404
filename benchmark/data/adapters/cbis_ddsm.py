"""CBIS-DDSM (TCIA) adapter.

Tables: ``mass_case_description_{train,test}_set.csv`` and ``calc_case_description_{train,test}_set.csv``
(one row per abnormality; the official split is in the file name). Images:
``CBIS-DDSM/<Mass|Calc>-<Training|Test>_P_xxxxx_<LEFT|RIGHT>_<CC|MLO>/…/1-1.dcm``; ROI folders carry an
``_<abnormality id>`` suffix.

Quirks handled: density column ``breast_density`` (mass) vs ``breast density`` (calc); CSV paths end in
``000000.dcm`` while NBIA downloads write ``1-1.dcm``/``1-2.dcm`` (resolved by searching the series
folder); ``ROI mask file path`` and ``cropped image file path`` are often swapped — the mask is the ROI
file whose size is closest to the full image (boxes are then derived from it in the cache). Density
1–4 → A–D, 0/blank → unknown, anything else → rejected. Lesion type: calcification; mass shape with
ARCHITECTURAL_DISTORTION → architectural_distortion; ASYMMETRIC_BREAST_TISSUE /
FOCAL_ASYMMETRIC_DENSITY → asymmetry; LYMPH_NODE → other; else mass. Pathology MALIGNANT → malignant,
BENIGN / BENIGN_WITHOUT_CALLBACK → benign. No age (DDSM .ics files are not part of CBIS).

Example:
    >>> cbis_lesion_type("mass", "IRREGULAR-ARCHITECTURAL_DISTORTION")
    'architectural_distortion'
"""
from __future__ import annotations

from pathlib import Path

from mammobench.data.adapters.base import BaseAdapter, IngestLog, findings_json, read_table, worst_label
from mammobench.data.adapters.vindr import image_lesion_type
from mammobench.data.manifest import harmonise_density

TABLES = {"mass_case_description_train_set.csv": "train", "mass_case_description_test_set.csv": "test",
          "calc_case_description_train_set.csv": "train", "calc_case_description_test_set.csv": "test"}
REQUIRED = ("patient_id", "left or right breast", "image view", "abnormality type", "pathology", "image file path")
PATHOLOGY = {"MALIGNANT": "malignant", "BENIGN": "benign", "BENIGN_WITHOUT_CALLBACK": "benign"}
_MISSING_DENSITY = {"", "0", "0.0", "nan"}


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


def _dicoms_in(root: Path, csv_path: str) -> list[Path]:
    """DICOM files of the series a CSV path points to (exact path first, then its top folder)."""
    rel = csv_path.strip().replace("\\", "/")
    for base in (root, root / "CBIS-DDSM"):
        if rel and (base / rel).is_file():
            return [base / rel]
    top = rel.split("/")[0] if rel else ""
    for base in (root / "CBIS-DDSM", root):
        if top and (base / top).is_dir():
            return sorted((base / top).rglob("*.dcm"))
    return []


def _pick_mask(root: Path, full: Path | None, crop_col: str, roi_col: str) -> str:
    """The ROI file whose pixel count is closest to the full image (handles swapped columns)."""
    from mammobench.data.dicom import read_dicom_meta
    from mammobench.errors import DicomError

    candidates = {p for col in (roi_col, crop_col) for p in _dicoms_in(root, col)}
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
    has_official_split = True

    def collect(self, root: Path, log: IngestLog) -> None:
        """One manifest row per full mammogram, findings gathered from every abnormality row."""
        images: dict[str, dict] = {}
        found = [name for name in TABLES if (root / name).is_file() or (root / "csv" / name).is_file()]
        if not found:
            read_table(root / "mass_case_description_train_set.csv", dataset=self.name)  # raises, names file
        for name in found:
            path = root / name if (root / name).is_file() else root / "csv" / name
            table = read_table(path, dataset=self.name, required=REQUIRED)
            density_col = "breast_density" if "breast_density" in table.columns else "breast density"
            for r in table.to_dict("records"):
                self._add_abnormality(root, images, r, r.get(density_col, ""), TABLES[name])
        for row in images.values():
            row["label"] = worst_label([f["pathology"] for f in row["findings"]])
            row["lesion_type"] = image_lesion_type(row["findings"])
            reason = row.pop("_reject", None)
            row["findings"] = findings_json(row["findings"])
            log.add(row)
            if reason:
                log.reject(row["image_id"], reason, stage="labels")

    def _add_abnormality(self, root: Path, images: dict, r: dict, density_raw: str, split: str) -> None:
        full_files = _dicoms_in(root, r["image file path"])
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
        mask = _pick_mask(root, full, r.get("cropped image file path", ""), r.get("ROI mask file path", ""))
        row["findings"].append({"box": None, "mask_path": mask or None, "pathology": pathology,
                                "lesion_type": cbis_lesion_type(r["abnormality type"], r.get("mass shape", "")),
                                "abnormality_id": r.get("abnormality id", "")})
