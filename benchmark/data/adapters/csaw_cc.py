"""CSAW-CC (Karolinska case-control) adapter.

Table: one CSV in the root (default ``CSAW-CC_breast_cancer_screening_data.csv``; any ``*.csv`` with the
columns below is accepted) with ``anon_patientid, exam_year, anon_filename, x_age, x_case,
x_cancer_laterality, rad_timing, imagelaterality, viewposition, libra_percentdensity``. Images are
found by ``anon_filename`` (relative path, else searched by file name under the root).

Harmonisation: density is **continuous LIBRA percent density**, binned by the BI-RADS 4th-edition
area quartiles (< 25 % A, 25–50 % B, 50–75 % C, ≥ 75 % D — lossy, documented), blank → unknown,
non-numeric → rejected. ``x_age`` is **binned** in the public copy (1 = 40–55, 2 = 55+): such codes
give age unknown (kept in ``age_raw``); values > 10 are taken as years. Label: case (``x_case`` 1) and
``imagelaterality`` equal to ``x_cancer_laterality`` → malignant (priors included, ``rad_timing`` kept);
the contralateral breast of a case and controls → normal. No lesion type, no boxes, no split.

Example:
    >>> libra_to_birads(24.3), libra_to_birads(80)
    ('A', 'D')
"""
from __future__ import annotations

import math
from pathlib import Path

from mammobench.data.adapters.base import BaseAdapter, IngestLog, read_table

REQUIRED = ("anon_patientid", "exam_year", "anon_filename", "x_age", "x_case", "imagelaterality",
            "viewposition", "libra_percentdensity")
DEFAULT_TABLE = "CSAW-CC_breast_cancer_screening_data.csv"


def libra_to_birads(percent: float) -> str:
    """Area percent density → A–D by 4th-edition quartiles ('' when not finite)."""
    if not math.isfinite(percent):
        return ""
    return "A" if percent < 25 else "B" if percent < 50 else "C" if percent < 75 else "D"


def _float(text: str) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return math.nan


class CSAWCCAdapter(BaseAdapter):
    """CSAW-CC: screening case-control, LIBRA percent density, binned age."""

    name = "csaw_cc"
    description = "CSAW-CC (Karolinska): case-control screening, LIBRA % density, binned age; no boxes"

    def _table_path(self, root: Path) -> Path:
        if (root / DEFAULT_TABLE).is_file():
            return root / DEFAULT_TABLE
        for path in sorted(root.glob("*.csv")):
            header = path.open(encoding="utf-8", errors="replace").readline()
            if all(col in header for col in ("anon_patientid", "libra_percentdensity")):
                return path
        return root / DEFAULT_TABLE

    def collect(self, root: Path, log: IngestLog) -> None:
        """One row per table line; files located by relative path or by name."""
        table = read_table(self._table_path(root), dataset=self.name, required=REQUIRED)
        by_name = {p.name: p for p in root.rglob("*") if p.suffix.lower() in (".dcm", ".dicom")}
        for r in table.to_dict("records"):
            rel = r["anon_filename"].strip()
            if not (root / rel).is_file() and Path(rel).name in by_name:
                rel = by_name[Path(rel).name].relative_to(root).as_posix()
            lat = r["imagelaterality"].strip().upper()[:1]
            case = r["x_case"].strip() in ("1", "1.0")
            cancer_side = str(r.get("x_cancer_laterality", "")).strip().upper()[:1]
            label = "malignant" if case and cancer_side == lat else "normal"
            pd_raw = r["libra_percentdensity"].strip()
            age = _float(r["x_age"])
            view = r["viewposition"].strip().upper()
            image_id = Path(rel).stem or rel
            log.add({"patient_id": r["anon_patientid"], "exam_id": f"{r['anon_patientid']}_{r['exam_year']}",
                     "image_id": image_id, "image_path": rel, "laterality": lat,
                     "view": view if view in ("CC", "MLO") else "other", "label": label,
                     "lesion_type": "unknown" if label == "malignant" else "none",
                     "density": libra_to_birads(_float(pd_raw)), "density_raw": pd_raw,
                     "age": age if age > 10 else math.nan, "age_raw": r["x_age"],
                     "label_source": "cancer_registry", "findings": "[]",
                     "rad_timing": r.get("rad_timing", ""), "site": "Karolinska"})
            if pd_raw and not math.isfinite(_float(pd_raw)):
                log.reject(image_id, f"libra_percentdensity {pd_raw!r} is not a number", stage="labels")
