"""Seeded replicas, large enough to split, of the releases whose adapters give lesion boxes (detection tasks).

The adapter tests' replicas (``data_replicas*.py``) hold 3–5 usable images — too few for a train / val / test
split with lesions in each part. These builders write the **same layouts, file names and column headers** (the
constants are imported from those modules) for ``n_patients`` women, half of them with one lesion on both views
of one breast, drawn as a bright 6-px square at a seeded position inside the breast; the lesion's box (or mask,
or ROI polygon) is written where each release keeps it:

* VinDr-Mammo: ``finding_annotations.csv`` ``xmin, ymin, xmax, ymax``;
* CBIS-DDSM: a ``ROI mask images`` DICOM per abnormality (the cache derives the box);
* INbreast: ``AllXML/<FileName>.xml`` plist ROIs (``Point_px``);
* EMBED: ``ROI_coords`` (y-first) in the metadata table.

Each returns ``{"root", "n_lesion_images"}``; the root is the folder ``$MAMMOBENCH_DATA`` names in the task.

Example:
    >>> lesion_box(3, 1, "L", (128, 96))[2:]
    [37, 47]
"""
from __future__ import annotations

import plistlib
from pathlib import Path

import numpy as np

from mammobench.data.dicom_write import phantom, write_dicom
from tests.helpers.data_replicas import (EMBED_CLIN, EMBED_META, VINDR_BREAST, VINDR_FIND, VINDR_RELEASE,
                                         write_csv)
from tests.helpers.data_replicas_misc import INBREAST_XLS
from tests.helpers.data_replicas_tcia import CBIS_CALC, CBIS_MASS, SECONDARY_CAPTURE, _csv_path, _series

SHAPE = (128, 96)
VIEWS = (("L", "CC"), ("L", "MLO"), ("R", "CC"), ("R", "MLO"))


def lesion_box(seed: int, k: int, side: str, shape: tuple[int, int] = SHAPE) -> list[int]:
    """Box ``[x0, y0, x1, y1]`` (stored pixels) of the 6-px lesion of image ``k``, inside the breast of ``side``."""
    rng = np.random.default_rng([seed, k])
    h, w = shape
    from_wall, y = int(rng.integers(int(0.15 * w), int(0.45 * w))), int(rng.integers(int(0.35 * h), int(0.65 * h)))
    x = from_wall if side == "L" else w - 1 - from_wall
    return [x - 3, y - 3, x + 3, y + 3]


def _pixels(seed: int, k: int, side: str, box: list[int] | None) -> np.ndarray:
    dense = float(np.random.default_rng([seed, k, 1]).uniform(0.2, 0.8))
    return phantom(seed * 10_000 + k, SHAPE, side=side, dense=dense,
                   lesion_xy=None if box is None else (box[0] + 3, box[1] + 3))


def _plan(n_patients: int, seed: int):
    """Per patient: (index, lesion side or None, density 1-4, age); half the patients have a lesion."""
    rng = np.random.default_rng(seed)
    return [(p, ("L", "R")[int(rng.integers(2))] if p % 2 == 0 else None, int(rng.integers(1, 5)),
             int(rng.integers(42, 75))) for p in range(n_patients)]


def make_vindr_detect(top: Path, *, n_patients: int = 40, seed: int = 0) -> dict:
    """VinDr-Mammo (``physionet.org/files/vindr-mammo/1.0.0/``) with boxed findings; the last quarter is ``test``."""
    root = top / "vindr-mammo" / VINDR_RELEASE
    breast, finds, meta, n_lesion = [], [], [], 0
    for p, lesion_side, density, age in _plan(n_patients, seed):
        study, split = f"s{p:03d}", "test" if p >= 0.75 * n_patients else "training"
        for lat, view in VIEWS:
            k, image_id = 4 * p + VIEWS.index((lat, view)), f"{study}{lat}{view}"
            box = lesion_box(seed, k, lat) if lat == lesion_side else None
            write_dicom(root / "images" / study / f"{image_id}.dicom", _pixels(seed, k, lat, box), laterality=lat,
                        view=view, age=f"{age:03d}Y", patient_id=study, manufacturer="Siemens")
            base = [study, "ser", image_id, lat, view, SHAPE[0], SHAPE[1], "BI-RADS 4" if box else "BI-RADS 1",
                    f"DENSITY {'ABCD'[density - 1]}", split]
            breast.append(base)
            finds.append(base + (["['Mass']", "BI-RADS 4", *box] if box else ["['No Finding']", "", "", "", "", ""]))
            meta.append([image_id, f"{age:03d}Y", "Siemens", "Mammomat Inspiration"])
            n_lesion += box is not None
    write_csv(root / "breast-level_annotations.csv", VINDR_BREAST, breast)
    write_csv(root / "finding_annotations.csv", VINDR_FIND, finds)
    write_csv(root / "metadata.csv", ["SOP Instance UID", "Patient's Age", "Manufacturer",
                                      "Manufacturer's Model Name"], meta)
    return {"root": top, "n_lesion_images": n_lesion}


def make_cbis_detect(top: Path, *, n_patients: int = 40, seed: int = 0) -> dict:
    """CBIS-DDSM (classic layout: ``CBIS-DDSM/<case>/<StudyUID>/<SeriesUID>/000000.dcm``): two views of one breast
    per patient, one abnormality each with its ROI mask; malignant for half the patients, benign for the others."""
    base_dir = top / "CBIS-DDSM"
    images = base_dir / "CBIS-DDSM"
    rng = np.random.default_rng(seed)
    tables: dict[tuple[str, str], list] = {(kind, part): [] for kind in ("mass", "calc") for part in ("train", "test")}
    n_malignant = 0
    for p, lesion_side, density, _ in _plan(n_patients, seed):
        side = lesion_side or ("L", "R")[p % 4 // 2]
        kind, part = ("mass", "calc")[int(rng.integers(2))], "test" if p >= 0.75 * n_patients else "train"
        pathology = "MALIGNANT" if lesion_side else ("BENIGN", "BENIGN_WITHOUT_CALLBACK")[p % 4 // 2]
        for v, view in enumerate(("CC", "MLO")):
            k, n = 4 * p + v, 1000 + 10 * p + 2 * v
            case = f"{kind.title()}-{'Training' if part == 'train' else 'Test'}_P_{p:05d}_{'LEFT' if side == 'L' else 'RIGHT'}_{view}"
            box = lesion_box(seed, k, side)
            write_dicom(_series(images, case, "full", n, "classic") / "000000.dcm", _pixels(seed, k, side, box),
                        laterality=None, view=None, age=None, manufacturer="", sop_class=SECONDARY_CAPTURE)
            mask = np.zeros(SHAPE, np.uint16)
            mask[box[1]:box[3], box[0]:box[2]] = 255
            write_dicom(_series(images, f"{case}_1", "roi", n + 1, "classic") / "000000.dcm", mask, laterality=None,
                        view=None, age=None, sop_class=SECONDARY_CAPTURE)
            detail = ["IRREGULAR", "SPICULATED"] if kind == "mass" else ["PLEOMORPHIC", "CLUSTERED"]
            tables[(kind, part)].append([f"P_{p:05d}", density, "LEFT" if side == "L" else "RIGHT", view, 1,
                                         "mass" if kind == "mass" else "calcification", *detail, 4, pathology, 3,
                                         _csv_path(case, n), "", _csv_path(f"{case}_1", n + 1)])
            n_malignant += pathology == "MALIGNANT"
    for (kind, part), rows in tables.items():
        write_csv(base_dir / f"{kind}_case_description_{part}_set.csv", CBIS_MASS if kind == "mass" else CBIS_CALC, rows)
    return {"root": top, "n_lesion_images": n_malignant}  # malignant images: the lesion images of the task


def make_inbreast_detect(top: Path, *, n_patients: int = 40, seed: int = 0) -> dict:
    """``INbreast Release 1.0/`` with the ;-separated sheet export, ``AllDICOMs`` and ``AllXML`` plist ROIs."""
    root = top / "INbreast" / "INbreast Release 1.0"
    rows, n_lesion = [], 0
    (root / "AllXML").mkdir(parents=True, exist_ok=True)
    for p, lesion_side, density, _ in _plan(n_patients, seed):
        for lat, view in VIEWS:
            k = 4 * p + VIEWS.index((lat, view))
            name, box = 50_000_000 + k, lesion_box(seed, k, lat) if lat == lesion_side else None
            token = "ML" if view == "MLO" else "CC"
            write_dicom(root / "AllDICOMs" / f"{name}_{p:012x}_MG_{lat}_{token}_ANON.dcm", _pixels(seed, k, lat, box),
                        laterality=lat, view=None, age=None, manufacturer="SIEMENS")
            rows.append(["removed", "removed", lat, view, "201001", name, density, ("4c", "2")[p % 4 // 2] if box else "1"])
            if box:
                x0, y0, x1, y1 = box
                points = [f"({x0}, {y0})", f"({x1 - 1}, {y0})", f"({x1 - 1}, {y1 - 1})", f"({x0}, {y1 - 1})"]
                rois = {"Images": [{"ROIs": [{"Name": "Mass", "NumberOfPoints": 4, "Point_px": points}]}]}
                (root / "AllXML" / f"{name}.xml").write_bytes(plistlib.dumps(rois))
                n_lesion += 1
    write_csv(root / "INbreast.csv", INBREAST_XLS[:8], rows, sep=";")
    return {"root": top, "n_lesion_images": n_lesion}


def make_embed_detect(top: Path, *, n_patients: int = 40, seed: int = 0) -> dict:
    """The EMBED open-data bucket (``tables/`` + ``images/cohort_1/<patient>/<exam>/<sop>.dcm``) with y-first
    ``ROI_coords`` on both views of the lesion side; clinical rows per side (pathology for the lesion side)."""
    root = top / "EMBED" / "embed-open-data"
    meta, clin, n_lesion = [], [], 0
    for p, lesion_side, density, age in _plan(n_patients, seed):
        e, a = f"e{p:03d}", f"a{p:03d}"
        for lat, view in VIEWS:
            k = 4 * p + VIEWS.index((lat, view))
            box = lesion_box(seed, k, lat) if lat == lesion_side else None
            rel = f"cohort_1/{e}/{a}/1.2.{k}.dcm"
            write_dicom(root / "images" / rel, _pixels(seed, k, lat, box), laterality=lat, view=view,
                        manufacturer="HOLOGIC, Inc.", patient_id=e)
            roi = f"[[{box[1]}, {box[0]}, {box[3]}, {box[2]}]]" if box else ""
            meta.append([f"/mnt/NAS2/mammo/anon/{rel}", e, a, "2019", "2D", lat, view, "", roi, 1 if box else 0, 1,
                         "HOLOGIC, Inc.", "Selenia Dimensions", 1])
            n_lesion += box is not None
        for lat in ("L", "R"):
            lesion = lat == lesion_side
            clin.append([e, a, "S" if lesion else "N", density, lat, (0, 3)[p % 4 // 2] if lesion else "",
                         "X" if lesion else "", "", "", age, "Caucasian or White"])
    write_csv(root / "tables" / "EMBED_OpenData_metadata.csv", EMBED_META, meta)
    write_csv(root / "tables" / "EMBED_OpenData_clinical.csv", EMBED_CLIN, clin)
    return {"root": top, "n_lesion_images": n_lesion}


BUILDERS = {"vindr_detect": make_vindr_detect, "cbis_ddsm_detect": make_cbis_detect,
            "inbreast_detect": make_inbreast_detect, "embed_detect": make_embed_detect}
