"""Builders for tiny on-disk replicas of each dataset's native layout (DICOMs made with pydicom).

Each ``make_<dataset>(root)`` writes a few synthetic images plus the dataset's CSV/XML files with
its documented quirks, and returns the expectations a test checks against.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from mammobench.data.dicom_write import SYNTAXES, phantom, write_dicom  # noqa: F401  (re-exported for tests)




def _csv(path: Path, header: list[str], rows: list[list], sep: str = ",") -> None:
    import csv

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, delimiter=sep, lineterminator="\n")
        writer.writerow(header)
        writer.writerows([["" if v is None else v for v in r] for r in rows])


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
                    finds.append(base + ["['Mass']", "BI-RADS 4", 17.0, 37.0, 23.0, 43.0])
                    finds.append(base + ["['Suspicious Calcification', 'Mass']", "BI-RADS 3", 5, 5, 9, 9])
                else:
                    finds.append(base + ["['No Finding']", "", "", "", "", ""])
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


CBIS_MASS = ["patient_id", "breast_density", "left or right breast", "image view", "abnormality id",
             "abnormality type", "mass shape", "mass margins", "assessment", "pathology", "subtlety",
             "image file path", "cropped image file path", "ROI mask file path"]
CBIS_CALC = ["patient_id", "breast density", "left or right breast", "image view", "abnormality id",
             "abnormality type", "calc type", "calc distribution", "assessment", "pathology", "subtlety",
             "image file path", "cropped image file path", "ROI mask file path"]


def _cbis_series(root: Path, folder: str, files: dict[str, np.ndarray]) -> str:
    series = root / "CBIS-DDSM" / folder / "07-20-2016-DDSM-12345" / "1.000000-full mammogram images-54321"
    for name, px in files.items():
        write_dicom(series / name, px, laterality=None, view=None, age=None, manufacturer="")
    return f"{folder}/1.3.6.1.4.1.9590.100.1.2.1/1.3.6.1.4.1.9590.100.1.2.2/000000.dcm"


def make_cbis(root: Path) -> dict:
    """Mass train (swapped ROI/crop columns, AD shape), calc test ('breast density' column), one bad density."""
    full = phantom(0, (96, 64), lesion_xy=(20, 40))
    mask = np.zeros((96, 64), np.uint16)
    mask[36:44, 16:24] = 255
    crop = full[30:50, 10:30]
    img = _cbis_series(root, "Mass-Training_P_00001_LEFT_CC", {"1-1.dcm": full})
    roi = _cbis_series(root, "Mass-Training_P_00001_LEFT_CC_1", {"1-1.dcm": crop, "1-2.dcm": mask})
    # swapped: the 'cropped' column points at the folder holding the full-size mask and vice versa
    mass_rows = [["P_00001", 3, "LEFT", "CC", 1, "mass", "IRREGULAR-ARCHITECTURAL_DISTORTION", "SPICULATED", 5,
                  "MALIGNANT", 5, img, roi.replace("000000", "000001"), roi]]
    img2 = _cbis_series(root, "Mass-Training_P_00002_RIGHT_MLO", {"1-1.dcm": phantom(1, side="R")})
    mass_rows.append(["P_00002", 7, "RIGHT", "MLO", 1, "mass", "OVAL", "CIRCUMSCRIBED", 3, "BENIGN", 2, img2,
                      "", ""])
    _csv(root / "mass_case_description_train_set.csv", CBIS_MASS, mass_rows)
    img3 = _cbis_series(root, "Calc-Test_P_00003_LEFT_MLO", {"1-1.dcm": phantom(2)})
    calc_rows = [["P_00003", 0, "LEFT", "MLO", 1, "calcification", "PLEOMORPHIC", "CLUSTERED", 4,
                  "BENIGN_WITHOUT_CALLBACK", 3, img3, "", ""]]
    _csv(root / "calc_case_description_test_set.csv", CBIS_CALC, calc_rows)
    return {"mask_path": "CBIS-DDSM/Mass-Training_P_00001_LEFT_CC_1/07-20-2016-DDSM-12345/"
                         "1.000000-full mammogram images-54321/1-2.dcm"}


def make_rsna(root: Path) -> None:
    """train.csv + train_images/<patient>/<image>.dcm (JPEG 2000 / JPEG-LS), one bad density code."""
    header = ["site_id", "patient_id", "image_id", "laterality", "view", "age", "cancer", "biopsy", "invasive",
              "BIRADS", "implant", "density", "machine_id", "difficult_negative_case"]
    rows = [[2, 10006, 462822612, "L", "CC", 61.0, 0, 0, 0, "", 0, "", 29, "False"],
            [2, 10006, 1459541791, "L", "MLO", 61.0, 0, 0, 0, "", 0, "", 29, "False"],
            [1, 10011, 220375232, "R", "CC", 55.0, 1, 1, 1, 0, 0, "C", 21, "False"],
            [1, 10011, 270344397, "R", "AT", 55.0, 0, 1, 0, 0, 0, "B", 21, "True"],
            [1, 10012, 111, "L", "CC", "", 0, 0, 0, 1, 0, "Z", 21, "False"]]
    for k, r in enumerate(rows):
        write_dicom(root / "train_images" / str(r[1]) / f"{r[2]}.dcm", phantom(k, side=r[3]),
                    syntax=("j2k", "jpegls")[k % 2], laterality=r[3], view=r[4], age=None)
    _csv(root / "train.csv", header, rows)


def make_cmmd(root: Path) -> None:
    """CMMD/<ID1>/<study>/<series>/1-k.dcm with views only in DICOM tags (ViewCodeSequence), clinical CSV."""
    images = [("D1-0001", "L", "399162004"), ("D1-0001", "L", "399368009"), ("D2-0002", "R", "399368009"),
              ("D2-0002", "L", "399162004")]
    for k, (pid, lat, code) in enumerate(images):
        write_dicom(root / "CMMD" / pid / "1.3.6.1.study" / "1.3.6.1.series" / f"1-{k + 1}.dcm",
                    phantom(k, side=lat), laterality=lat, view=None, view_code=code, age="044Y",
                    manufacturer="GE MEDICAL SYSTEMS", syntax="rle")
    _csv(root / "CMMD_clinicaldata_revision.csv", ["ID1", "LeftRight", "Age", "number", "abnormality",
                                                   "classification", "subtype"],
         [["D1-0001", "L", 44, 2, "calcification", "Benign", ""], ["D2-0002", "R", 57, 1, "both", "Malignant",
                                                                     "Luminal A"]])


def make_inbreast(root: Path) -> None:
    """';'-separated CSV, AllDICOMs with the 'ML' view token, one plist ROI file."""
    import plistlib

    base = root / "INbreast Release 1.0"
    rows = [["removed", "removed", "L", "CC", "201001", "20586908", 2, "4c"],
            ["removed", "removed", "L", "MLO", "201001", "20586934", 2, "1"],
            ["removed", "removed", "R", "CC", "201001", "22678622", "", "2"],
            ["removed", "removed", "R", "MLO", "201001", "22678646", 9, "6"]]
    for k, r in enumerate(rows):
        token = "ML" if r[3] == "MLO" else "CC"
        write_dicom(base / "AllDICOMs" / f"{r[5]}_6c613a14b80a8591_MG_{r[2]}_{token}_ANON.dcm", phantom(k, side=r[2]),
                    laterality=r[2], view=r[3], age=None, manufacturer="SIEMENS")
    _csv(base / "INbreast.csv", ["Patient ID", "Patient age", "Laterality", "View", "Acquisition date",
                                 "File Name", "ACR", "Bi-Rads"], rows, sep=";")
    rois = {"Images": [{"ROIs": [{"Name": "Mass", "NumberOfPoints": 3,
                                  "Point_px": ["(17.5, 37.0)", "(23.0, 40.0)", "(20.0, 43.0)"]},
                                 {"Name": "Calcification", "NumberOfPoints": 1, "Point_px": ["(10, 12)"]}]}]}
    (base / "AllXML").mkdir(parents=True, exist_ok=True)
    (base / "AllXML" / "20586908.xml").write_bytes(plistlib.dumps(rois))


def make_embed(root: Path) -> None:
    """tables/ metadata + clinical (per finding), y-first ROI_coords, a C-view and a male (tissueden 5) exam."""
    meta_h = ["anon_dicom_path", "empi_anon", "acc_anon", "study_date_anon", "FinalImageType",
              "ImageLateralityFinal", "ViewPosition", "spot_mag", "ROI_coords", "num_roi", "match_level",
              "Manufacturer", "ManufacturerModelName", "cohort_num"]
    files = [("e1", "a1", "L", "CC", "2D", "", "[[37, 17, 43, 23]]"), ("e1", "a1", "R", "CC", "2D", "", ""),
             ("e1", "a1", "L", "CC", "C-view", "", ""), ("e2", "a2", "L", "MLO", "2D", "", ""),
             ("e1", "a1", "L", "XCCL", "2D", "1", "")]
    meta_rows = []
    for k, (e, a, lat, view, kind, spot, roi) in enumerate(files):
        rel = f"cohort_1/{e}/{a}/1.2.{k}.dcm"
        write_dicom(root / rel, phantom(k, side=lat), laterality=lat, view=view, manufacturer="HOLOGIC, Inc.")
        meta_rows.append([f"/mnt/NAS2/mammo/anon/{rel}", e, a, "2019", kind, lat, view, spot, roi,
                          1 if roi else 0, 1, "HOLOGIC, Inc.", "Selenia Dimensions", 1])
    _csv(root / "tables" / "EMBED_OpenData_metadata.csv", meta_h, meta_rows)
    clin_h = ["empi_anon", "acc_anon", "asses", "tissueden", "side", "path_severity", "massshape", "calcfind",
              "otherfind", "age_at_study", "ETHNICITY_DESC"]
    _csv(root / "tables" / "EMBED_OpenData_clinical.csv", clin_h,
         [["e1", "a1", "S", 3, "L", 0, "X", "", "", 58, "African American or Black"],
          ["e1", "a1", "B", 3, "R", "", "", "", "", 58, "African American or Black"],
          ["e2", "a2", "N", 5, "L", "", "", "", "", 61, "Caucasian or White"]])


def make_csaw(root: Path) -> None:
    """CSAW-CC table with LIBRA percent density and binned age; one non-numeric density."""
    header = ["anon_patientid", "exam_year", "anon_filename", "x_age", "x_case", "x_type", "x_cancer_laterality",
              "rad_timing", "imagelaterality", "viewposition", "libra_percentdensity"]
    rows = [[1, 2012, "00001_20990909_L_CC_1.dcm", 1, 1, 2, "Left", 1, "Left", "CC", 24.3],
            [1, 2012, "00001_20990909_R_CC_2.dcm", 1, 1, 2, "Left", 1, "Right", "CC", 61.0],
            [2, 2013, "00002_20990909_L_MLO_3.dcm", 2, 0, "", "", "", "Left", "MLO", "n/a"]]
    for k, r in enumerate(rows):
        write_dicom(root / "images" / r[2], phantom(k, side=r[8][0]), laterality=r[8][0], view=r[9], age=None,
                    manufacturer="HOLOGIC")
    _csv(root / "CSAW-CC_breast_cancer_screening_data.csv", header, rows)


def make_hospital_export(root: Path) -> None:
    """A PACS-style export: CSV with its own column names/codes + the YAML mapping."""
    rows = [["H1", "ACC1", "img/h1_l.dcm", "LEFT", "CC", "c", "054Y", "1", "MASS", "10", "20", "30", "40"],
            ["H1", "ACC1", "img/h1_r.dcm", "RIGHT", "CC", "c", "054Y", "0", "", "", "", "", ""],
            ["H2", "ACC2", "img/h2_l.dcm", "LEFT", "MLO", "q", "61", "0", "", "", "", "", ""],
            ["H3", "ACC3", "img/h3_l.dcm", "SINISTER", "MLO", "b", "70", "0", "", "", "", "", ""]]
    for k, r in enumerate(rows):
        write_dicom(root / r[2], phantom(k, side="L" if r[3] != "RIGHT" else "R"))
    _csv(root / "export.csv", ["PatID", "Acc", "File", "Side", "Proj", "ACR", "AgeAS", "Cancer", "Finding",
                               "y0", "x0", "y1", "x1"], rows)
    (root / "mammobench_mapping.yaml").write_text(
        "table: export.csv\ndataset: hospital_x\n"
        "columns: {patient_id: PatID, exam_id: Acc, image_path: File, laterality: Side, view: Proj,\n"
        "          density: ACR, age: AgeAS, label: Cancer, lesion_type: Finding}\n"
        "values:\n  laterality: {LEFT: L, RIGHT: R}\n  label: {'0': normal, '1': malignant}\n"
        "  lesion_type: {MASS: mass, '': none}\n"
        "constants: {site: Hospital X}\n"
        "box: {columns: [y0, x0, y1, x1], order: yxyx}\n")
