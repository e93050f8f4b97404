"""Shared machinery of the dataset adapters: the result type, rejects and the cohort flow.

An adapter parses its dataset's tables into candidate manifest rows with :class:`IngestLog`
(``add`` for every source record, ``reject`` with a reason for the ones it cannot map), then
:meth:`IngestLog.finish` checks that every file exists and is a complete DICOM image, fills the
derived columns, validates the manifest and records the cohort flow
(patients → exams → images, with exclusions per stage). Nothing is dropped silently.

Example:
    >>> log = IngestLog("demo")
    >>> log.add({"patient_id": "p", "exam_id": "e", "image_id": "i", "laterality": "L"})
    >>> log.reject("i", "unknown density code '7'", stage="labels")
    >>> res = log.finish("/tmp", verify="none")
    >>> len(res.manifest), res.rejects["reason"].tolist()
    (0, ["unknown density code '7'"])
"""
from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from mammobench.data.manifest import MANIFEST_COLUMNS, age_band, empty_manifest, validate_manifest
from mammobench.errors import DataError, DicomError

REJECT_COLUMNS = ("path", "image_id", "reason", "stage", "patient_id", "exam_id")
VERIFY_LEVELS = ("none", "exists", "header")
_DEFAULTS: dict[str, Any] = {
    "patient_id": "", "exam_id": "", "image_id": "", "image_path": "", "laterality": "", "view": "", "split": "",
    "label": "unknown", "lesion_type": "unknown", "density": "", "age": math.nan,
    "vendor": "", "site": "", "findings": "[]", "pixel_spacing_mm": math.nan, "density_raw": "", "birads_raw": "",
}


@dataclass
class AdapterResult:
    """What an adapter returns: canonical manifest, rejects table and cohort flow."""

    dataset: str
    root: str
    manifest: pd.DataFrame
    rejects: pd.DataFrame
    flow: list[dict] = field(default_factory=list)


def _counts(df: pd.DataFrame) -> tuple[int, int, int]:
    if df.empty:
        return 0, 0, 0
    return int(df["patient_id"].nunique()), int(df["exam_id"].nunique()), int(df["image_id"].nunique())


def findings_json(findings: list[dict]) -> str:
    """Serialise a findings list (boxes rounded to 0.1 px) as the manifest's JSON column."""
    clean = []
    for f in findings:
        item = dict(f)
        if item.get("box") is not None:
            item["box"] = [round(float(v), 1) for v in item["box"]]
        clean.append(item)
    return json.dumps(clean, sort_keys=True)


def worst_label(pathologies: list[str], default: str = "normal") -> str:
    """Image label from its findings' pathologies (malignant > benign > unknown > normal)."""
    for level in ("malignant", "benign", "unknown"):
        if level in pathologies:
            return level
    return default


def _reason_category(reason: str) -> str:
    """Reason without file paths or details, for the flow summary ('truncated', 'file not found' …)."""
    text = re.sub(r"\S*/\S*", "", str(reason)).replace("::", ":").strip(" :")
    return text.split("(")[0].split(";")[0].strip(" :")[:80] or "other"


def _fill_from_header(row: dict, meta: Any) -> dict:
    """Fill blanks of a candidate row (age, view, laterality, vendor, site, spacing) from DICOM tags."""
    if meta is None:
        return row
    pairs = (("laterality", "laterality"), ("view", "view"), ("vendor", "manufacturer"), ("site", "institution"))
    for col, attr in pairs:
        if not row.get(col) and getattr(meta, attr, ""):
            row[col] = getattr(meta, attr)
    for col, attr in (("age", "age"), ("pixel_spacing_mm", "pixel_spacing_mm")):
        if (row.get(col) is None or math.isnan(float(row[col]))) and math.isfinite(getattr(meta, attr, math.nan)):
            row[col] = float(getattr(meta, attr))
    return row


class IngestLog:
    """Collects candidate rows and rejects for one dataset, then builds the :class:`AdapterResult`."""

    def __init__(self, dataset: str):
        self.dataset = dataset
        self.rows: list[dict] = []
        self.rejected: list[dict] = []
        self._by_id: dict[str, dict] = {}

    def add(self, row: dict) -> None:
        """Add one candidate manifest row (one image)."""
        full = {**_DEFAULTS, **row, "dataset": self.dataset}
        self.rows.append(full)
        self._by_id.setdefault(full["image_id"], full)

    def reject(self, image_id: str, reason: str, *, stage: str, path: str = "", patient_id: str = "",
               exam_id: str = "") -> None:
        """Reject a candidate row (or a source record that never became a row) with its reason."""
        known = self._by_id.get(image_id)
        if known is not None:
            path = path or known.get("image_path", "")
            patient_id, exam_id = patient_id or known["patient_id"], exam_id or known["exam_id"]
        self.rejected.append({"path": path, "image_id": image_id, "reason": reason, "stage": stage,
                              "patient_id": patient_id, "exam_id": exam_id})

    def _check_files(self, df: pd.DataFrame, root: Path, verify: str,
                     probe: Callable[[Path], Any] | None) -> pd.DataFrame:
        if verify == "none":
            return df
        from mammobench.data.dicom import probe_dicom

        probe = probe or probe_dicom
        keep: list[bool] = []
        fills: list[dict] = []
        for row in df.itertuples(index=False):
            path = root / row.image_path
            if not row.image_path or not path.is_file():
                self.reject(row.image_id, f"file not found: {path}", stage="files", path=str(row.image_path))
                keep.append(False)
                continue
            if verify == "header":
                try:
                    meta = probe(path)
                    if getattr(meta, "presentation_intent", "") == "FOR PROCESSING":
                        raise DicomError(f"{path}: PresentationIntentType is FOR PROCESSING (raw detector data); "
                                         "MammoBench reads FOR PRESENTATION images")
                    fills.append(_fill_from_header(row._asdict(), meta))
                except DicomError as err:
                    self.reject(row.image_id, str(err), stage="dicom", path=str(row.image_path))
                    keep.append(False)
                    continue
            keep.append(True)
        out = df.loc[keep]
        if verify == "header" and len(out):
            out = pd.DataFrame(fills, columns=df.columns, index=out.index)
        return out

    def finish(self, root: str | os.PathLike, *, verify: str = "header",
               probe: Callable[[Path], Any] | None = None) -> AdapterResult:
        """Check files, fill derived columns, validate and compute the cohort flow.

        Args:
            root: dataset root (``image_path`` is relative to it).
            verify: ``none`` (trust the tables), ``exists`` (files exist) or ``header`` (each file is a
                complete DICOM image with pixel data; no decoding).
            probe: override of the per-file check used by ``header`` (tests, non-DICOM datasets).
        """
        if verify not in VERIFY_LEVELS:
            raise DataError(f"verify={verify!r}; choose one of {VERIFY_LEVELS}")
        source = pd.DataFrame(self.rows) if self.rows else empty_manifest()
        source = source.reindex(columns=list(dict.fromkeys([*MANIFEST_COLUMNS, *source.columns])))
        dup = source["image_id"].duplicated(keep="first") if len(source) else pd.Series([], dtype=bool)
        for image_id in source.loc[dup, "image_id"]:
            self.reject(image_id, f"duplicate image_id {image_id!r}: only the first row is kept", stage="metadata")
        df = source.loc[~dup]
        stage_rejects = {"labels": set(), "metadata": set()}
        for r in self.rejected:
            stage_rejects.setdefault(r["stage"], set()).add(r["image_id"])
        df = df.loc[~df["image_id"].isin(stage_rejects["labels"] | stage_rejects["metadata"])]
        df = self._check_files(df, Path(root), verify, probe).copy()
        df["view"] = df["view"].replace("", "other")
        for image_id in df.loc[~df["laterality"].isin(["L", "R"]), "image_id"]:
            self.reject(image_id, "laterality unknown: no L/R in the tables nor in ImageLaterality/Laterality",
                        stage="dicom")
        df = df.loc[df["laterality"].isin(["L", "R"])]
        df["age_band"] = [age_band(a) for a in df["age"].astype(float)]
        manifest = validate_manifest(df.loc[:, [c for c in MANIFEST_COLUMNS if c in df] +
                                            [c for c in df.columns if c not in MANIFEST_COLUMNS]],
                                     source=f"{self.dataset} adapter").reset_index(drop=True)
        rejects = pd.DataFrame(self.rejected, columns=list(REJECT_COLUMNS))
        return AdapterResult(self.dataset, str(root), manifest, rejects, self._flow(source, rejects, manifest))

    @staticmethod
    def _flow(source: pd.DataFrame, rejects: pd.DataFrame, manifest: pd.DataFrame) -> list[dict]:
        n_p, n_e, n_i = _counts(source)
        flow = [{"stage": "source records", "n_patients": n_p, "n_exams": n_e, "n_images": n_i,
                 "excluded": 0, "reason": ""}]
        remaining = source
        for stage in ("metadata", "labels", "files", "dicom"):
            ids = set(rejects.loc[rejects["stage"] == stage, "image_id"])
            if not ids:
                continue
            remaining = remaining.loc[~remaining["image_id"].isin(ids)]
            reasons = rejects.loc[rejects["stage"] == stage, "reason"].map(_reason_category)
            top = "; ".join(f"{k} ({v})" for k, v in reasons.value_counts().head(3).items())
            n_p, n_e, n_i = _counts(remaining)
            flow.append({"stage": f"after {stage} checks", "n_patients": n_p, "n_exams": n_e,
                         "n_images": n_i, "excluded": len(ids), "reason": top})
        n_p, n_e, n_i = _counts(manifest)
        flow.append({"stage": "included", "n_patients": n_p, "n_exams": n_e, "n_images": n_i,
                     "excluded": 0, "reason": ""})
        return flow


class BaseAdapter:
    """Base class: subclasses set ``name``/``description`` and implement :meth:`collect`."""

    name = "base"
    description = ""
    has_official_split = False

    def __init__(self, verify: str = "header"):
        self.verify = verify

    def collect(self, root: Path, log: IngestLog) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def load(self, root: str | os.PathLike) -> AdapterResult:
        """Read the dataset at ``root`` into an :class:`AdapterResult`.

        Raises:
            DataError: the root or a required table is missing (names the file and the expected layout).
        """
        root = Path(root)
        if not root.is_dir():
            raise DataError(f"{self.name}: dataset root {root} is not a directory")
        log = IngestLog(self.name)
        self.collect(root, log)
        return log.finish(root, verify=self.verify)


def read_table(path: Path, *, dataset: str, required: tuple[str, ...] = (), **kwargs: Any) -> pd.DataFrame:
    """Read a CSV as strings; a missing file or column raises :class:`DataError` naming both."""
    if not path.is_file():
        raise DataError(f"{dataset}: table {path} not found; see tasks/{dataset}/README.md for the layout")
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, **kwargs)
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as err:
        raise DataError(f"{dataset}: cannot parse {path}: {err}") from err
    df.columns = [str(c) for c in df.columns]
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise DataError(f"{dataset}: {path} lacks column(s) {missing}; found {list(df.columns)}")
    return df
