"""Replicas of the TCIA releases as the NBIA Data Retriever writes them: CBIS-DDSM and CMMD (see data_replicas.py)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from mammobench.data.dicom_write import phantom, write_dicom
from tests.helpers.data_replicas import FOR_PROCESSING, image, write_csv

SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"
CBIS_MASS = ["patient_id", "breast_density", "left or right breast", "image view", "abnormality id",
             "abnormality type", "mass shape", "mass margins", "assessment", "pathology", "subtlety",
             "image file path", "cropped image file path", "ROI mask file path"]
CBIS_CALC = ["patient_id", "breast density", "left or right breast", "image view", "abnormality id",
             "abnormality type", "calc type", "calc distribution", "assessment", "pathology", "subtlety",
             "image file path", "cropped image file path", "ROI mask file path"]


def _series(images: Path, case: str, kind: str, n: int, layout: str) -> Path:
    if layout == "nbia":
        return images / case / f"07-20-2016-DDSM-NA-{74994 + n}" / f"1.000000-{kind}-{24515 + n}"
    return images / case / f"1.3.6.1.4.1.9590.100.1.2.{n}1" / f"1.3.6.1.4.1.9590.100.1.2.{n}2"


def _csv_path(case: str, n: int) -> str:
    """The CSV's own form: <case>/<StudyUID>/<SeriesUID>/000000.dcm."""
    return f"{case}/1.3.6.1.4.1.9590.100.1.2.{n}1/1.3.6.1.4.1.9590.100.1.2.{n}2/000000.dcm"


def _cbis_full(images: Path, case: str, n: int, layout: str, *, side: str, **kw) -> str:
    name = "1-1.dcm" if layout == "nbia" else "000000.dcm"
    image(_series(images, case, "full mammogram images", n, layout) / name, n, side=side, age=None,
          manufacturer="", sop_class=SECONDARY_CAPTURE, **kw)
    return _csv_path(case, n)


def make_cbis(top: Path, *, layout: str = "nbia") -> dict:
    """CBIS-DDSM: CSVs in ``top`` beside ``manifest-<n>/CBIS-DDSM/…`` (``layout='nbia'``, descriptive names) or
    ``CBIS-DDSM/<case>/<StudyUID>/<SeriesUID>/000000.dcm`` (``layout='classic'``, the CSV's own paths).

    Images are secondary-capture conversions (digitised film). Defects: P_00001's mass line twice (exact
    duplicate) with swapped ROI/crop columns; P_00002 density 7; P_00003 calc density 0 (unknown), MONOCHROME1;
    P_00004 file missing; P_00005 CSV LEFT vs ImageLaterality R; P_00006 FOR PROCESSING; P_00007 in the
    official training (mass) and test (calc) parts.
    """
    images = top / "manifest-1654812109500" / "CBIS-DDSM" if layout == "nbia" else top / "CBIS-DDSM"
    full = phantom(0, (96, 64), lesion_xy=(20, 40))
    mask = np.zeros((96, 64), np.uint16)
    mask[36:44, 16:24] = 255
    p1 = _cbis_full(images, "Mass-Training_P_00001_LEFT_CC", 1, layout, side="L", laterality=None, view=None,
                    syntax="j2k")
    write_dicom(_series(images, "Mass-Training_P_00001_LEFT_CC_1", "ROI mask images", 11, layout) / "1-1.dcm", mask,
                laterality=None, view=None, age=None, sop_class=SECONDARY_CAPTURE)
    write_dicom(_series(images, "Mass-Training_P_00001_LEFT_CC_1", "cropped images", 12, layout) / "1-1.dcm",
                full[30:50, 10:30], laterality=None, view=None, age=None, sop_class=SECONDARY_CAPTURE)
    roi = _csv_path("Mass-Training_P_00001_LEFT_CC_1", 11)
    line1 = ["P_00001", 3, "LEFT", "CC", 1, "mass", "IRREGULAR-ARCHITECTURAL_DISTORTION", "SPICULATED", 5,
             "MALIGNANT", 5, p1, roi, roi.replace(".100.1.2.11", ".100.1.2.12")]  # swapped columns
    p2 = _cbis_full(images, "Mass-Training_P_00002_RIGHT_MLO", 2, layout, side="R", laterality=None, view=None)
    p6 = _cbis_full(images, "Mass-Test_P_00006_RIGHT_CC", 6, layout, side="R", laterality=None, view=None,
                    extra=FOR_PROCESSING)
    p7 = _cbis_full(images, "Mass-Training_P_00007_LEFT_CC", 7, layout, side="L", laterality=None, view=None)
    mass_train = [line1, list(line1),
                  ["P_00002", 7, "RIGHT", "MLO", 1, "mass", "OVAL", "CIRCUMSCRIBED", 3, "BENIGN", 2, p2, "", ""],
                  ["P_00007", 2, "LEFT", "CC", 1, "mass", "ROUND", "OBSCURED", 4, "BENIGN", 3, p7, "", ""]]
    write_csv(top / "mass_case_description_train_set.csv", CBIS_MASS, mass_train)
    write_csv(top / "mass_case_description_test_set.csv", CBIS_MASS,
              [["P_00006", 2, "RIGHT", "CC", 1, "mass", "OVAL", "CIRCUMSCRIBED", 4, "BENIGN", 3, p6, "", ""]])
    p3 = _cbis_full(images, "Calc-Test_P_00003_LEFT_MLO", 3, layout, side="L", laterality=None, view=None, mono1=True)
    p5 = _cbis_full(images, "Calc-Training_P_00005_LEFT_CC", 5, layout, side="R", laterality="R", view=None)
    p7t = _cbis_full(images, "Calc-Test_P_00007_RIGHT_CC", 8, layout, side="R", laterality=None, view=None,
                     syntax="jpegls")
    calc_test = [["P_00003", 0, "LEFT", "MLO", 1, "calcification", "PLEOMORPHIC", "CLUSTERED", 4,
                  "BENIGN_WITHOUT_CALLBACK", 3, p3, "", ""],
                 ["P_00004", 2, "RIGHT", "CC", 1, "calcification", "AMORPHOUS", "CLUSTERED", 4, "MALIGNANT", 3,
                  _csv_path("Calc-Test_P_00004_RIGHT_CC", 4), "", ""],
                 ["P_00007", 2, "RIGHT", "CC", 1, "calcification", "PLEOMORPHIC", "SEGMENTAL", 5, "MALIGNANT", 4,
                  p7t, "", ""]]
    write_csv(top / "calc_case_description_test_set.csv", CBIS_CALC, calc_test)
    write_csv(top / "calc_case_description_train_set.csv", CBIS_CALC,
              [["P_00005", 2, "LEFT", "CC", 1, "calcification", "PUNCTATE", "CLUSTERED", 3, "BENIGN", 2, p5, "", ""]])
    mask_rel = _series(images, "Mass-Training_P_00001_LEFT_CC_1", "ROI mask images", 11, layout) / "1-1.dcm"
    return {"root": top, "mask_path": mask_rel.relative_to(top).as_posix(),
            "n_included": 3, "n_rejected": 5, "labels": {"malignant": 2, "benign": 1},
            "stages": {"labels": 1, "files": 1, "acquisition": 1, "consistency": 1, "split": 1}}


CMMD_COLUMNS = ["ID1", "LeftRight", "Age", "number", "abnormality", "classification", "subtype"]


def make_cmmd(top: Path, *, sheet: str = "xlsx") -> dict:
    """CMMD as downloaded: ``manifest-1616439774456/CMMD/<ID1>/<study>/<series>/1-k.dcm`` + the clinical sheet
    ``CMMD_clinicaldata_revision.xlsx`` in the manifest folder (``sheet='csv'``: its CSV export instead).

    Views only in ViewCodeSequence, PatientID = folder name, no Manufacturer, RLE/JPEG-LS. Defects: D2-0002's
    left breast has no clinical row; D1-0003 has no row at all; D1-0004's header says PatientID D1-0005;
    D2-0006 FOR PROCESSING; D1-0001's CC copied to a second series (duplicate SOP UID); MONOCHROME1.
    """
    root = top / "manifest-1616439774456"
    images = [("D1-0001", "L", "399162004", {}), ("D1-0001", "L", "399368009", {"mono1": True}),
              ("D2-0002", "R", "399368009", {}), ("D2-0002", "L", "399162004", {}),
              ("D1-0003", "L", "399162004", {}), ("D1-0004", "R", "399162004", {"patient_id": "D1-0005"}),
              ("D2-0006", "R", "399368009", {"extra": FOR_PROCESSING})]
    for k, (pid, lat, code, kw) in enumerate(images):
        series = root / "CMMD" / pid / "07-18-2010-NA-NA-79377" / f"1.000000-NA-{70244 + k}"
        kw = {"patient_id": pid, **kw}
        image(series / f"1-{k + 1}.dcm", k, side=lat, laterality=lat, view=None, view_code=code, age="044Y",
              manufacturer="", syntax=("rle", "jpegls")[k % 2], sop_uid=f"1.2.826.0.1.{k}", **kw)
    dup = root / "CMMD" / "D1-0001" / "07-18-2010-NA-NA-79377" / "1.000000-NA-99999" / "1-1.dcm"
    image(dup, 0, side="L", laterality="L", view=None, view_code="399162004", age="044Y", manufacturer="",
          patient_id="D1-0001", sop_uid="1.2.826.0.1.0")
    write_csv(root / "metadata.csv", ["Series UID", "Collection", "Subject ID", "Number of Images", "File Location"], [])
    rows = [["D1-0001", "L", 44, 2, "calcification", "Benign", ""], ["D2-0002", "R", 57, 1, "both", "Malignant",
                                                                     "Luminal A"],
            ["D1-0004", "R", 61, 1, "mass", "Malignant", ""], ["D2-0006", "R", 49, 1, "mass", "Malignant", "HER2-enriched"]]
    table = pd.DataFrame(rows, columns=CMMD_COLUMNS)
    if sheet == "xlsx":
        table.to_excel(root / "CMMD_clinicaldata_revision.xlsx", index=False, engine="openpyxl")
    else:
        table.to_csv(root / "CMMD_clinicaldata_revision.csv", index=False)
    return {"root": root, "n_included": 3, "n_rejected": 5, "labels": {"benign": 2, "malignant": 1},
            "stages": {"labels": 2, "consistency": 1, "acquisition": 1, "metadata": 1}}
