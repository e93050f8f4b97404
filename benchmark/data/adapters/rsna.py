"""RSNA Screening Mammography Breast Cancer Detection (Kaggle 2022) adapter.

Layout as Kaggle's download unpacks it (``kaggle competitions download -c rsna-breast-cancer-detection``):
``train.csv``, ``test.csv``, ``sample_submission.csv``, ``train_images/<patient_id>/<image_id>.dcm`` (JPEG 2000 /
JPEG lossless compressed DICOMs), ``test_images/``. The root is the folder holding ``train.csv`` and
``train_images/`` (found at, below or above the folder named, e.g. ``rsna-breast-cancer-detection/``).
``test.csv`` has no labels (hidden test set) and is not read. Sources: the competition's data page; public
solution repositories (``yassineAlouini/rsna-breast-cancer-detection``, ``flav27/rsna-classifier``) reading
``train_images/{patient_id}/{image_id}.dcm``.

Harmonisation: ``cancer`` 1 → malignant; ``cancer`` 0 with ``biopsy`` 1 → benign (biopsied, not
cancer); otherwise normal. No lesion type (``unknown`` for positives, ``none`` for normals) and no
boxes. ``density`` A–D, blank → unknown, other → rejected. ``age`` in years (blank → unknown).
Vendor = ``machine_<machine_id>`` (anonymised device code); site = ``site_<site_id>``. View CC/MLO;
AT, LM, ML, LMO → other. No official split (the Kaggle test set is hidden).

Example:
    >>> rsna_label({"cancer": "1", "biopsy": "1"}), rsna_label({"cancer": "0", "biopsy": "0"})
    ('malignant', 'normal')
"""
from __future__ import annotations

import math
from pathlib import Path

from mammobench.data.adapters.base import BaseAdapter, IngestLog, read_table
from mammobench.data.adapters.layout import walk_files
from mammobench.data.manifest import harmonise_density

REQUIRED = ("site_id", "patient_id", "image_id", "laterality", "view", "age", "cancer", "density", "machine_id")


def rsna_label(row: dict) -> str:
    """Image label from ``cancer`` / ``biopsy``."""
    if str(row.get("cancer", "")).strip() in ("1", "1.0"):
        return "malignant"
    if str(row.get("biopsy", "")).strip() in ("1", "1.0"):
        return "benign"
    return "normal"


def _age(text: str) -> float:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return math.nan
    return value if 0 < value < 130 else math.nan


class RSNAAdapter(BaseAdapter):
    """RSNA 2022: cancer / biopsy labels, density A–D, age, two sites; no boxes or lesion type."""

    name = "rsna"
    description = "RSNA Screening Mammography 2022 (Kaggle): cancer labels, density, age, 2 sites; no boxes"
    readme = "tasks/rsna_cancer/README.md"
    markers = (("train.csv", "train_images"),)

    def image_files(self, root: Path):
        """Every ``.dcm`` under ``train_images/``."""
        return (p.relative_to(root).as_posix() for p in walk_files(root / "train_images", (".dcm",)))

    def collect(self, root: Path, log: IngestLog) -> None:
        """One row per ``train.csv`` line."""
        table = read_table(root / "train.csv", dataset=self.name, required=REQUIRED, hint=self.hint())
        for r in table.to_dict("records"):
            label = rsna_label(r)
            density = harmonise_density(r["density"])
            view = r["view"].strip().upper()
            row = {"patient_id": r["patient_id"], "exam_id": r["patient_id"], "image_id": r["image_id"],
                   "image_path": f"train_images/{r['patient_id']}/{r['image_id']}.dcm",
                   "laterality": r["laterality"].strip().upper(), "view": view if view in ("CC", "MLO") else "other",
                   "label": label, "lesion_type": "none" if label == "normal" else "unknown",
                   "density": density, "density_raw": r["density"], "birads_raw": r.get("BIRADS", ""),
                   "age": _age(r["age"]), "vendor": f"machine_{r['machine_id']}", "site": f"site_{r['site_id']}",
                   "label_source": "cancer_biopsy_outcome", "findings": "[]"}
            log.add(row)
            if r["density"].strip() and not density:
                log.reject(r["image_id"], f"unknown density code {r['density']!r} (expected A-D or blank)",
                           stage="labels")
