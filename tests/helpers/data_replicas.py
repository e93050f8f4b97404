"""Builders for tiny on-disk replicas of each dataset's release **as downloaded** (DICOMs made with pydicom).

Each ``make_<dataset>(top)`` writes the dataset's official folder nesting, file names and column headers
(sources in each adapter's docstring and tasks/<task>/README.md) under ``top`` with realistic defects — a
missing file, a duplicate row, MONOCHROME1, JPEG 2000 / JPEG-LS, ``062Y`` ages, a FOR PROCESSING image, a
table laterality that contradicts ImageLaterality, a blank laterality filled from the header — and returns
what a test checks: the folder to point at, the included/rejected counts, the label counts and the reject
stages. The TCIA releases (CBIS-DDSM, CMMD) are in ``data_replicas_tcia.py``, INbreast / CSAW-CC / hospital
exports in ``data_replicas_misc.py``.
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from mammobench.data.dicom_write import SYNTAXES, phantom, write_dicom  # noqa: F401  (re-exported for tests)

FOR_PROCESSING = {"PresentationIntentType": "FOR PROCESSING"}


def write_csv(path: Path, header: list[str], rows: list[list], sep: str = ",") -> None:
    """A CSV with the given header (None cells written blank)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, delimiter=sep, lineterminator="\n")
        writer.writerow(header)
        writer.writerows([["" if v is None else v for v in r] for r in rows])


_csv = write_csv  # older name kept for the other helper modules


def image(path: Path, k: int, side: str = "L", *, mono1: bool = False, lesion: bool = False, **kw) -> Path:
    """One phantom mammogram DICOM (MONOCHROME1 stored inverted when asked)."""
    px = phantom(k, side=side, lesion_xy=(20, 40) if lesion else None)
    if mono1:
        px = (4095 - px).astype(np.uint16)
    return write_dicom(path, px, photometric="MONOCHROME1" if mono1 else "MONOCHROME2", **kw)


VINDR_BREAST = ["study_id", "series_id", "image_id", "laterality", "view_position", "height", "width",
                "breast_birads", "breast_density", "split"]
VINDR_FIND = VINDR_BREAST + ["finding_categories", "finding_birads", "xmin", "ymin", "xmax", "ymax"]
VINDR_RELEASE = "physionet.org/files/vindr-mammo/1.0.0"


def _vindr_images(root: Path, ext: str, defects: bool) -> tuple[list, list, list]:
    """Two studies × 4 views; with ``defects`` the study-level defects listed in :func:`make_vindr`."""
    breast, finds, meta = [], [], []
    syntaxes = ("j2k", "native", "native", "native", "native", "native", "jpegls", "native")
    for s, (density, split) in enumerate([("DENSITY C", "training"), ("DENSITY A", "test")]):
        study = f"s{s + 1}"
        for lat in ("L", "R"):
            for view in ("CC", "MLO"):
                k = len(breast)
                image_id = f"{study}{lat}{view}"
                lesion = image_id == "s1LCC"
                header_lat, extra = lat, {}
                if defects and image_id == "s1RMLO":
                    header_lat = "L"  # the CSV says R: contradiction
                if defects and image_id == "s2LMLO":
                    extra = FOR_PROCESSING
                if not (defects and image_id == "s2RMLO"):  # s2RMLO: file missing
                    image(root / "images" / study / f"{image_id}{ext}", k, side=lat, lesion=lesion,
                          mono1=defects and image_id == "s2RCC", syntax=syntaxes[k] if defects else "native",
                          laterality=header_lat, view=view, age="061Y", patient_id=study, manufacturer="Siemens",
                          extra=extra)
                csv_lat = "" if defects and image_id == "s2LCC" else lat  # blank: filled from the header
                base = [study, "ser", image_id, csv_lat, view, 96, 64, "BI-RADS 4" if lesion else "BI-RADS 1",
                        density, split]
                breast.append(base)
                if lesion:
                    finds.append(base + ["['Mass']", "BI-RADS 4", 17.0, 37.0, 23.0, 43.0])
                    finds.append(base + ["['Suspicious Calcification', 'Mass']", "BI-RADS 3", 5, 5, 9, 9])
                else:
                    finds.append(base + ["['No Finding']", "", "", "", "", ""])
                meta.append([image_id, "062Y" if s else "061Y", "Siemens", "Mammomat Inspiration"])
    return breast, finds, meta


def make_vindr(top: Path, *, ext: str = ".dicom", defects: bool = True, metadata: bool = True,
               nested: bool = True) -> dict:
    """VinDr-Mammo as PhysioNet's ``wget -r`` leaves it (``physionet.org/files/vindr-mammo/1.0.0/``).

    Defects: s1RCC listed twice (exact duplicate row), s2RMLO file missing, s2LMLO FOR PROCESSING,
    s1RMLO CSV laterality R vs ImageLaterality L, s2LCC blank laterality (filled from the header),
    s2RCC MONOCHROME1 + JPEG-LS, s1LCC JPEG 2000 with an exact duplicate finding line, ages ``061Y``/``062Y``,
    one DICOM on disk without a row (images/s9/orphan.dicom).
    """
    root = top / VINDR_RELEASE if nested else top
    breast, finds, meta = _vindr_images(root, ext, defects)
    if defects:
        breast.append(list(breast[2]))  # s1RCC twice
        finds.append(list(finds[0]))  # the s1LCC mass box twice
        image(root / "images" / "s9" / f"orphan{ext}", 99)
    write_csv(root / "breast-level_annotations.csv", VINDR_BREAST, breast)
    write_csv(root / "finding_annotations.csv", VINDR_FIND, finds)
    if metadata:
        write_csv(root / "metadata.csv", ["SOP Instance UID", "Patient's Age", "Manufacturer",
                                          "Manufacturer's Model Name"], meta)
    write_csv(root / "SHA256SUMS.txt", ["sha256  file"], [])
    if not defects:
        return {"root": root, "n_included": 8, "n_rejected": 0, "labels": {"normal": 7, "malignant": 1}}
    return {"root": root, "lesion_image": "s1LCC", "box": [17.0, 37.0, 23.0, 43.0],
            "n_included": 5, "n_rejected": 4, "n_unlisted": 1, "labels": {"normal": 4, "malignant": 1},
            "stages": {"metadata": 1, "files": 1, "acquisition": 1, "consistency": 1}}


def make_virtual_cohort(root: Path) -> dict:
    """VinDr layout (.dcm, no defects) + synth_truth.csv + an exact mask for the lesion image."""
    from PIL import Image

    exp = make_vindr(root, ext=".dcm", defects=False, metadata=False, nested=False)
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
    write_csv(root / "synth_truth.csv", ["image_id", "study_id", "patient_id", "age", "vbd", "density",
                                         "lesion_type", "pathology", "lesion_size_mm", "vendor", "site", "seed"], rows)
    return exp


RSNA_HEADER = ["site_id", "patient_id", "image_id", "laterality", "view", "age", "cancer", "biopsy", "invasive",
               "BIRADS", "implant", "density", "machine_id", "difficult_negative_case"]


def make_rsna(top: Path) -> dict:
    """Kaggle's ``rsna-breast-cancer-detection/`` (train.csv + train_images/<patient>/<image>.dcm, JPEG 2000/LS).

    Defects: a density code Z, a duplicate row, a missing file, a FOR PROCESSING image, a CSV laterality that
    contradicts ImageLaterality, a blank laterality (filled from the header), MONOCHROME1, an unlisted file.
    """
    root = top / "rsna-breast-cancer-detection"
    rows = [[2, 10006, 462822612, "L", "CC", 61.0, 0, 0, 0, "", 0, "", 29, "False"],
            [2, 10006, 1459541791, "L", "MLO", 61.0, 0, 0, 0, "", 0, "", 29, "False"],
            [1, 10011, 220375232, "R", "CC", 55.0, 1, 1, 1, 0, 0, "C", 21, "False"],
            [1, 10011, 270344397, "R", "AT", 55.0, 0, 1, 0, 0, 0, "B", 21, "True"],
            [1, 10012, 111, "L", "CC", "", 0, 0, 0, 1, 0, "Z", 21, "False"],
            [1, 10013, 222, "L", "CC", 70.0, 0, 0, 0, 1, 0, "A", 21, "False"],
            [1, 10013, 333, "R", "CC", 70.0, 0, 0, 0, 1, 0, "A", 21, "False"],
            [1, 10014, 444, "L", "MLO", 48.0, 0, 0, 0, 1, 0, "D", 21, "False"],
            [1, 10014, 555, "", "CC", 48.0, 0, 0, 0, 1, 0, "D", 21, "False"]]
    header_side = {444: "R", 555: "L"}
    for k, r in enumerate(rows):
        if r[2] == 222:
            continue  # missing file
        side = header_side.get(r[2], r[3])
        image(root / "train_images" / str(r[1]) / f"{r[2]}.dcm", k, side=side, mono1=r[2] == 1459541791,
              syntax=("j2k", "jpegls")[k % 2], laterality=side, view=r[4], age=None,
              extra=FOR_PROCESSING if r[2] == 333 else None)
    image(root / "train_images" / "10099" / "999.dcm", 50)  # on disk, not in train.csv
    write_csv(root / "train.csv", RSNA_HEADER, rows + [list(rows[0])])
    write_csv(root / "test.csv", ["site_id", "patient_id", "image_id", "laterality", "view", "age", "implant",
                                  "machine_id", "prediction_id"], [])
    return {"root": root, "n_included": 5, "n_rejected": 5, "n_unlisted": 1,
            "labels": {"normal": 3, "malignant": 1, "benign": 1},
            "stages": {"labels": 1, "metadata": 1, "files": 1, "acquisition": 1, "consistency": 1}}


EMBED_META = ["anon_dicom_path", "empi_anon", "acc_anon", "study_date_anon", "FinalImageType", "ImageLateralityFinal",
              "ViewPosition", "spot_mag", "ROI_coords", "num_roi", "match_level", "Manufacturer",
              "ManufacturerModelName", "cohort_num"]
EMBED_CLIN = ["empi_anon", "acc_anon", "asses", "tissueden", "side", "path_severity", "massshape", "calcfind",
              "otherfind", "age_at_study", "ETHNICITY_DESC"]


def make_embed(top: Path, *, prefix: str = "/mnt/NAS2/mammo/anon/") -> dict:
    """The open-data bucket copied as is: ``tables/`` beside ``images/cohort_1/<patient>/<exam>/<sop>.dcm``.

    ``prefix`` is the start of ``anon_dicom_path`` (``/mnt/NAS2/mammo/anon/`` in older tables, ``./images/`` or
    ``images/`` in newer ones). Defects: a C-view, a male exam, a spot view, a missing file, FOR PROCESSING,
    a table laterality contradicting ImageLaterality, a duplicate row, a BI-RADS 0 exam without pathology
    (label cannot be established), MONOCHROME1.
    """
    root = top / "embed-open-data"
    files = [("e1", "a1", "L", "CC", "2D", "", "[[37, 17, 43, 23]]"), ("e1", "a1", "R", "CC", "2D", "", ""),
             ("e1", "a1", "L", "CC", "C-view", "", ""), ("e2", "a2", "L", "MLO", "2D", "", ""),
             ("e1", "a1", "L", "XCCL", "2D", "1", ""), ("e3", "a3", "L", "CC", "2D", "", ""),
             ("e3", "a3", "R", "CC", "2D", "", ""), ("e3", "a3", "L", "MLO", "2D", "", ""),
             ("e3", "a3", "R", "MLO", "2D", "", ""), ("e4", "a4", "R", "MLO", "2D", "", "")]
    meta_rows = []
    for k, (e, a, lat, view, kind, spot, roi) in enumerate(files):
        rel = f"cohort_1/{e}/{a}/1.2.{k}.dcm"
        if k != 5:  # 1.2.5: file missing
            side = "R" if k == 7 else lat  # 1.2.7: header R, table L
            image(root / "images" / rel, k, side=side, laterality=side, view=view, manufacturer="HOLOGIC, Inc.",
                  mono1=k == 8, extra=FOR_PROCESSING if k == 6 else None)
        meta_rows.append([f"{prefix}{rel}", e, a, "2019", kind, lat, view, spot, roi, 1 if roi else 0, 1, "HOLOGIC, Inc.",
                          "Selenia Dimensions", 1])
    write_csv(root / "tables" / "EMBED_OpenData_metadata.csv", EMBED_META, meta_rows + [list(meta_rows[0])])
    write_csv(root / "tables" / "EMBED_OpenData_clinical.csv", EMBED_CLIN,
              [["e1", "a1", "S", 3, "L", 0, "X", "", "", 58, "African American or Black"],
               ["e1", "a1", "B", 3, "R", "", "", "", "", 58, "African American or Black"],
               ["e2", "a2", "N", 5, "L", "", "", "", "", 61, "Caucasian or White"],
               ["e3", "a3", "N", 2, "B", "", "", "", "", 49, "Asian"],
               ["e4", "a4", "A", 2, "R", "", "", "", "", 66, "Caucasian or White"]])
    return {"root": root, "n_included": 3, "n_rejected": 8, "labels": {"malignant": 1, "normal": 2},
            "stages": {"metadata": 3, "labels": 2, "files": 1, "acquisition": 1, "consistency": 1}}


# The other releases live in their own modules; re-exported here so one import reaches every replica.
from tests.helpers.data_replicas_misc import make_csaw, make_hospital_export, make_inbreast  # noqa: E402,F401
from tests.helpers.data_replicas_tcia import make_cbis, make_cmmd  # noqa: E402,F401
