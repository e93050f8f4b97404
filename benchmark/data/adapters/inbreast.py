"""INbreast adapter (Moreira et al. 2012; distributed by the authors on request).

Layout as distributed: ``INbreast Release 1.0/`` with ``INbreast.xls`` (the official sheet, read directly
with xlrd: ``Patient ID, Patient age, Laterality, View, Acquisition date, File Name, ACR, Bi-Rads, Mass ,
Micros, Distortion, Asymmetry, …``, two summary rows at the bottom — rows without a ``File Name`` are not
images and are skipped), ``INbreast.csv`` (the **;-separated** export with the first eight columns),
``AllDICOMs/<FileName>_<PatientHash>_MG_<L|R>_<CC|ML>_ANON.dcm`` (the view token is **ML** for MLO),
``AllXML/<FileName>.xml`` (Apple plist ROIs with ``Point_px``), ``AllROI/``, ``MedicalReports/``. The sheet is
preferred when both are present. The root is the folder holding the sheet (found at, below or above the
folder named: ``INbreast Release 1.0/`` or the folder containing it). Sources: the dataset paper and
release; public loaders (``pd.read_excel('INbreast.xls', sheet_name='Sheet1')[:-2]``, ``delimiter=';'`` for the
CSV, ``AllDICOMs``/``AllXML`` folder names); ``RichardObi/mammo_dp`` (ROI plist fields).

Harmonisation: ``ACR`` 1–4 → A–D (blank → unknown, else rejected). Patient id and age are literally
``removed`` in the sheet: the patient is the hash in the file name, age comes from the DICOM when present.
A blank ``Laterality``/``View`` is filled from the DICOM header (noted), else from the file-name token;
a table value that contradicts the header is a reject. BI-RADS only (no pathology), so the label is a
BI-RADS proxy (``label_source`` = ``birads_proxy``): 1 → normal, 2/3 → benign, 4a/4b/4c/5 → malignant,
6 (biopsy-proven) → malignant; any other value → rejected. ROI names: Mass / Spiculated Region /
Espiculated Region → mass; Calcification(s) / Cluster → calcification; Distortion →
architectural_distortion; Asymmetry → asymmetry; others → other; without an XML the sheet's ``Mass``,
``Micros``, ``Distortion``, ``Asymmetry`` marks (``X``) give the lesion type. View FB (from below) → other.
No official split.

Example:
    >>> roi_lesion_type("Spiculated Region"), roi_lesion_type("Calcifications")
    ('mass', 'calcification')
"""
from __future__ import annotations

import plistlib
import re
from pathlib import Path

from mammobench.data.adapters.base import BaseAdapter, IngestLog, findings_json, read_table
from mammobench.data.adapters.vindr import LESION_PRIORITY, image_lesion_type
from mammobench.data.manifest import harmonise_density

REQUIRED = ("Laterality", "View", "File Name", "ACR", "Bi-Rads")
BIRADS_LABEL = {"1": "normal", "2": "benign", "3": "benign", "4a": "malignant", "4b": "malignant",
                "4c": "malignant", "4": "malignant", "5": "malignant", "6": "malignant"}
SHEET_MARKS = {"Mass": "mass", "Micros": "calcification", "Distortion": "architectural_distortion",
               "Asymmetry": "asymmetry"}
_POINT = re.compile(r"\(\s*([-\d.eE]+)\s*,\s*([-\d.eE]+)\s*\)")
_FILE = re.compile(r"^(?P<name>[^_]+)_(?P<hash>[^_]+)_MG_(?P<lat>[LR])_(?P<view>[A-Z]+)_ANON\.dcm$", re.IGNORECASE)


def roi_lesion_type(name: str) -> str:
    """Canonical lesion type of an INbreast ROI ``Name``."""
    n = name.strip().lower()
    if "calcification" in n or n == "cluster":
        return "calcification"
    if n == "mass" or "spiculated region" in n:
        return "mass"
    if "distortion" in n:
        return "architectural_distortion"
    if "asymmetr" in n:
        return "asymmetry"
    return "other"


def read_rois(path: Path) -> list[dict]:
    """Findings from one AllXML plist (box = bounding box of ``Point_px``); [] when missing/unreadable."""
    if not path.is_file():
        return []
    try:
        plist = plistlib.loads(path.read_bytes())
        rois = plist["Images"][0]["ROIs"]
    except (plistlib.InvalidFileException, KeyError, IndexError, TypeError, ValueError):
        return []
    findings = []
    for roi in rois:
        pts = [(float(x), float(y)) for p in roi.get("Point_px", []) for x, y in _POINT.findall(str(p))]
        box = None
        if pts:
            xs, ys = [p[0] for p in pts], [p[1] for p in pts]
            pad = 2.0 if len(pts) <= 2 else 0.0  # point calcifications get a small box
            box = [min(xs) - pad, min(ys) - pad, max(xs) + 1 + pad, max(ys) + 1 + pad]
        findings.append({"box": box, "lesion_type": roi_lesion_type(str(roi.get("Name", ""))),
                         "pathology": "unknown", "roi_name": str(roi.get("Name", ""))})
    return findings


def _sheet_lesion(r: dict, birads: str) -> str:
    marked = [kind for col, kind in SHEET_MARKS.items() if str(r.get(col, "")).strip()]
    if marked:
        return min(marked, key=LESION_PRIORITY.index)
    return "none" if birads == "1" else "unknown"


class INbreastAdapter(BaseAdapter):
    """INbreast: FFDM, ACR density, BI-RADS, ROI polygons from XML."""

    name = "inbreast"
    description = "INbreast (Porto): 410 FFDM images, ACR density, BI-RADS, XML ROIs; no split"
    readme = "tasks/inbreast_suspicious/README.md"
    markers = (("INbreast.xls",), ("INbreast.csv",))

    def image_files(self, root: Path):
        """Every ``.dcm`` in ``AllDICOMs/``."""
        return (p.relative_to(root).as_posix() for p in sorted((root / "AllDICOMs").glob("*.dcm")))

    def _table(self, root: Path):
        if (root / "INbreast.xls").is_file():
            table = read_table(root / "INbreast.xls", dataset=self.name, required=REQUIRED, hint=self.hint())
        else:
            table = read_table(root / "INbreast.csv", dataset=self.name, required=REQUIRED, sep=";", hint=self.hint())
        return table.loc[table["File Name"].str.strip() != ""]  # the sheet's summary rows name no file

    def collect(self, root: Path, log: IngestLog) -> None:
        """Join the sheet (or its CSV export) with the DICOM file names and XML ROIs."""
        files: dict[str, Path] = {}
        for p in sorted((root / "AllDICOMs").glob("*.dcm")):
            m = _FILE.match(p.name)
            files.setdefault(m.group("name") if m else p.name.split("_")[0], p)
        for r in self._table(root).to_dict("records"):
            name = str(r["File Name"]).strip()
            path = files.get(name)
            m = _FILE.match(path.name) if path else None
            patient = m.group("hash") if m else (r.get("Patient ID", "").strip() or name)
            patient = name if patient.lower() == "removed" else patient
            birads = str(r["Bi-Rads"]).strip().lower()
            findings = read_rois(root / "AllXML" / f"{name}.xml")
            view = {"ML": "MLO"}.get(str(r["View"]).strip().upper(), str(r["View"]).strip().upper())
            density = harmonise_density(r["ACR"])
            log.add({"patient_id": patient, "exam_id": patient, "image_id": name,
                     "image_path": path.relative_to(root).as_posix() if path else f"AllDICOMs/{name}.dcm",
                     "laterality": str(r["Laterality"]).strip().upper(),
                     "view": view if view in ("CC", "MLO") else ("other" if view else ""),
                     "label": BIRADS_LABEL.get(birads, "unknown"), "label_source": "birads_proxy",
                     "lesion_type": image_lesion_type(findings) if findings else _sheet_lesion(r, birads),
                     "density": density, "density_raw": r["ACR"], "birads_raw": r["Bi-Rads"],
                     "findings": findings_json(findings), "vendor": "Siemens",
                     "site": "Centro Hospitalar de S. Joao", "_fallback_laterality": m.group("lat").upper() if m else "",
                     "_fallback_view": {"ML": "MLO", "CC": "CC"}.get(m.group("view").upper(), "") if m else ""})
            if str(r["ACR"]).strip() and not density:
                log.reject(name, f"unknown ACR density code {r['ACR']!r} (expected 1-4 or blank)", stage="labels")
            elif birads not in BIRADS_LABEL:
                log.reject(name, f"Bi-Rads {r['Bi-Rads']!r} is not 1-6 (4a/4b/4c): the label cannot be established",
                           stage="labels")
