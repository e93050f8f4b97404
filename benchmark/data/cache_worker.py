"""One unit of cache work: decode a DICOM, preprocess it and map its findings (runs in worker processes).

Example:
    >>> decode_row({"row": 0, "image_id": "x", "path": "/nonexistent.dcm", "laterality": "L",
    ...             "findings": "[]", "size": [8, 8], "root": "/"})["reason"].endswith("file not found")
    True
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from benchmark.data.dicom import read_dicom
from benchmark.data.manifest import parse_findings
from benchmark.data.preprocess import ImageTransform, preprocess_image
from benchmark.errors import DataError, MammoBenchError

_SCALE = 65535.0


def read_mask(path: Path, shape: tuple[int, int]) -> np.ndarray:
    """Read a binary mask (PNG/TIFF or DICOM) and bring it to ``shape`` (nearest) when sizes differ."""
    if path.suffix.lower() in (".dcm", ".dicom"):
        mask = read_dicom(path).pixels > 0
    else:
        try:
            with Image.open(path) as im:
                mask = np.asarray(im.convert("L")) > 0
        except (OSError, ValueError) as err:
            raise DataError(f"{path}: cannot read mask image ({err})") from err
    if mask.shape != shape:
        resized = Image.fromarray(mask.astype(np.uint8) * 255).resize((shape[1], shape[0]), Image.Resampling.NEAREST)
        mask = np.asarray(resized) > 0
    return mask


def _box_from_mask(mask: np.ndarray) -> list[float] | None:
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        return None
    return [float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)]


def map_findings(findings: list[dict], tf: ImageTransform, root: Path) -> list[dict]:
    """Findings with boxes mapped to cache pixels (boxes derived from masks when a finding has none)."""
    out = []
    for f in findings:
        item = dict(f)
        box = item.get("box")
        if box is None and item.get("mask_path"):
            box = _box_from_mask(read_mask(root / item["mask_path"], (tf.in_height, tf.in_width)))
        item["box"] = None if box is None else [round(float(v), 2) for v in tf.apply_boxes(np.array([box]))[0]]
        out.append(item)
    return out


def decode_row(task: dict) -> dict:
    """Decode and preprocess one image; never raises for bad data (returns ``reason`` instead)."""
    result = {"row": task["row"], "image_id": task["image_id"], "pixels": None, "transform": None,
              "findings": "[]", "reason": ""}
    root = Path(task["root"])
    try:
        image = read_dicom(root / task["path"])
        pixels, tf = preprocess_image(image.pixels, laterality=task["laterality"], size=tuple(task["size"]))
        findings = map_findings(parse_findings(task["findings"]), tf, root)
    except MammoBenchError as err:
        result["reason"] = str(err)
        return result
    except (MemoryError, ValueError, OSError) as err:  # defensive: report, never crash the build
        result["reason"] = f"{task['path']}: {type(err).__name__}: {err}"
        return result
    result["pixels"] = np.round(pixels * _SCALE).astype(np.uint16)
    result["transform"] = tf.to_dict()
    result["findings"] = json.dumps(findings, sort_keys=True)
    return result
