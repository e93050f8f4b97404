"""VinDr-Mammo (PhysioNet) adapter.

Layout, as PhysioNet's download (``wget -r -N -c -np --user … https://physionet.org/files/vindr-mammo/1.0.0/``)
leaves it: ``physionet.org/files/vindr-mammo/1.0.0/`` holding ``images/<study_id>/<image_id>.dicom``
(``.dcm`` accepted), ``breast-level_annotations.csv`` (one row per image), ``finding_annotations.csv``
(one row per box; ``No Finding`` rows for normal images), ``metadata.csv`` (DICOM-tag-named columns joined
on ``SOP Instance UID``), ``SHA256SUMS.txt``. Point at that folder, at any folder above it (the root is
found by ``breast-level_annotations.csv``) or at ``images/``. Sources: the PhysioNet project page
(physionet.org/content/vindr-mammo/1.0.0), the official repository ``vinbigdata-medical/vindr-mammo``
(``split_data.ipynb``), public loaders that read ``…/physionet.org/files/vindr-mammo/1.0.0/…``.

Harmonisation (also in ``tasks/vindr_findings/README.md``): ``DENSITY A``–``D`` → A–D (blank → unknown,
any other code → rejected); ``finding_categories`` is a stringified Python list parsed as in the
official notebook; Mass → mass, Suspicious Calcification → calcification, Architectural Distortion →
architectural_distortion, (Focal/Global) Asymmetry → asymmetry, lymph node / skin / nipple findings →
other. VinDr has **no pathology**: the label is a BI-RADS *proxy* (``label_source`` = ``birads_proxy``):
breast BI-RADS 1 → normal, 2–3 → benign, 4–5 → malignant, anything else → unknown (raw value kept in
``birads_raw``; reports print the label source). No patient id: the study is the patient (one exam per woman).
Official split ``training`` / ``test`` → ``train`` / ``test``.

Example:
    >>> parse_category_list("['Mass', 'Suspicious Calcification']")
    ['Mass', 'Suspicious Calcification']
"""
from __future__ import annotations

import ast
import json
import math
from pathlib import Path

import pandas as pd

from mammobench.data.adapters.base import BaseAdapter, IngestLog, findings_json, read_table, unique_findings
from mammobench.data.adapters.layout import walk_files
from mammobench.data.manifest import harmonise_density

BREAST_COLUMNS = ("study_id", "image_id", "laterality", "view_position", "breast_birads", "breast_density", "split")
CATEGORY_MAP = {
    "mass": "mass", "suspicious calcification": "calcification", "architectural distortion": "architectural_distortion",
    "asymmetry": "asymmetry", "focal asymmetry": "asymmetry", "global asymmetry": "asymmetry",
    "suspicious lymph node": "other", "skin thickening": "other", "skin retraction": "other",
    "nipple retraction": "other", "no finding": "none",
}
LESION_PRIORITY = ("mass", "calcification", "architectural_distortion", "asymmetry", "other", "unknown")
BIRADS_PROXY = {"1": "normal", "2": "benign", "3": "benign", "4": "malignant", "5": "malignant"}
SPLIT_MAP = {"training": "train", "train": "train", "test": "test"}


def parse_category_list(text: str) -> list[str]:
    """Parse VinDr's list-valued string ("['Mass']"); a bare word becomes a one-item list."""
    text = str(text).strip()
    if not text:
        return []
    for parse in (lambda t: json.loads(t.replace("'", '"')), ast.literal_eval):
        try:
            value = parse(text)
        except (ValueError, SyntaxError):
            continue
        if isinstance(value, (list, tuple)):
            return [str(v).strip() for v in value]
    return [text]


def lesion_type_of(categories: list[str]) -> str:
    """Canonical lesion type of one finding (first category in priority order)."""
    mapped = [CATEGORY_MAP.get(c.lower(), "unknown") for c in categories] or ["unknown"]
    if all(m == "none" for m in mapped):
        return "none"
    return min((m for m in mapped if m != "none"), key=LESION_PRIORITY.index)


def image_lesion_type(findings: list[dict]) -> str:
    """Image-level lesion type: the highest-priority finding type ('none' when there is none)."""
    types = [f["lesion_type"] for f in findings]
    return min(types, key=LESION_PRIORITY.index) if types else "none"


def _box(row: pd.Series) -> list[float] | None:
    try:
        box = [float(row[k]) for k in ("xmin", "ymin", "xmax", "ymax")]
    except (KeyError, ValueError):
        return None
    return box if all(math.isfinite(v) for v in box) else None


def findings_by_image(table: pd.DataFrame) -> dict[str, list[dict]]:
    """Group finding rows per image (order kept, so finding k matches ``masks/<image_id>_<k>.png``)."""
    out: dict[str, list[dict]] = {}
    for _, row in table.iterrows():
        cats = parse_category_list(row.get("finding_categories", ""))
        kind = lesion_type_of(cats)
        items = out.setdefault(str(row["image_id"]), [])
        if kind == "none":
            continue
        items.append({"box": _box(row), "lesion_type": kind, "pathology": "unknown",
                      "birads": str(row.get("finding_birads", "")), "category": ", ".join(cats)})
    return out


def _image_path(root: Path, study_id: str, image_id: str) -> str:
    for ext in (".dicom", ".dcm"):
        rel = f"images/{study_id}/{image_id}{ext}"
        if (root / rel).is_file():
            return rel
    return f"images/{study_id}/{image_id}.dicom"


def _metadata(root: Path, hint: str) -> dict[str, dict]:
    path = root / "metadata.csv"
    if not path.is_file():
        return {}
    meta = read_table(path, dataset="vindr", required=("SOP Instance UID",), hint=hint)
    return {str(r["SOP Instance UID"]): r for r in meta.to_dict("records")}


class VinDrAdapter(BaseAdapter):
    """VinDr-Mammo: boxes, BI-RADS, density A–D, official training/test split."""

    name = "vindr"
    description = "VinDr-Mammo (PhysioNet): 5,000 exams, boxes + BI-RADS + density, official split"
    readme = "tasks/vindr_findings/README.md"
    markers = (("breast-level_annotations.csv",),)
    has_official_split = True

    def image_files(self, root: Path):
        """Every ``.dicom``/``.dcm`` under ``images/``."""
        base = root / "images"
        return (p.relative_to(root).as_posix() for p in walk_files(base, (".dicom", ".dcm"))) if base.is_dir() else ()

    def base_rows(self, root: Path) -> list[dict]:
        """Candidate rows from the annotation CSVs; a row that must be rejected carries ``_reject``."""
        from mammobench.data.dicom import parse_patient_age

        hint = self.hint()
        breast = read_table(root / "breast-level_annotations.csv", dataset=self.name, required=BREAST_COLUMNS,
                            hint=hint)
        finds = read_table(root / "finding_annotations.csv", dataset=self.name, required=("image_id",), hint=hint) \
            if (root / "finding_annotations.csv").is_file() else pd.DataFrame(columns=["image_id"])
        per_image, meta = findings_by_image(finds), _metadata(root, hint)
        rows = []
        for r in breast.to_dict("records"):
            image_id, study = str(r["image_id"]), str(r["study_id"])
            path = _image_path(root, study, image_id)
            density, split = harmonise_density(r["breast_density"]), SPLIT_MAP.get(r["split"].strip().lower())
            findings = per_image.get(image_id, [])
            m = meta.get(image_id, {})
            birads = str(r["breast_birads"]).replace("BI-RADS", "").strip()
            row = {"patient_id": study, "exam_id": study, "image_id": image_id, "image_path": path,
                   "laterality": r["laterality"].strip().upper(), "view": r["view_position"].strip().upper(),
                   "split": split or "", "lesion_type": image_lesion_type(findings),
                   "label": BIRADS_PROXY.get(birads, "unknown"), "label_source": "birads_proxy",
                   "density": density, "density_raw": r["breast_density"], "birads_raw": r["breast_birads"],
                   "findings": findings, "age": parse_patient_age(m.get("Patient's Age")),
                   "vendor": m.get("Manufacturer", ""), "site": m.get("Institution Name", "")}
            if r["breast_density"].strip() and not density:
                row["_reject"] = f"unknown density code {r['breast_density']!r} (expected DENSITY A-D or blank)"
            elif birads not in BIRADS_PROXY:
                row["_reject"] = (f"breast_birads {r['breast_birads']!r} is not BI-RADS 1-5: the label cannot be "
                                  "established")
            elif split is None:
                row["_reject"] = f"unknown split {r['split']!r} (expected training/test)"
            rows.append(row)
        return rows

    def collect(self, root: Path, log: IngestLog) -> None:
        """Parse the tables into ``log`` (findings serialised to JSON)."""
        for row in self.base_rows(root):
            add_row(log, row)


def add_row(log: IngestLog, row: dict) -> None:
    """Finalise one candidate (view vocabulary, findings JSON) and add or reject it."""
    reason = row.pop("_reject", None)
    row["view"] = row["view"] if row["view"] in ("CC", "MLO") else ("other" if row["view"] else "")
    row["findings"] = findings_json(unique_findings(row["findings"], log, row["image_id"],
                                                    source="finding_annotations.csv"))
    log.add(row)
    if reason:
        log.reject(row["image_id"], reason, stage="labels")
