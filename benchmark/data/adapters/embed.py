"""EMBED — Emory Breast Imaging Dataset (AWS Open Data release) adapter.

Layout as the open-data bucket is copied (``aws s3 sync`` of the release): ``tables/`` with
``EMBED_OpenData_metadata.csv`` (one row per file) and ``EMBED_OpenData_clinical.csv`` (one row per *finding*;
``_reduced`` variants accepted), beside ``images/cohort_<n>/<patient>/<study>/<SOPInstanceUID>.dcm`` (the README's
``./cohort/patient_ID/study_ID/SOPinstanceUID.dcm``; a copy without the ``images/`` level is accepted too).
``anon_dicom_path`` is the path on the original machine (``/mnt/NAS2/…/cohort_1/…``) in older tables and
``images/cohort_1/…`` / ``./images/cohort_1/…`` in newer ones: it is re-rooted at its ``cohort_`` component
and looked up under ``images/`` and the root. The root is the folder holding ``tables/`` (found at, below or
above the folder named). Sources: ``Emory-HITI/EMBED_Open_Data`` README (sections IV, V, VII, VIII) and
``Sample_Notebook.ipynb``; public pipelines that rewrite the ``images/`` prefix of ``anon_dicom_path``.

Rules (see ``tasks/embed_cancer/README.md``): keep ``FinalImageType == 2D`` and ``spot_mag != 1`` (C-view
and special views are excluded and listed in the rejects). Clinical rows join on ``empi_anon``,
``acc_anon`` **and** laterality (``side`` L/R, B = both). ``tissueden`` 1–4 → A–D, 5 (male) →
rejected, blank → unknown, other → rejected. Label from the worst ``path_severity``: 0/1 → malignant,
2–5 → benign, 6 (non-breast cancer) → unknown; without pathology, ``asses`` N/B (BI-RADS 1/2) →
normal, else unknown. Lesion type: ``massshape`` G/R/O/X → mass, A/Q → architectural_distortion,
B/F/S/V → asymmetry, T/N/Y → other; ``calcfind`` non-empty → calcification; ``otherfind`` D →
distortion, Q/I/Y/4 → asymmetry. ``ROI_coords`` are **y-first** ``[[ymin, xmin, ymax, xmax], …]``
and converted to x-first boxes. Race: ``ETHNICITY_DESC`` (not ``RACE_DESC``) kept in ``race_ethnicity``.
Licence: no public release of weights trained on EMBED without written permission.

Example:
    >>> roi_boxes("[[10, 20, 30, 60]]")
    [[20.0, 10.0, 60.0, 30.0]]
"""
from __future__ import annotations

import ast
import math
from pathlib import Path

from mammobench.data.adapters.base import BaseAdapter, IngestLog, findings_json, read_table
from mammobench.data.adapters.layout import walk_files
from mammobench.data.adapters.vindr import LESION_PRIORITY
from mammobench.data.manifest import harmonise_density

META_REQUIRED = ("anon_dicom_path", "empi_anon", "acc_anon", "ImageLateralityFinal", "ViewPosition", "FinalImageType")
CLIN_REQUIRED = ("empi_anon", "acc_anon", "tissueden", "side", "asses")
MASS_SHAPE = {**dict.fromkeys("GROX", "mass"), **dict.fromkeys("AQ", "architectural_distortion"),
              **dict.fromkeys("BFSV", "asymmetry"), **dict.fromkeys("TNY", "other")}
OTHER_FIND = {"D": "architectural_distortion", **dict.fromkeys(("Q", "I", "Y", "4"), "asymmetry")}


def roi_boxes(text: str) -> list[list[float]]:
    """Parse ``ROI_coords`` (y-first) into x-first ``[x0, y0, x1, y1]`` boxes."""
    try:
        value = ast.literal_eval(str(text).strip()) if str(text).strip() else []
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return []
    if not isinstance(value, (list, tuple)):
        return []
    if value and not isinstance(value[0], (list, tuple)):
        value = [value]
    boxes = []
    for b in value:
        try:
            if len(b) == 4:
                boxes.append([float(b[1]), float(b[0]), float(b[3]), float(b[2])])
        except (TypeError, ValueError):
            continue
    return boxes


def finding_lesion_type(row: dict) -> str:
    """Lesion type of one clinical finding row ('none' when it codes no finding)."""
    kinds = [MASS_SHAPE.get(str(row.get("massshape", "")).strip().upper())]
    kinds.append("calcification" if str(row.get("calcfind", "")).strip() else None)
    kinds.append(OTHER_FIND.get(str(row.get("otherfind", "")).strip().upper()))
    kinds = [k for k in kinds if k]
    return min(kinds, key=LESION_PRIORITY.index) if kinds else "none"


def _finite(text: object) -> float | None:
    """``text`` as a finite float, or None (empty, NaN, inf or not a number)."""
    try:
        value = float(str(text).strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _severity_label(rows: list[dict]) -> str:
    raw = [str(r.get("path_severity", "")).strip() for r in rows]
    raw = [s for s in raw if s not in ("", "nan")]
    sev = [int(v) for v in map(_finite, raw) if v is not None]
    if len(sev) < len(raw):
        return "unknown"  # an uncoded path_severity value: never guess a pathology
    if sev:
        worst = min(sev)
        return "malignant" if worst <= 1 else ("benign" if worst <= 5 else "unknown")
    return "normal" if rows and all(str(r["asses"]).strip().upper() in ("N", "B") for r in rows) else "unknown"


def _tail(anon_path: str) -> str:
    """``anon_dicom_path`` from its ``cohort_`` component on (else without a leading ``./`` or ``/``)."""
    parts = [p for p in anon_path.strip().replace("\\", "/").split("/") if p not in ("", ".")]
    idx = next((i for i, p in enumerate(parts) if p.startswith("cohort_")), None)
    return "/".join(parts[idx:] if idx is not None else parts)


def rel_path(root: Path, anon_path: str) -> str:
    """The image's path relative to the root: ``images/<tail>`` or ``<tail>``, whichever exists.

    Example:
        >>> rel_path(Path("/nonexistent"), "/mnt/NAS2/mammo/anon/cohort_1/p/s/1.dcm")
        'images/cohort_1/p/s/1.dcm'
    """
    tail = _tail(anon_path)
    for rel in (f"images/{tail}", tail):
        if (root / rel).is_file():
            return rel
    return tail if tail.startswith("images/") or not (root / "images").is_dir() and (root / "cohort_1").is_dir() \
        else f"images/{tail}"


class EMBEDAdapter(BaseAdapter):
    """EMBED open data: 2-D screening/diagnostic images, density, pathology severity, race."""

    name = "embed"
    description = "EMBED (Emory, AWS open data): diverse US cohort, density, pathology, race, y-first ROIs"
    readme = "tasks/embed_cancer/README.md"
    markers = (("tables/EMBED_OpenData_metadata*.csv",),)

    def image_files(self, root: Path):
        """Every ``.dcm`` under ``images/cohort_*`` (or ``cohort_*`` in the root)."""
        for base in sorted((root / "images").glob("cohort_*")) or sorted(root.glob("cohort_*")):
            yield from (p.relative_to(root).as_posix() for p in walk_files(base, (".dcm",)))

    def _tables(self, root: Path) -> tuple:
        def pick(stem: str) -> Path:
            full, reduced = root / "tables" / f"{stem}.csv", root / "tables" / f"{stem}_reduced.csv"
            return full if full.is_file() or not reduced.is_file() else reduced

        meta = read_table(pick("EMBED_OpenData_metadata"), dataset=self.name, required=META_REQUIRED, hint=self.hint())
        clin = read_table(pick("EMBED_OpenData_clinical"), dataset=self.name, required=CLIN_REQUIRED, hint=self.hint())
        by_exam: dict[tuple[str, str], list[dict]] = {}
        for r in clin.to_dict("records"):
            by_exam.setdefault((r["empi_anon"], r["acc_anon"]), []).append(r)
        return meta, by_exam

    def collect(self, root: Path, log: IngestLog) -> None:
        """One row per 2-D image; excluded image types are logged as rejects."""
        meta, by_exam = self._tables(root)
        for r in meta.to_dict("records"):
            rel, lat = rel_path(root, r["anon_dicom_path"]), r["ImageLateralityFinal"].strip().upper()
            image_id = Path(rel).stem
            exam = by_exam.get((r["empi_anon"], r["acc_anon"]), [])
            side_rows = [c for c in exam if str(c["side"]).strip().upper() in (lat, "B", "")]
            row = self._row(r, rel, lat, image_id, exam, side_rows)
            log.add(row)
            reason = self._exclusion(r, exam) or self._label_problem(row, side_rows)
            if reason:
                log.reject(image_id, reason, stage="labels" if ("density" in reason or "label" in reason) else "metadata")

    @staticmethod
    def _row(r: dict, rel: str, lat: str, image_id: str, exam: list[dict], side_rows: list[dict]) -> dict:
        density_raw = exam[0]["tissueden"] if exam else ""
        kinds = [finding_lesion_type(c) for c in side_rows]
        kinds = [k for k in kinds if k != "none"]
        lesion = min(kinds, key=LESION_PRIORITY.index) if kinds else "none"
        label = _severity_label(side_rows)
        boxes = [{"box": b, "lesion_type": lesion if lesion != "none" else "unknown", "pathology": label
                  if label in ("benign", "malignant") else "unknown"} for b in roi_boxes(r.get("ROI_coords", ""))]
        age = exam[0].get("age_at_study", "") if exam else ""
        view = r["ViewPosition"].strip().upper()
        return {"patient_id": r["empi_anon"], "exam_id": r["acc_anon"], "image_id": image_id, "image_path": rel,
                "laterality": lat, "view": view if view in ("CC", "MLO") else "other", "label": label,
                "lesion_type": lesion if (lesion != "none" or label == "normal") else "unknown",
                "density": harmonise_density(density_raw) if str(density_raw).strip() != "5" else "",
                "density_raw": density_raw, "birads_raw": ",".join(sorted({str(c["asses"]) for c in side_rows})),
                "age": _finite(age) if _finite(age) is not None else math.nan,
                "vendor": r.get("Manufacturer", ""), "site": "Emory", "label_source": "pathology_or_birads",
                "findings": findings_json(boxes),
                "race_ethnicity": exam[0].get("ETHNICITY_DESC", "") if exam else ""}

    @staticmethod
    def _label_problem(row: dict, side_rows: list[dict]) -> str:
        if row["label"] != "unknown":
            return ""
        sev = sorted({str(c.get("path_severity", "")).strip() for c in side_rows} - {""})
        asses = sorted({str(c["asses"]).strip() for c in side_rows})
        return (f"label cannot be established: path_severity {sev or 'blank'}, asses {asses or 'no finding row for '}"
                f"{'' if side_rows else row['laterality']} (no pathology and not BI-RADS 1/2)")

    @staticmethod
    def _exclusion(r: dict, exam: list[dict]) -> str:
        if r["FinalImageType"].strip().upper() != "2D":
            return f"excluded: FinalImageType {r['FinalImageType']!r} is not 2D"
        if str(r.get("spot_mag", "")).strip() in ("1", "1.0"):
            return "excluded: spot compression / magnification view (spot_mag = 1)"
        if not exam:
            return "no clinical row for this exam (empi_anon, acc_anon)"
        raw = str(exam[0]["tissueden"]).strip()
        if raw in ("5", "5.0"):
            return "density code 5 (normal male breast): excluded"
        if raw and not harmonise_density(raw):
            return f"unknown density code {raw!r} (expected tissueden 1-4, 5 = male)"
        return ""
