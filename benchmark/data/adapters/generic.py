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

import yaml

from benchmark.data.adapters.base import BaseAdapter, IngestLog, findings_json, read_table
from benchmark.data.dicom import parse_patient_age
from benchmark.data.manifest import LABELS, LATERALITIES, LESION_TYPES, SPLITS, VIEWS, harmonise_density
from benchmark.errors import ConfigError

MAPPING_KEYS = {"table", "separator", "columns", "values", "constants", "box", "dataset"}
REQUIRED_COLUMNS = ("patient_id", "image_path", "laterality")
VOCAB = {"laterality": LATERALITIES, "view": VIEWS, "label": LABELS, "lesion_type": LESION_TYPES, "split": SPLITS}
TEXT_FIELDS = ("patient_id", "exam_id", "image_id", "image_path", "vendor", "site", "birads_raw")


def load_mapping(path: Path) -> dict:
    """Read and check the YAML mapping (``ConfigError`` naming the file and key on any problem)."""
    if not path.is_file():
        raise ConfigError(f"manifest adapter: mapping file {path} not found; pass mapping=... or create "
                          "mammobench_mapping.yaml in the dataset root (see benchmark/data/adapters/generic.py)")
    try:
        mapping = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML ({err})") from err
    if not isinstance(mapping, dict):
        raise ConfigError(f"{path}: must be a mapping with keys {sorted(MAPPING_KEYS)}")
    unknown = set(mapping) - MAPPING_KEYS
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) {sorted(unknown)}; valid keys: {sorted(MAPPING_KEYS)}")
    columns = mapping.get("columns") or {}
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if "table" not in mapping or missing:
        raise ConfigError(f"{path}: needs 'table' and columns for {list(REQUIRED_COLUMNS)} (missing {missing})")
    return mapping


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
