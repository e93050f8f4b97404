"""Replicas of INbreast, CSAW-CC and a hospital CSV export as distributed (see data_replicas.py)."""
from __future__ import annotations

import plistlib
from pathlib import Path

from tests.helpers.data_replicas import FOR_PROCESSING, image, write_csv

INBREAST_XLS = ["Patient ID", "Patient age", "Laterality", "View", "Acquisition date", "File Name", "ACR", "Bi-Rads",
                "Mass ", "Micros", "Distortion", "Asymmetry", "Findings Notes (in Portuguese)", "Other Notes",
                "Lesion Annotation Status", "Pectoral Muscle Annotation", "Other Annotations"]
_INBREAST_ROWS = [  # Laterality, View, File Name, ACR, Bi-Rads, Mass, header side, defect
    ("L", "CC", 20586908, 2, "4c", "X", "L", ""), ("L", "MLO", 20586934, 2, "1", "", "L", "mono1"),
    ("R", "CC", 22678622, "", "2", "X", "R", ""), ("R", "MLO", 22678646, 9, "6", "", "R", ""),
    ("", "CC", 24055274, 3, "3", "", "L", ""), ("L", "CC", 24055355, 1, "2", "", "R", ""),
    ("R", "CC", 30011507, 1, "1", "", "R", "missing"), ("L", "MLO", 30011530, 1, "1", "", "L", "for_processing")]


def _inbreast_rows() -> list[list]:
    rows = [["removed", "removed", lat, view, "201001", name, acr, birads, mass, "", "", "", "", "", "", "", ""]
            for lat, view, name, acr, birads, mass, _, _ in _INBREAST_ROWS]
    return rows + [list(rows[1])]  # 20586934 listed twice


def _write_xls(path: Path, rows: list[list]) -> None:
    """INbreast.xls (BIFF8, sheet 'Sheet1') with two summary rows at the bottom, as distributed."""
    import xlwt

    book = xlwt.Workbook()
    sheet = book.add_sheet("Sheet1")
    for c, name in enumerate(INBREAST_XLS):
        sheet.write(0, c, name)
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row):
            sheet.write(r, c, value if not isinstance(value, int) else float(value))
    sheet.write(len(rows) + 1, 6, "Total")
    sheet.write(len(rows) + 2, 6, float(len(rows)))
    book.save(str(path))


def make_inbreast(top: Path, *, table: str = "xls") -> dict:
    """``INbreast Release 1.0/`` with INbreast.xls (``table='xls'``) or its ;-separated CSV export, AllDICOMs with
    the ``ML`` view token, AllXML plists.

    Defects: ACR 9; a blank Laterality (filled from ImageLaterality); a Laterality contradicting the header;
    a missing file; a FOR PROCESSING image; a duplicate row; MONOCHROME1; PatientAge ``062Y`` in one header.
    """
    root = top / "INbreast Release 1.0"
    for k, (lat, view, name, _, _, _, side, defect) in enumerate(_INBREAST_ROWS):
        if defect == "missing":
            continue
        token = "ML" if view == "MLO" else "CC"
        image(root / "AllDICOMs" / f"{name}_6c613a14b80a{k:04d}_MG_{side}_{token}_ANON.dcm", k, side=side,
              laterality=side, view=None, age="062Y" if name == 24055274 else None, manufacturer="SIEMENS",
              mono1=defect == "mono1", extra=FOR_PROCESSING if defect == "for_processing" else None)
    rows = _inbreast_rows()
    root.mkdir(parents=True, exist_ok=True)
    if table == "xls":
        _write_xls(root / "INbreast.xls", rows)
    else:
        write_csv(root / "INbreast.csv", INBREAST_XLS[:8], [r[:8] for r in rows], sep=";")
    rois = {"Images": [{"ROIs": [{"Name": "Mass", "NumberOfPoints": 3,
                                  "Point_px": ["(17.5, 37.0)", "(23.0, 40.0)", "(20.0, 43.0)"]},
                                 {"Name": "Calcification", "NumberOfPoints": 1, "Point_px": ["(10, 12)"]}]}]}
    (root / "AllXML").mkdir(parents=True, exist_ok=True)
    (root / "AllXML" / "20586908.xml").write_bytes(plistlib.dumps(rois))
    return {"root": root, "n_included": 4, "n_rejected": 5, "labels": {"malignant": 1, "normal": 1, "benign": 2},
            "stages": {"labels": 1, "metadata": 1, "files": 1, "acquisition": 1, "consistency": 1}}


CSAW_HEADER = ["anon_patientid", "exam_year", "anon_filename", "x_age", "x_case", "x_type", "x_cancer_laterality",
               "rad_timing", "imagelaterality", "viewposition", "libra_percentdensity"]


def make_csaw(top: Path) -> dict:
    """CSAW-CC: ``anon_dataset_nonhidden_211125.csv``, images in sub-folders, ``anon_annotations_nonhidden`` masks.

    Defects: a non-numeric density; a missing file; FOR PROCESSING; ``imagelaterality`` contradicting the
    header; a duplicate row; a case without ``x_cancer_laterality``; MONOCHROME1 + JPEG-LS.
    """
    from PIL import Image
    import numpy as np

    root = top / "CSAW-CC"
    rows = [[1, 2012, "00001_20990909_L_CC_1.dcm", 1, 1, 2, "Left", 1, "Left", "CC", 24.3],
            [1, 2012, "00001_20990909_R_CC_2.dcm", 1, 1, 2, "Left", 1, "Right", "CC", 61.0],
            [2, 2013, "00002_20990909_L_MLO_3.dcm", 2, 0, "", "", "", "Left", "MLO", "n/a"],
            [3, 2013, "00003_20990909_L_CC_4.dcm", 2, 0, "", "", "", "Left", "CC", 30.0],
            [3, 2013, "00003_20990909_R_CC_5.dcm", 2, 0, "", "", "", "Right", "CC", 30.0],
            [4, 2014, "00004_20990909_L_MLO_6.dcm", 1, 0, "", "", "", "Left", "MLO", 40.0],
            [5, 2014, "00005_20990909_R_MLO_8.dcm", 2, 1, 3, "", 2, "Right", "MLO", 12.0],
            [6, 2015, "00006_20990909_L_CC_9.dcm", 2, 0, "", "", "", "Left", "CC", 80.0]]
    for k, r in enumerate(rows):
        if r[2].endswith("_4.dcm"):
            continue
        side = "R" if r[2].endswith("_6.dcm") else r[8][0]
        image(root / f"anon_data_{1 + k % 2}" / r[2], k, side=side, laterality=side, view=r[9], age=None,
              manufacturer="HOLOGIC", mono1=r[2].endswith("_9.dcm"), syntax="jpegls" if k == 7 else "native",
              extra=FOR_PROCESSING if r[2].endswith("_5.dcm") else None)
    mask = np.zeros((96, 64), np.uint8)
    mask[37:43, 17:23] = 255
    (root / "anon_annotations_nonhidden").mkdir(parents=True)
    Image.fromarray(mask).save(root / "anon_annotations_nonhidden" / "00001_20990909_L_CC_1_mask.png")
    write_csv(root / "anon_dataset_nonhidden_211125.csv", CSAW_HEADER, rows + [list(rows[1])])
    return {"root": root, "n_included": 3, "n_rejected": 6, "labels": {"malignant": 1, "normal": 2},
            "stages": {"labels": 2, "metadata": 1, "files": 1, "acquisition": 1, "consistency": 1}}


def make_hospital_export(root: Path, *, defects: bool = False) -> dict:
    """A PACS-style export: CSV with its own column names/codes + the YAML mapping (``manifest`` adapter).

    Always: density 'q' and laterality SINISTER. With ``defects``: also a duplicate row, a missing file and a
    Side contradicting the header.
    """
    rows = [["H1", "ACC1", "img/h1_l.dcm", "LEFT", "CC", "c", "054Y", "1", "MASS", "10", "20", "30", "40"],
            ["H1", "ACC1", "img/h1_r.dcm", "RIGHT", "CC", "c", "054Y", "0", "", "", "", "", ""],
            ["H2", "ACC2", "img/h2_l.dcm", "LEFT", "MLO", "q", "61", "0", "", "", "", "", ""],
            ["H3", "ACC3", "img/h3_l.dcm", "SINISTER", "MLO", "b", "70", "0", "", "", "", "", ""],
            ["H4", "ACC4", "img/h4_l.dcm", "LEFT", "CC", "b", "70", "0", "", "", "", "", ""],
            ["H5", "ACC5", "img/h5_l.dcm", "LEFT", "CC", "b", "70", "0", "", "", "", "", ""]]
    rows = rows if defects else rows[:4]
    for k, r in enumerate(rows):
        if r[0] == "H4":
            continue
        side = "R" if r[3] == "RIGHT" or r[0] == "H5" else "L"
        image(root / r[2], k, side=side, laterality=side, view=r[4], patient_id=r[0])
    write_csv(root / "export.csv", ["PatID", "Acc", "File", "Side", "Proj", "ACR", "AgeAS", "Cancer", "Finding",
                                    "y0", "x0", "y1", "x1"], rows + ([list(rows[1])] if defects else []))
    (root / "mammobench_mapping.yaml").write_text(
        "table: export.csv\ndataset: hospital_x\n"
        "columns: {patient_id: PatID, exam_id: Acc, image_path: File, laterality: Side, view: Proj,\n"
        "          density: ACR, age: AgeAS, label: Cancer, lesion_type: Finding}\n"
        "values:\n  laterality: {LEFT: L, RIGHT: R}\n  label: {'0': normal, '1': malignant}\n"
        "  lesion_type: {MASS: mass, '': none}\n"
        "constants: {site: Hospital X}\n"
        "box: {columns: [y0, x0, y1, x1], order: yxyx}\n")
    if not defects:
        return {"root": root, "n_included": 2, "n_rejected": 2, "labels": {"malignant": 1, "normal": 1},
                "stages": {"labels": 2}}
    return {"root": root, "n_included": 2, "n_rejected": 5, "labels": {"malignant": 1, "normal": 1},
            "stages": {"labels": 2, "metadata": 1, "files": 1, "consistency": 1}}
