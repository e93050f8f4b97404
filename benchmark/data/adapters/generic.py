"""Generic ``manifest`` adapter: any dataset described by a CSV plus a small YAML column mapping.

A hospital export works without code. The mapping (``mapping=`` option, default
``<root>/mammobench_mapping.yaml``)::

    table: export.csv            # CSV relative to the root
    separator: ","
    columns:                     # canonical column: source column (patient_id, image_path, laterality required)
      patient_id: PatientID
      exam_id: Accession
      image_id: SOPInstanceUID   # default: image_path
      image_path: file
      laterality: Side
      view: View
      density: ACR               # 1-4, A-D, 'DENSITY C', '51%-75%' … (harmonise_density)
      age: Age                   # years or DICOM AS ('054Y')
      label: Outcome
      lesion_type: Finding
      split: Split
    values:                      # optional value maps per canonical column
      laterality: {LEFT: L, RIGHT: R}
      label: {"0": normal, "1": malignant}
    constants: {site: Hospital X}
    box: {columns: [x0, y0, x1, y1], order: xyxy}   # optional, one box per row; order xyxy | yxyx

Values that do not map to the canonical vocabulary send the row to the rejects table with the column,
the value and the allowed values. Blank density/age/label become unknown.

Example:
    >>> ManifestAdapter.name
    'manifest'
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from mammobench.data.adapters.base import BaseAdapter, IngestLog, findings_json, read_table
from mammobench.data.dicom import parse_patient_age
from mammobench.data.manifest import LABELS, LATERALITIES, LESION_TYPES, SPLITS, VIEWS, harmonise_density
from mammobench.errors import ConfigError
from mammobench.yamlio import load_yaml

MAPPING_KEYS = {"table", "separator", "columns", "values", "constants", "box", "dataset"}
REQUIRED_COLUMNS = ("patient_id", "image_path", "laterality")
VOCAB = {"laterality": LATERALITIES, "view": VIEWS, "label": LABELS, "lesion_type": LESION_TYPES, "split": SPLITS}
TEXT_FIELDS = ("patient_id", "exam_id", "image_id", "image_path", "vendor", "site", "birads_raw")


def load_mapping(path: Path) -> dict:
    """Read and check the YAML mapping (``ConfigError`` naming the file and key on any problem)."""
    if not path.is_file():
        raise ConfigError(f"manifest adapter: mapping file {path} not found; pass mapping=... or create "
                          "mammobench_mapping.yaml in the dataset root (see benchmark/data/adapters/generic.py)")
    mapping = load_yaml(path, what="dataset mapping")
    if not isinstance(mapping, dict):
        raise ConfigError(f"{path}: must be a mapping with keys {sorted(MAPPING_KEYS)}")
    unknown = set(mapping) - MAPPING_KEYS
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) {sorted(unknown)}; valid keys: {sorted(MAPPING_KEYS)}")
    columns = mapping.get("columns") or {}
    if not isinstance(columns, dict):
        raise ConfigError(f"{path}: 'columns' must map canonical names to CSV column names, got {columns!r}")
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if "table" not in mapping or missing:
        raise ConfigError(f"{path}: needs 'table' and columns for {list(REQUIRED_COLUMNS)} (missing {missing})")
    _check_mapping_types(path, mapping)
    return mapping


def _is_name(value: Any) -> bool:
    return isinstance(value, (str, int)) and not isinstance(value, bool) and str(value) != ""


def _check_mapping_types(path: Path, mapping: dict) -> None:
    """Type-check every mapping key (ConfigError naming the key and the expected form)."""
    mappable = sorted({*TEXT_FIELDS, *VOCAB, "density", "age"})
    if not isinstance(mapping["table"], str) or not mapping["table"].strip():
        raise ConfigError(f"{path}: 'table' must be the CSV file name relative to the root, got {mapping['table']!r}")
    sep = mapping.get("separator", ",")
    if not isinstance(sep, str) or len(sep) != 1:
        raise ConfigError(f"{path}: 'separator' must be one character such as ',' or ';', got {sep!r}")
    for key, source in mapping["columns"].items():
        if key not in mappable:
            raise ConfigError(f"{path}: columns.{key} is not a canonical column; valid: {mappable}")
        if not _is_name(source):
            raise ConfigError(f"{path}: columns.{key} must be a CSV column name, got {source!r}")
    mapping["columns"] = {k: str(v) for k, v in mapping["columns"].items()}
    values = mapping.get("values") or {}
    if not isinstance(values, dict) or not all(isinstance(v, dict) or v is None for v in values.values()):
        raise ConfigError(f"{path}: 'values' must map a canonical column to {{source value: canonical value}}, "
                          f"e.g. values: {{laterality: {{LEFT: L}}}}; got {values!r}")
    for section in ("values", "constants"):
        if not isinstance(mapping.get(section) or {}, dict):
            raise ConfigError(f"{path}: '{section}' must be a mapping, got {mapping[section]!r}")
    bad = [k for k, v in (mapping.get("constants") or {}).items() if k not in mappable or isinstance(v, (list, dict))]
    if bad:
        raise ConfigError(f"{path}: constants {bad} must be canonical columns ({mappable}) with scalar values")
    box = mapping.get("box")
    if box is not None and not (isinstance(box, dict) and isinstance(box.get("columns"), list)
                                and len(box["columns"]) == 4 and all(_is_name(c) for c in box["columns"])
                                and box.get("order", "xyxy") in ("xyxy", "yxyx") and set(box) <= {"columns", "order"}):
        raise ConfigError(f"{path}: 'box' must be {{columns: [four CSV columns], order: xyxy | yxyx}}, got {box!r}")
    if not isinstance(mapping.get("dataset", ""), (str, int)) or isinstance(mapping.get("dataset"), bool):
        raise ConfigError(f"{path}: 'dataset' must be a name, got {mapping['dataset']!r}")


class ManifestAdapter(BaseAdapter):
    """CSV + YAML mapping → canonical manifest (for hospital exports)."""

    name = "manifest"
    description = "generic: any CSV + a YAML column/value mapping (hospital exports, no code)"

    def __init__(self, verify: str = "header", mapping: str | Path | None = None):
        super().__init__(verify)
        self.mapping_path = Path(mapping) if mapping else None

    def collect(self, root: Path, log: IngestLog) -> None:
        """Map every CSV row; unmappable values are rejected with the column and value."""
        mapping = load_mapping(self.mapping_path or root / "mammobench_mapping.yaml")
        columns, values = mapping["columns"], mapping.get("values") or {}
        table = read_table(root / mapping["table"], dataset=self.name, required=tuple(columns.values()),
                           sep=mapping.get("separator", ","))
        log.dataset = str(mapping.get("dataset", self.name))
        for r in table.to_dict("records"):
            row, problems = self._map_row(r, columns, values, mapping)
            log.add(row)
            if problems:
                log.reject(row["image_id"], "; ".join(problems), stage="labels")

    @staticmethod
    def _value(r: dict, columns: dict, values: dict, key: str, default: Any = "") -> Any:
        if key not in columns:
            return default
        raw = str(r[columns[key]]).strip()
        table = {str(k): v for k, v in (values.get(key) or {}).items()}
        return table.get(raw, raw)

    def _map_row(self, r: dict, columns: dict, values: dict, mapping: dict) -> tuple[dict, list[str]]:
        get = lambda key, default="": self._value(r, columns, values, key, default)  # noqa: E731
        row: dict[str, Any] = {k: str(get(k)) for k in TEXT_FIELDS if k in columns}
        row.update({k: v for k, v in (mapping.get("constants") or {}).items()})
        row.setdefault("image_id", row["image_path"])
        row.setdefault("exam_id", row["patient_id"])
        problems = []
        for key, allowed in VOCAB.items():
            if key not in columns:
                continue
            value = str(get(key))
            value = value.upper() if key in ("laterality", "view") and value.upper() in allowed else value
            if value == "" and key in ("label", "lesion_type"):
                value = "unknown"
            if value not in allowed:
                problems.append(f"column {columns[key]!r} value {value!r} does not map to {key} {list(allowed)}; "
                                f"add it under values.{key} in the mapping")
            row[key] = value
        raw_density = str(get("density"))
        row["density"], row["density_raw"] = harmonise_density(raw_density), raw_density
        if raw_density and not row["density"]:
            problems.append(f"unknown density code {raw_density!r} in column {columns['density']!r}")
        row["age"] = self._age(str(get("age")))
        row["findings"] = findings_json(self._box(r, mapping.get("box"), row))
        return row, problems

    @staticmethod
    def _age(text: str) -> float:
        try:
            return float(text) if text else math.nan
        except ValueError:
            return parse_patient_age(text)

    @staticmethod
    def _box(r: dict, spec: dict | None, row: dict) -> list[dict]:
        if not spec:
            return []
        try:
            vals = [float(r[c]) for c in spec["columns"]]
        except (KeyError, TypeError, ValueError):
            return []
        if spec.get("order", "xyxy") == "yxyx":
            vals = [vals[1], vals[0], vals[3], vals[2]]
        return [{"box": vals, "lesion_type": row.get("lesion_type", "unknown"),
                 "pathology": row.get("label", "unknown") if row.get("label") in ("benign", "malignant") else "unknown"}]
