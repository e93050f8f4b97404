"""CSAW-CC (Karolinska case-control) adapter.

Layout of the released copy (access by application): the table ``anon_dataset_nonhidden_211125.csv`` in the
root (any ``anon_dataset*.csv`` or ``CSAW-CC*.csv``, or any CSV with the columns below, is accepted) with
``anon_patientid, exam_year, anon_filename, x_age, x_case, x_cancer_laterality, rad_timing, imagelaterality,
viewposition, libra_percentdensity``; the images ``<patient>_<date>_<L|R>_<CC|MLO>_<n>.dcm`` in sub-folders of
the root (found by ``anon_filename`` at any depth); cancer masks ``anon_annotations_nonhidden/<stem>_mask.png``.
The root is the folder holding the table (found at, below or above the folder named). Sources: public
loaders of the release (``anon_dataset_nonhidden_211125.csv``, ``glob(data_dir + '/*/' + anon_filename)``,
``anon_annotations_nonhidden/*_mask.png``; ``imagelaterality`` ``Left``/``Right``); ``datasets.md`` §8.

Harmonisation: density is **continuous LIBRA percent density**, binned by the BI-RADS 4th-edition
area quartiles (< 25 % A, 25–50 % B, 50–75 % C, ≥ 75 % D — lossy, documented), blank → unknown,
non-numeric → rejected. ``x_age`` is **binned** in the public copy (1 = 40–55, 2 = 55+): such codes
give age unknown (kept in ``age_raw``); values > 10 are taken as years. Label: case (``x_case`` 1) and
``imagelaterality`` equal to ``x_cancer_laterality`` → malignant (priors included, ``rad_timing`` kept);
the contralateral breast of a case and controls → normal; a case without ``x_cancer_laterality`` →
rejected (which breast has the cancer cannot be established). A cancer mask becomes a finding with its
``mask_path`` (the cache derives the box from it). No lesion type, no split.

Example:
    >>> libra_to_birads(24.3), libra_to_birads(80)
    ('A', 'D')
"""
from __future__ import annotations

import math
from pathlib import Path

from mammobench.data.adapters.base import BaseAdapter, IngestLog, findings_json, read_table
from mammobench.data.adapters.layout import walk_files

REQUIRED = ("anon_patientid", "exam_year", "anon_filename", "x_age", "x_case", "imagelaterality",
            "viewposition", "libra_percentdensity")
DEFAULT_TABLE = "anon_dataset_nonhidden_211125.csv"
TABLE_PATTERNS = ("anon_dataset*.csv", "CSAW-CC*.csv")
MASKS = "anon_annotations_nonhidden"


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
    """CSAW-CC: screening case-control, LIBRA percent density, binned age, cancer masks."""

    name = "csaw_cc"
    description = "CSAW-CC (Karolinska): case-control screening, LIBRA % density, binned age; cancer masks"
    readme = "tasks/csaw_cc_cancer/README.md"
    markers = tuple((pattern,) for pattern in TABLE_PATTERNS)

    def _table_path(self, root: Path) -> Path:
        for pattern in (DEFAULT_TABLE, *TABLE_PATTERNS, "*.csv"):
            for path in sorted(root.glob(pattern)):
                with path.open(encoding="utf-8", errors="replace") as fh:
                    header = fh.readline()
                if all(col in header for col in ("anon_patientid", "libra_percentdensity")):
                    return path
        return root / DEFAULT_TABLE

    def image_files(self, root: Path):
        """Every ``.dcm`` below the root."""
        return (p.relative_to(root).as_posix() for p in walk_files(root, (".dcm",)))

    def collect(self, root: Path, log: IngestLog) -> None:
        """One row per table line; files located by relative path or by name at any depth."""
        table = read_table(self._table_path(root), dataset=self.name, required=REQUIRED, hint=self.hint())
        by_name: dict[str, Path] = {}
        for p in walk_files(root, (".dcm", ".dicom")):
            by_name.setdefault(p.name, p)
        for r in table.to_dict("records"):
            rel = r["anon_filename"].strip()
            if not (root / rel).is_file() and Path(rel).name in by_name:
                rel = by_name[Path(rel).name].relative_to(root).as_posix()
            lat = r["imagelaterality"].strip().upper()[:1]
            case = r["x_case"].strip() in ("1", "1.0")
            cancer_side = str(r.get("x_cancer_laterality", "")).strip().upper()[:1]
            label = "malignant" if case and cancer_side == lat else "normal"
            pd_raw, age, view = r["libra_percentdensity"].strip(), _float(r["x_age"]), r["viewposition"].strip().upper()
            image_id = Path(rel).stem or rel
            mask = f"{MASKS}/{image_id}_mask.png"
            findings = [{"box": None, "mask_path": mask, "lesion_type": "unknown", "pathology": "malignant"}] \
                if label == "malignant" and (root / mask).is_file() else []
            log.add({"patient_id": r["anon_patientid"], "exam_id": f"{r['anon_patientid']}_{r['exam_year']}",
                     "image_id": image_id, "image_path": rel, "laterality": lat,
                     "view": view if view in ("CC", "MLO") else ("other" if view else ""), "label": label,
                     "lesion_type": "unknown" if label == "malignant" else "none",
                     "density": libra_to_birads(_float(pd_raw)), "density_raw": pd_raw,
                     "age": age if age > 10 else math.nan, "age_raw": r["x_age"],
                     "label_source": "cancer_registry", "findings": findings_json(findings),
                     "rad_timing": r.get("rad_timing", ""), "site": "Karolinska"})
            if pd_raw and not math.isfinite(_float(pd_raw)):
                log.reject(image_id, f"libra_percentdensity {pd_raw!r} is not a number", stage="labels")
            elif case and cancer_side not in ("L", "R"):
                log.reject(image_id, f"x_case 1 but x_cancer_laterality {r.get('x_cancer_laterality', '')!r}: which "
                           "breast has the cancer cannot be established", stage="labels")
