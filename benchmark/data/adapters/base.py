"""Shared machinery of the dataset adapters: the result type, rejects, notes and the cohort flow.

An adapter parses its dataset's tables into candidate manifest rows with :class:`IngestLog` (``add`` for
every source record, ``reject`` with a reason for the ones it cannot map), then :meth:`IngestLog.finish`:

1. keeps the **first** of several rows for one image and reports the others (the first stays included);
2. drops the rows rejected at parse time (vocabulary, label, metadata problems);
3. checks each file (:mod:`~mammobench.data.adapters.checks`: exists, header, acquired mammogram, tables
   agree with the header; blanks filled from the header);
4. rejects rows whose patient, laterality, view or (for labelled datasets) label cannot be established —
   never ``unknown`` in the included set for a required field;
5. validates the manifest and records the cohort flow (:mod:`~mammobench.data.adapters.flow`).

Nothing is dropped silently: every excluded row is in ``rejects`` with its reason and stage, every merged
duplicate finding or header-filled value in ``notes``, every image file without a row in ``rejects``
(stage ``unlisted``).

Example:
    >>> log = IngestLog("demo", required=("patient_id",))
    >>> first = log.add({"patient_id": "p", "exam_id": "e", "image_id": "i", "laterality": "L", "view": "CC"})
    >>> _ = log.add({"patient_id": "p", "exam_id": "e", "image_id": "i", "laterality": "L", "view": "CC"})
    >>> res = log.finish("/tmp", verify="none")
    >>> len(res.manifest), res.rejects["reason"].str.startswith("duplicate row").tolist()
    (1, [True])
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import pandas as pd

from mammobench.data.adapters.checks import NONE_WARNING, VERIFY_LEVELS, check_file, fill_from_header, header_reader
from mammobench.data.adapters.flow import cohort_flow
from mammobench.data.adapters.layout import find_root
from mammobench.data.adapters.tables import read_table  # noqa: F401  (re-exported for the adapters)
from mammobench.data.manifest import MANIFEST_COLUMNS, age_band, empty_manifest, validate_manifest
from mammobench.errors import DataError

REJECT_COLUMNS = ("path", "image_id", "reason", "stage", "patient_id", "exam_id")
NOTE_COLUMNS = ("path", "image_id", "note")
REQUIRED_FIELDS = ("patient_id", "laterality", "view", "label")  # adapters of labelled datasets
IMAGE_FIELDS = ("patient_id", "laterality", "view")  # any image (IngestLog's default)
_DEFAULTS: dict[str, Any] = {
    "patient_id": "", "exam_id": "", "image_id": "", "image_path": "", "laterality": "", "view": "", "split": "",
    "label": "unknown", "lesion_type": "unknown", "density": "", "age": math.nan,
    "vendor": "", "site": "", "findings": "[]", "pixel_spacing_mm": math.nan, "density_raw": "", "birads_raw": "",
}
_MISSING = {"patient_id": ("",), "laterality": ("",), "view": ("",), "label": ("", "unknown")}


@dataclass
class AdapterResult:
    """What an adapter returns: canonical manifest, rejects, notes, cohort flow and split provenance."""

    dataset: str
    root: str
    manifest: pd.DataFrame
    rejects: pd.DataFrame
    flow: list[dict] = field(default_factory=list)
    notes: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(NOTE_COLUMNS)))
    warnings: list[str] = field(default_factory=list)
    labelled: bool = True
    splits: dict = field(default_factory=dict)
    n_source_rows: int = 0


def findings_json(findings: list[dict]) -> str:
    """Serialise a findings list (boxes rounded to 0.1 px) as the manifest's JSON column."""
    clean = []
    for f in findings:
        item = dict(f)
        if item.get("box") is not None:
            item["box"] = [round(float(v), 1) for v in item["box"]]
        clean.append(item)
    return json.dumps(clean, sort_keys=True)


def unique_findings(findings: list[dict], log: "IngestLog", image_id: str, *, source: str) -> list[dict]:
    """Drop exact duplicate findings (the same table line twice), noting each one dropped in ``log``."""
    seen, out = set(), []
    for f in findings:
        key = json.dumps(f, sort_keys=True, default=str)
        if key in seen:
            log.note(image_id, f"duplicate finding row in {source} ({f.get('lesion_type', '?')}, "
                               f"{f.get('category') or f.get('abnormality_id') or f.get('box')}): counted once")
            continue
        seen.add(key)
        out.append(f)
    return out


def worst_label(pathologies: list[str], default: str = "normal") -> str:
    """Image label from its findings' pathologies (malignant > benign > unknown > normal)."""
    for level in ("malignant", "benign", "unknown"):
        if level in pathologies:
            return level
    return default


def _missing_reason(col: str, row: dict) -> str:
    if col == "label":
        return "label cannot be established (no usable label value for this image); it is not guessed"
    if col == "patient_id":
        return "patient cannot be established (no patient id in the tables, folder names or DICOM PatientID)"
    tag = "ImageLaterality/Laterality" if col == "laterality" else "ViewPosition/ViewCodeSequence"
    return f"{col} cannot be established: none in the tables nor in the DICOM header ({tag})"


class IngestLog:
    """Collects candidate rows, rejects and notes for one dataset, then builds the :class:`AdapterResult`."""

    def __init__(self, dataset: str, *, required: tuple[str, ...] = IMAGE_FIELDS,
                 allow_secondary_capture: bool = False, check_patient: bool = False, hint: str = ""):
        self.dataset, self.required, self.hint = dataset, tuple(required), hint
        self.allow_secondary_capture, self.check_patient = allow_secondary_capture, check_patient
        self.rows: list[dict] = []
        self.rejected: list[dict] = []
        self.noted: list[dict] = []
        self.warnings: list[str] = []
        self._meta: dict[int, Any] = {}
        self._last: dict[str, int] = {}

    def add(self, row: dict, *, meta: Any = None) -> int:
        """Add one candidate manifest row (one image); returns its row number. ``meta``: a header already read."""
        serial = len(self.rows)
        full = {**_DEFAULTS, **row, "dataset": self.dataset, "_row": serial}
        self.rows.append(full)
        self._last[str(full["image_id"])] = serial
        if meta is not None:
            self._meta[serial] = meta
        return serial

    def reject(self, image_id: str, reason: str, *, stage: str, path: str = "", patient_id: str = "",
               exam_id: str = "", row: int | None = None) -> None:
        """Reject a candidate row (default: the last row added for ``image_id``) or a record that never became one."""
        serial = self._last.get(str(image_id)) if row is None else row
        known = self.rows[serial] if serial is not None else None
        if known is not None:
            path = path or known.get("image_path", "")
            patient_id, exam_id = patient_id or known["patient_id"], exam_id or known["exam_id"]
        self.rejected.append({"path": path, "image_id": image_id, "reason": reason, "stage": stage,
                              "patient_id": patient_id, "exam_id": exam_id, "_row": serial})

    def note(self, image_id: str, text: str, *, path: str = "") -> None:
        """Record something done to an included row (a merged duplicate finding, a value filled from the header)."""
        self.noted.append({"path": path, "image_id": image_id, "note": text})

    def _dedupe(self, source: pd.DataFrame) -> None:
        text = source.drop(columns=["_row"]).astype(object).where(source.notna().drop(columns=["_row"]), "")
        text = text.astype(str)
        first = text.loc[~source["image_id"].duplicated(keep="first")].set_index("image_id")
        for i in source.index[source["image_id"].duplicated(keep="first")]:
            rec, kept = text.loc[i], first.loc[text.at[i, "image_id"]]
            rec = {**rec.to_dict(), "_row": int(source.at[i, "_row"])}
            diff = [c for c in first.columns if rec[c] != kept[c]]
            how = "identical to the first" if not diff else f"differs from the first in {', '.join(diff[:4])}"
            self.reject(rec["image_id"], f"duplicate row for image_id {rec['image_id']!r} ({how}): the first row is "
                        "kept and included, this one is not", stage="metadata", row=int(rec["_row"]))

    def _check_files(self, df: pd.DataFrame, root: Path, verify: str, reader: Callable | None) -> pd.DataFrame:
        reader = reader or header_reader(verify)
        out = []
        for rec in df.to_dict("records"):
            serial = int(rec["_row"])
            stage, reason, meta = check_file(rec, root, verify=verify, reader=reader, known_meta=self._meta.get(serial),
                                             allow_secondary_capture=self.allow_secondary_capture,
                                             check_patient=self.check_patient)
            if stage:
                self.reject(rec["image_id"], reason, stage=stage, row=serial)
                continue
            if meta is not None:
                for col in fill_from_header(rec, meta):
                    self.note(rec["image_id"], f"{col} {rec[col]!r} taken from the DICOM header (blank in the table)",
                              path=str(rec["image_path"]))
            for col in ("laterality", "view"):
                fallback = rec.get(f"_fallback_{col}")
                if not rec.get(col) and isinstance(fallback, str) and fallback:
                    rec[col] = fallback
                    self.note(rec["image_id"], f"{col} {fallback!r} taken from the file name (blank in the table "
                              "and the DICOM header)", path=str(rec["image_path"]))
            out.append(rec)
        return pd.DataFrame(out, columns=df.columns) if out else df.iloc[0:0]

    def _require(self, df: pd.DataFrame) -> pd.DataFrame:
        bad: dict[int, str] = {}
        for col in self.required:
            for rec in df.loc[df[col].fillna("").astype(str).isin(_MISSING[col])].to_dict("records"):
                bad.setdefault(int(rec["_row"]), _missing_reason(col, rec))
        for serial, reason in bad.items():
            self.reject(self.rows[serial]["image_id"], reason, stage="required", row=serial)
        return df.loc[~df["_row"].isin(list(bad))]

    def finish(self, root: str | os.PathLike, *, verify: str = "header", probe: Callable[[Path], Any] | None = None,
               image_files: Iterable[str] = ()) -> AdapterResult:
        """Dedupe, check files, require fields, validate and compute the cohort flow.

        Args:
            root: dataset root (``image_path`` is relative to it).
            verify: ``none``, ``exists`` or ``header`` (see :mod:`~mammobench.data.adapters.checks`).
            probe: override of the per-file header reader (tests, non-DICOM datasets).
            image_files: the release's image files (relative paths); those without a row are reported.
        """
        if verify not in VERIFY_LEVELS:
            raise DataError(f"verify={verify!r}; choose one of {VERIFY_LEVELS}")
        source = pd.DataFrame(self.rows) if self.rows else empty_manifest().assign(_row=pd.Series(dtype=int))
        source = source.reindex(columns=list(dict.fromkeys([*MANIFEST_COLUMNS, *source.columns])))
        self._dedupe(source)
        early = {r["_row"] for r in self.rejected if r["_row"] is not None}
        df = self._check_files(source.loc[~source["_row"].isin(early)], Path(root), verify, probe)
        df = df.assign(view=df["view"].replace("", "other")) if "view" not in self.required else df
        df = self._require(df).copy()
        df["age_band"] = [age_band(a) for a in pd.to_numeric(df["age"], errors="coerce").astype(float)]
        unlisted = self._unlisted(source, image_files) if verify != "none" else 0
        if verify == "none":
            self.warnings.append(NONE_WARNING)
        ordered = [c for c in MANIFEST_COLUMNS if c in df] + [c for c in df.columns if c not in MANIFEST_COLUMNS]
        private = [c for c in ordered if c.startswith("_")]
        manifest = validate_manifest(df.loc[:, ordered].drop(columns=private),
                                     source=f"{self.dataset} adapter").reset_index(drop=True)
        rejects = pd.DataFrame(self.rejected, columns=[*REJECT_COLUMNS, "_row"])
        flow = cohort_flow(source, rejects, manifest, unlisted=unlisted)
        return AdapterResult(self.dataset, str(root), manifest, rejects.drop(columns=["_row"]), flow,
                             pd.DataFrame(self.noted, columns=list(NOTE_COLUMNS)), list(self.warnings),
                             labelled="label" in self.required, n_source_rows=len(source))

    def _unlisted(self, source: pd.DataFrame, image_files: Iterable[str]) -> int:
        listed = set(source["image_path"].astype(str))
        count = 0
        for rel in image_files:
            if rel not in listed:
                count += 1
                self.rejected.append({"path": rel, "image_id": "", "reason": f"image file {rel} has no metadata row",
                                      "stage": "unlisted", "patient_id": "", "exam_id": "", "_row": None})
        return count


class BaseAdapter:
    """Base class: subclasses set the class attributes and implement :meth:`collect`.

    Attributes:
        name: registry name. description: one line for ``mammobench data adapters``.
        readme: the dataset card documenting the layout (a path in the repository).
        markers: glob patterns that identify the dataset root (see :func:`~.layout.find_root`).
        required: fields that must be established for an image to be included.
        allow_secondary_capture: the release's images are conversions by design (digitised film).
        check_patient: the tables' patient ids are the DICOM PatientIDs (contradictions are rejects).
    """

    name = "base"
    description = ""
    readme = "docs/data.md"
    markers: tuple[tuple[str, ...], ...] = ()
    required: tuple[str, ...] = REQUIRED_FIELDS
    has_official_split = False
    allow_secondary_capture = False
    check_patient = False

    def __init__(self, verify: str = "header"):
        if verify not in VERIFY_LEVELS:
            raise DataError(f"verify={verify!r}; choose one of {VERIFY_LEVELS}")
        self.verify = verify

    def hint(self) -> str:
        """Where the layout is documented and the command that checks a folder."""
        return (f"the expected layout is in {self.readme}; check a folder with "
                f"`mammobench data inspect <folder> --adapter {self.name}`")

    def collect(self, root: Path, log: IngestLog) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def image_files(self, root: Path) -> Iterable[str]:
        """The release's image files (relative paths) for the 'files without a metadata row' count."""
        return ()

    def find_root(self, path: str | os.PathLike) -> Path:
        """The dataset root at, below or above ``path`` (``markers``); ``path`` itself when there are none."""
        if not self.markers:
            if not Path(path).is_dir():
                raise DataError(f"{self.name}: dataset folder {path} does not exist or is not a folder; {self.hint()}")
            return Path(path)
        return find_root(path, self.markers, dataset=self.name, hint=self.hint())

    def new_log(self) -> IngestLog:
        """An :class:`IngestLog` configured with this adapter's rules."""
        return IngestLog(self.name, required=self.required, allow_secondary_capture=self.allow_secondary_capture,
                         check_patient=self.check_patient, hint=self.hint())

    def load(self, root: str | os.PathLike) -> AdapterResult:
        """Read the dataset at (or near) ``root`` into an :class:`AdapterResult`.

        Raises:
            DataError: no dataset root was found or a required table is missing (names the file, where the
                layout is documented and the command that checks a folder).
        """
        found = self.find_root(root)
        log = self.new_log()
        self.collect(found, log)
        files = self.image_files(found) if self.verify != "none" else ()
        return log.finish(found, verify=self.verify, image_files=files)
