"""One unit of cache work: decode a DICOM, preprocess it and map its findings (runs in worker processes).

Example:
    >>> decode_row({"row": 0, "image_id": "x", "path": "/nonexistent.dcm", "laterality": "L",
    ...             "findings": "[]", "size": [8, 8], "root": "/"})["reason"].endswith("file not found")
    True
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
from PIL import Image

from mammobench.data.dicom import read_dicom
from mammobench.data.manifest import parse_findings
from mammobench.data.preprocess import ImageTransform, preprocess_image
from mammobench.errors import DataError, MammoBenchError

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


def original_boxes(findings: list[dict], shape: tuple[int, int], root: Path) -> list[list[float] | None]:
    """Each finding's box on the original pixel grid (derived from its mask when it has no box)."""
    out = []
    for f in findings:
        box = f.get("box")
        if box is None and f.get("mask_path"):
            box = _box_from_mask(read_mask(root / f["mask_path"], shape))
        out.append(None if box is None else [float(v) for v in box])
    return out


def map_findings(findings: list[dict], tf: ImageTransform, root: Path,
                 boxes: list[list[float] | None] | None = None) -> list[dict]:
    """Findings with boxes mapped to cache pixels (boxes derived from masks when a finding has none)."""
    if boxes is None:
        boxes = original_boxes(findings, (tf.in_height, tf.in_width), root)
    out = []
    for f, box in zip(findings, boxes):
        item = dict(f)
        item["box"] = None if box is None else [round(float(v), 2) for v in tf.apply_boxes(np.array([box]))[0]]
        out.append(item)
    return out


def _preprocess(task: dict, image, root: Path) -> tuple[np.ndarray, ImageTransform, list[dict]]:
    """Whole image, or one patch (``task["patch"]``) around a finding / in sampled tissue."""
    findings = parse_findings(task["findings"])
    patch = task.get("patch")
    if not patch:
        pixels, tf = preprocess_image(image.pixels, laterality=task["laterality"], size=tuple(task["size"]))
        return pixels, tf, map_findings(findings, tf, root)
    from mammobench.data.patches import field_pixels, preprocess_patch

    boxes = original_boxes(findings, image.pixels.shape, root)
    spacing = image.meta.pixel_spacing_mm  # the file's own spacing first, then the manifest's
    if not math.isfinite(spacing):
        spacing = float(task.get("pixel_spacing_mm") or "nan")
    field = field_pixels(patch["field_mm"], spacing, where=task["path"])
    pixels, tf = preprocess_patch(image.pixels, laterality=task["laterality"], size=tuple(task["size"]),
                                  field_px=field, boxes=[b for b in boxes if b is not None], key=task["image_id"],
                                  jitter=patch["jitter"])
    return pixels, tf, map_findings(findings, tf, root, boxes)


def decode_row(task: dict) -> dict:
    """Decode and preprocess one image; never raises for bad data (returns ``reason`` instead)."""
    result = {"row": task["row"], "image_id": task["image_id"], "pixels": None, "transform": None,
              "findings": "[]", "reason": ""}
    root = Path(task["root"])
    try:
        image = read_dicom(root / task["path"])
        pixels, tf, findings = _preprocess(task, image, root)
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
