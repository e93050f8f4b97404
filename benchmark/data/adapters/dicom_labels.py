"""The labels side of the ``dicom`` adapter: the mapping (YAML or options) and the join on a key the user names.

See :mod:`mammobench.data.adapters.dicom_folder` for the mapping format.

Example:
    >>> spec = load_labels_spec(labels="l.csv", key="Accession=AccessionNumber", label="Outcome",
    ...                         label_map="0=normal,1=malignant")
    >>> spec["key"], spec["values"]["label"]
    ({'Accession': 'AccessionNumber'}, {'0': 'normal', '1': 'malignant'})
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from mammobench.data.adapters.tables import read_table
from mammobench.data.dicom import parse_patient_age
from mammobench.data.manifest import LABELS, LESION_TYPES, SPLITS, harmonise_density
from mammobench.errors import ConfigError
from mammobench.yamlio import load_yaml

MAPPING_KEYS = {"labels", "sheet", "key", "label", "values", "columns", "density_tag", "separator"}
KEY_TARGETS = {"SOPInstanceUID": "sop_uid", "AccessionNumber": "accession", "StudyInstanceUID": "study_uid",
               "SeriesInstanceUID": "series_uid", "PatientID": "patient_id", "ImageLaterality": "laterality",
               "Laterality": "laterality", "ViewPosition": "view", "path": None, "filename": None}
TABLE_FIELDS = ("patient_id", "laterality", "view", "density", "age", "lesion_type", "split")
_LATERALITY = {"L": "L", "R": "R", "LEFT": "L", "RIGHT": "R"}
_VIEW = {"CC": "CC", "MLO": "MLO"}


def parse_key_spec(text: str) -> dict[str, str]:
    """``'COL'`` or ``'COL=Keyword,COL2=Keyword2'`` → ``{COL: Keyword}`` (a bare COL matches the same keyword).

    Example:
        >>> parse_key_spec("Accession=AccessionNumber,Side=ImageLaterality")
        {'Accession': 'AccessionNumber', 'Side': 'ImageLaterality'}
    """
    out = {}
    for part in (p.strip() for p in str(text).split(",") if p.strip()):
        col, _, target = part.partition("=")
        out[col.strip()] = (target or col).strip()
    return out


def _parse_pairs(text: str | dict | None) -> dict[str, str]:
    if text is None or isinstance(text, dict):
        return {str(k): str(v) for k, v in (text or {}).items()}
    return parse_key_spec(text)


def load_labels_spec(*, mapping: str | Path | None = None, labels: str | Path | None = None, key: Any = None,
                     label: str | None = None, label_map: Any = None, sheet: str | int | None = None,
                     density_tag: str | None = None, hint: str = "") -> dict:
    """The labels mapping from a YAML file and/or options (options win); ConfigError naming what is wrong."""
    spec: dict[str, Any] = {}
    if mapping is not None:
        path = Path(mapping)
        if not path.is_file():
            raise ConfigError(f"dicom adapter: mapping file {path} not found; {hint}")
        spec = load_yaml(path, what="dicom labels mapping") or {}
        if not isinstance(spec, dict) or set(spec) - MAPPING_KEYS:
            raise ConfigError(f"{path}: must be a mapping with keys from {sorted(MAPPING_KEYS)}, "
                              f"got {sorted(spec) if isinstance(spec, dict) else type(spec).__name__}")
    options = {"labels": labels, "sheet": sheet, "label": label, "density_tag": density_tag}
    spec.update({k: v for k, v in options.items() if v is not None})
    spec["key"] = _parse_pairs(key) if key is not None else _parse_pairs(spec.get("key"))
    spec["values"] = dict(spec.get("values") or {})
    if label_map is not None:
        spec["values"]["label"] = _parse_pairs(label_map)
    spec["columns"] = {str(k): str(v) for k, v in (spec.get("columns") or {}).items()}
    _check(spec, hint)
    return spec


def _check(spec: dict, hint: str) -> None:
    if not spec.get("labels"):
        if spec["key"] or spec.get("label"):
            raise ConfigError(f"dicom adapter: a key or label column was given without a labels file; {hint}")
        return
    if not spec["key"] or not spec.get("label"):
        raise ConfigError("dicom adapter: a labels file needs the key column(s) that identify each row and the "
                          f"label column (--key-column COL[=DicomKeyword], --label-column COL); {hint}")
    bad = [t for t in spec["key"].values() if t not in KEY_TARGETS]
    if bad:
        raise ConfigError(f"dicom adapter: key target(s) {bad} are not among {sorted(KEY_TARGETS)}; {hint}")
    wrong = [c for c in spec["columns"] if c not in TABLE_FIELDS]
    if wrong:
        raise ConfigError(f"dicom adapter: columns {wrong} are not among {list(TABLE_FIELDS)}; {hint}")
    for name, table in spec["values"].items():
        if not isinstance(table, dict):
            raise ConfigError(f"dicom adapter: values.{name} must map source values to canonical ones; {hint}")


def _norm(value: Any, target: str | None) -> str:
    text = str(value or "").strip()
    if target in ("laterality",):
        return _LATERALITY.get(text.upper(), text.upper())
    return text


class LabelsTable:
    """The labels file indexed by its key, applied to one image at a time."""

    def __init__(self, spec: dict, root: Path, *, hint: str = ""):
        path = Path(spec["labels"])
        self.path = path if path.is_absolute() else root / path
        self.spec, self.hint = spec, hint
        required = (*spec["key"], spec["label"], *spec["columns"].values())
        table = read_table(self.path, dataset="dicom", required=tuple(dict.fromkeys(required)), hint=hint,
                           sheet=spec.get("sheet", 0) or 0, sep=spec.get("separator", ","))
        self.rows: dict[tuple, list[dict]] = {}
        for r in table.to_dict("records"):
            k = tuple(_norm(self._value(r, col), KEY_TARGETS[t]) for col, t in spec["key"].items())
            self.rows.setdefault(k, []).append(r)
        self.used: set[tuple] = set()

    def _value(self, r: dict, col: str) -> str:
        return str(r.get(col, "")).strip()

    def _image_key(self, meta: Any, rel: str) -> tuple:
        out = []
        for target in self.spec["key"].values():
            attr = KEY_TARGETS[target]
            value = rel if target == "path" else Path(rel).name if target == "filename" else getattr(meta, attr, "")
            out.append(_norm(value, attr))
        return tuple(out)

    def _mapped(self, field: str, raw: str) -> str:
        table = {str(k): v for k, v in (self.spec["values"].get(field) or {}).items()}
        return str(table.get(raw, raw))

    def apply(self, row: dict, meta: Any, rel: str) -> str:
        """Fill ``row`` from its labels row; return a reject reason ('' when the join succeeded)."""
        key = self._image_key(meta, rel)
        where = ", ".join(f"{t} {v!r}" for t, v in zip(self.spec["key"].values(), key))
        found = self.rows.get(key)
        if not found:
            return f"no row in {self.path.name} for {where}: the label cannot be established"
        self.used.add(key)
        labels = {self._label(r) for r in found}
        if len(labels) > 1:
            return f"{self.path.name} has {len(found)} rows for {where} with different labels {sorted(labels)}"
        label = labels.pop()
        if label not in LABELS or label == "unknown":
            raw = self._value(found[0], self.spec["label"])
            return (f"label {raw!r} in column {self.spec['label']!r} of {self.path.name} is not normal/benign/malignant; "
                    "map it under values.label in the mapping or with --label-map")
        row["label"] = label
        return self._fields(row, found[0])

    def _label(self, r: dict) -> str:
        raw = self._value(r, self.spec["label"])
        mapped = self._mapped("label", raw)
        return mapped.lower() if mapped.lower() in LABELS else mapped

    def _fields(self, row: dict, r: dict) -> str:
        for field, col in self.spec["columns"].items():
            raw = self._value(r, col)
            value = self._mapped(field, raw)
            if not raw:
                continue
            if field == "laterality":
                row[field] = _LATERALITY.get(value.upper(), value)
            elif field == "view":
                row[field] = _VIEW.get(value.upper(), "other")
            elif field == "density":
                row["density"], row["density_raw"] = harmonise_density(value), raw
                if not row["density"]:
                    return f"unknown density code {raw!r} in column {col!r} of {self.path.name}"
            elif field == "age":
                row["age"] = parse_patient_age(value)
            elif field == "split" and value not in SPLITS:
                return f"split {raw!r} in column {col!r} of {self.path.name} is not train/val/test"
            elif field == "lesion_type" and value not in LESION_TYPES:
                return f"lesion type {raw!r} in column {col!r} is not one of {list(LESION_TYPES)}; map it under values"
            else:
                row[field] = value
        if row.get("laterality") not in ("L", "R", ""):
            return f"laterality {row['laterality']!r} in {self.path.name} is not L/R; map it under values.laterality"
        return ""

    def unmatched(self) -> list[str]:
        """A reason per labels row that matched no DICOM file."""
        out = []
        for key, rows in self.rows.items():
            if key not in self.used:
                where = ", ".join(f"{t} {v!r}" for t, v in zip(self.spec["key"].values(), key))
                out += [f"labels row of {self.path.name} for {where} matches no DICOM file in the folder"] * len(rows)
        return out
