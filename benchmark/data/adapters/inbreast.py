"""INbreast adapter (Moreira et al. 2012; distributed by the authors on request).

Layout: ``INbreast.csv`` (**;-separated**: ``Patient ID;Patient age;Laterality;View;Acquisition
date;File Name;ACR;Bi-Rads``), ``AllDICOMs/<FileName>_<PatientHash>_MG_<L|R>_<CC|ML>_ANON.dcm`` (the
view token is **ML** for MLO), ``AllXML/<FileName>.xml`` (Apple plist ROIs with ``Point_px``).
The tables may sit in ``INbreast Release 1.0/``.

Harmonisation: ``ACR`` 1–4 → A–D (blank → unknown, else rejected). Patient id and age are literally
``removed`` in the CSV: the patient is the hash in the file name, age comes from the DICOM when present.
BI-RADS only (no pathology), so the label is a BI-RADS proxy (``label_source`` = ``birads_proxy``):
1 → normal, 2/3 → benign, 4a/4b/4c/5 → malignant, 6 (biopsy-proven) → malignant. ROI names: Mass /
Spiculated Region / Espiculated Region → mass; Calcification(s) / Cluster →
calcification; Distortion → architectural_distortion; Asymmetry → asymmetry; others → other.
View FB (from below) → other. No official split.

Example:
    >>> roi_lesion_type("Spiculated Region"), roi_lesion_type("Calcifications")
    ('mass', 'calcification')
"""
from __future__ import annotations

import plistlib
import re
from pathlib import Path

from mammobench.data.adapters.base import BaseAdapter, IngestLog, findings_json, read_table
from mammobench.data.adapters.vindr import image_lesion_type
from mammobench.data.manifest import harmonise_density

REQUIRED = ("Laterality", "View", "File Name", "ACR", "Bi-Rads")
BIRADS_LABEL = {"1": "normal", "2": "benign", "3": "benign", "4a": "malignant", "4b": "malignant",
                "4c": "malignant", "4": "malignant", "5": "malignant", "6": "malignant"}
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


class INbreastAdapter(BaseAdapter):
    """INbreast: FFDM, ACR density, BI-RADS, ROI polygons from XML."""

    name = "inbreast"
    description = "INbreast (Porto): 410 FFDM images, ACR density, BI-RADS, XML ROIs; no split"

    def collect(self, root: Path, log: IngestLog) -> None:
        """Join the ;-separated CSV with the DICOM file names and XML ROIs."""
        base = root / "INbreast Release 1.0" if (root / "INbreast Release 1.0").is_dir() else root
        table = read_table(base / "INbreast.csv", dataset=self.name, required=REQUIRED, sep=";")
        files: dict[str, Path] = {}
        for p in sorted((base / "AllDICOMs").glob("*.dcm")):
            m = _FILE.match(p.name)
            files[m.group("name") if m else p.name.split("_")[0]] = p
        for r in table.to_dict("records"):
            name = str(r["File Name"]).strip()
            path = files.get(name)
            m = _FILE.match(path.name) if path else None
            patient = m.group("hash") if m else (r.get("Patient ID", "").strip() or name)
            patient = name if patient.lower() == "removed" else patient
            birads = str(r["Bi-Rads"]).strip().lower()
            findings = read_rois(base / "AllXML" / f"{name}.xml")
            view = str(r["View"]).strip().upper() or (m.group("view").upper() if m else "")
            view = {"ML": "MLO"}.get(view, view)
            density = harmonise_density(r["ACR"])
            log.add({"patient_id": patient, "exam_id": patient, "image_id": name,
                     "image_path": path.relative_to(root).as_posix() if path else f"AllDICOMs/{name}.dcm",
                     "laterality": str(r["Laterality"]).strip().upper(),
                     "view": view if view in ("CC", "MLO") else "other",
                     "label": BIRADS_LABEL.get(birads, "unknown"), "label_source": "birads_proxy",
                     "lesion_type": image_lesion_type(findings) if findings
                     else ("none" if birads == "1" else "unknown"),
                     "density": density, "density_raw": r["ACR"], "birads_raw": r["Bi-Rads"],
                     "findings": findings_json(findings), "vendor": "Siemens", "site": "Centro Hospitalar de S. Joao"})
            if str(r["ACR"]).strip() and not density:
                log.reject(name, f"unknown ACR density code {r['ACR']!r} (expected 1-4 or blank)", stage="labels")
