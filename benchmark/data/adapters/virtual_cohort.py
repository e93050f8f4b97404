"""The built-in virtual clinical-trial cohort (architecture Contract 1): VinDr layout + ``synth_truth.csv``.

The cohort is read through the VinDr adapter (same CSVs, same DICOM path) and then joined with
``synth_truth.csv``, which carries what the simulator knows exactly and VinDr does not: patient id,
age, density, lesion type, pathology, vendor and site. Exact lesion masks ``masks/<image_id>_<k>.png``
are attached to finding ``k``.

Example:
    >>> VirtualCohortAdapter.name
    'virtual_cohort'
"""
from __future__ import annotations

import math
from pathlib import Path

from mammobench.data.adapters.base import IngestLog, read_table
from mammobench.data.adapters.vindr import VinDrAdapter, add_row
from mammobench.data.manifest import LESION_TYPES, harmonise_density

TRUTH_COLUMNS = ("image_id", "patient_id", "age", "density", "lesion_type", "pathology", "vendor", "site")
_PATHOLOGY = {"benign": "benign", "malignant": "malignant", "none": "normal", "normal": "normal", "": "normal"}


def _float(text: str) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return math.nan


class VirtualCohortAdapter(VinDrAdapter):
    """Virtual cohort written by ``mammobench cohort make`` (exact pathology, lesion type, age)."""

    name = "virtual_cohort"
    description = "built-in virtual clinical-trial cohort (VinDr layout + synth_truth.csv)"
    readme = "tasks/vc_lesion/README.md"
    markers = (("synth_truth.csv", "breast-level_annotations.csv"),)
    has_official_split = True

    def _apply_truth(self, row: dict, truth: dict, root: Path) -> None:
        lesion = str(truth["lesion_type"]).strip().lower() or "none"
        pathology = _PATHOLOGY.get(str(truth["pathology"]).strip().lower())
        density = harmonise_density(truth["density"]) or row["density"]
        row.update(patient_id=str(truth["patient_id"]), age=_float(truth["age"]), density=density,
                   vendor=str(truth["vendor"]), site=str(truth["site"]))
        if lesion not in LESION_TYPES or pathology is None:
            row["_reject"] = (f"synth_truth.csv: unknown lesion_type {truth['lesion_type']!r} or pathology "
                              f"{truth['pathology']!r}")
            return
        row["lesion_type"] = lesion
        row["label"] = "normal" if lesion == "none" else pathology
        row["label_source"] = "simulation_truth"
        for k, finding in enumerate(row["findings"]):
            finding["pathology"] = pathology if lesion != "none" else "unknown"
            mask = f"masks/{row['image_id']}_{k}.png"
            if (root / mask).is_file():
                finding["mask_path"] = mask

    def collect(self, root: Path, log: IngestLog) -> None:
        """VinDr rows joined with ``synth_truth.csv`` on ``image_id``; rows without truth are rejected."""
        truth_table = read_table(root / "synth_truth.csv", dataset=self.name, required=TRUTH_COLUMNS, hint=self.hint())
        truth = {str(r["image_id"]): r for r in truth_table.to_dict("records")}
        for row in self.base_rows(root):
            t = truth.get(row["image_id"])
            if t is None:
                row.setdefault("_reject", f"image {row['image_id']} has no row in synth_truth.csv")
            elif "_reject" not in row:
                self._apply_truth(row, t, root)
            add_row(log, row)
