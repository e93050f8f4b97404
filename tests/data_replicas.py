"""Builders for tiny on-disk replicas of each dataset's native layout (DICOMs made with pydicom).

Each ``make_<dataset>(root)`` writes a few synthetic images plus the dataset's CSV/XML files with
its documented quirks, and returns the expectations a test checks against.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from benchmark.data.dicom_write import SYNTAXES, phantom, write_dicom  # noqa: F401  (re-exported for tests)




def _csv(path: Path, header: list[str], rows: list[list], sep: str = ",") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [sep.join(header)] + [sep.join("" if v is None else str(v) for v in r) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


VINDR_BREAST = ["study_id", "series_id", "image_id", "laterality", "view_position", "height", "width",
                "breast_birads", "breast_density", "split"]
VINDR_FIND = VINDR_BREAST + ["finding_categories", "finding_birads", "xmin", "ymin", "xmax", "ymax"]


def make_vindr(root: Path, *, ext: str = ".dicom", syntaxes: tuple[str, ...] = ("native", "j2k", "jpegls", "rle"),
               metadata: bool = True) -> dict:
    """Two studies × 4 images (VinDr layout); study s1 has a mass and a multi-category finding."""
    breast, finds, meta = [], [], []
    k = 0
    for s, (density, split) in enumerate([("DENSITY C", "training"), ("DENSITY A", "test")]):
        study = f"s{s + 1}"
        for lat in ("L", "R"):
            for view in ("CC", "MLO"):
                image_id = f"{study}{lat}{view}"
                lesion = (lat == "L" and view == "CC" and s == 0)
                px = phantom(k, side=lat, lesion_xy=(20, 40) if lesion else None)
                write_dicom(root / "images" / study / f"{image_id}{ext}", px, syntax=syntaxes[k % len(syntaxes)],
                            laterality=lat, view=view, age="061Y", patient_id=study, manufacturer="Siemens")
                base = [study, "ser", image_id, lat, view, 96, 64, "BI-RADS 4" if lesion else "BI-RADS 1", density,
                        split]
                breast.append(base)
                if lesion:
                    finds.append(base + ['"[\'Mass\']"', "BI-RADS 4", 17.0, 37.0, 23.0, 43.0])
                    finds.append(base + ['"[\'Suspicious Calcification\', \'Mass\']"', "BI-RADS 3", 5, 5, 9, 9])
                else:
                    finds.append(base + ['"[\'No Finding\']"', "", "", "", "", ""])
                meta.append([image_id, "061Y", "Siemens", "Mammomat Inspiration"])
                k += 1
    _csv(root / "breast-level_annotations.csv", VINDR_BREAST, breast)
    _csv(root / "finding_annotations.csv", VINDR_FIND, finds)
    if metadata:
        _csv(root / "metadata.csv", ["SOP Instance UID", "Patient's Age", "Manufacturer",
                                     "Manufacturer's Model Name"], meta)
    return {"n_images": 8, "lesion_image": "s1LCC", "box": [17.0, 37.0, 23.0, 43.0]}


def make_virtual_cohort(root: Path) -> dict:
    """VinDr layout (.dcm) + synth_truth.csv + an exact mask for the lesion image."""
    from PIL import Image

    exp = make_vindr(root, ext=".dcm", metadata=False)
    (root / "masks").mkdir(exist_ok=True)
    mask = np.zeros((96, 64), np.uint8)
    mask[37:43, 17:23] = 255
    Image.fromarray(mask).save(root / "masks" / "s1LCC_0.png")
    rows = []
    for s, study in enumerate(("s1", "s2")):
        for lat in ("L", "R"):
            for view in ("CC", "MLO"):
                image_id = f"{study}{lat}{view}"
                lesion = image_id == "s1LCC"
                rows.append([image_id, study, f"patient-{study}", 47 + 20 * s, 0.1, "C" if s == 0 else "A",
                             "mass" if lesion else "none", "malignant" if lesion else "", 12.0 if lesion else "",
                             "VendorX", f"site{s}", 7])
    _csv(root / "synth_truth.csv", ["image_id", "study_id", "patient_id", "age", "vbd", "density", "lesion_type",
                                    "pathology", "lesion_size_mm", "vendor", "site", "seed"], rows)
    return exp
