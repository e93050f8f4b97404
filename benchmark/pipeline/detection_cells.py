"""Detection cells: train the lesion detector of one (arm, ratio, seed) and write its marks.

The run writes, next to the cells' inputs, ``data/lesions.csv`` — one row per lesion box of a
positive image (``image_id, lesion, x0, y0, x1, y1, lesion_type, pathology``, cache pixels), taken from
the manifest's ``findings`` as the image cache mapped them (any adapter that provides boxes or masks
works). A synthetic arm's boxes travel in its ``synthetic/<arm>__r<ratio>.npz`` (``findings``, JSON per
image) as the generator returned them.

A detection cell (``CellSpec.detection`` set) trains on every training image: a positive image with its
boxes, a negative image with none; a positive image *without* a box (real or synthetic) cannot teach
where its lesion is and is left out (counted in ``cell.json``). It then writes, atomically and in this
order, ``marks.csv`` (every validation and test image's marks), ``predictions.csv`` (the image score =
its highest mark, so the image-level analysis runs unchanged) and ``cell.json`` (the done marker).

Example:
    >>> import json
    >>> spec = CellSpec(run_dir="runs/x", task="t", generator="none", arm="none", ratio=0.0, seed=0,
    ...                 arch="test_resnet", recipe="timm_centernet", detection=json.dumps({"max_marks": 5}))
    >>> detection_options(spec).max_marks
    5
"""
from __future__ import annotations

import io
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mammobench.evaluation.detection_table import LESION_COLUMNS, MARK_COLUMNS
from mammobench.io import atomic_write_bytes, atomic_write_json, sha256_bytes, sha256_file
from mammobench.pipeline.cells import (PREDICTION_COLUMNS, SUBGROUP_COLUMNS, CellSpec, _load_inputs, _split_arrays,
                                     train_config)
from mammobench.training.detection_train import DetectionOptions

LESIONS_FILE = Path("data") / "lesions.csv"


def is_detection_recipe(recipe: str) -> bool:
    """True when the registered recipe ``recipe`` trains a lesion detector (``kind == "detection"``).

    Example:
        >>> is_detection_recipe("timm_centernet"), is_detection_recipe("timm_classifier")
        (True, False)
    """
    from mammobench.registry import DETECTORS
    import mammobench.training  # noqa: F401  (registers the built-in recipes)

    return getattr(DETECTORS.get(recipe), "kind", "classification") == "detection"


def detection_options(spec: CellSpec) -> DetectionOptions:
    """The cell's :class:`DetectionOptions` from its JSON field (defaults for absent keys)."""
    return DetectionOptions(**json.loads(spec.detection or "{}"))


def write_lesions(run_dir: Path, cases: pd.DataFrame, cache) -> pd.DataFrame:
    """Write ``data/lesions.csv``: the boxes (cache pixels) of every positive image in ``cases``."""
    rows = []
    for image_id in cases.loc[cases["y_true"] == 1, "image_id"].astype(str):
        for k, finding in enumerate(cache.findings(image_id)):
            box = finding.get("box")
            if box is not None and len(box) == 4:
                rows.append({"image_id": image_id, "lesion": k, **dict(zip(("x0", "y0", "x1", "y1"), map(float, box))),
                             "lesion_type": str(finding.get("lesion_type") or "unknown"),
                             "pathology": str(finding.get("pathology") or "")})
    table = pd.DataFrame(rows, columns=[*LESION_COLUMNS, "pathology"])
    atomic_write_bytes(Path(run_dir) / LESIONS_FILE, table.to_csv(index=False, float_format="%.6g").encode())
    return table


def read_lesions(run_dir: str | Path) -> pd.DataFrame:
    """``data/lesions.csv`` of a run."""
    return pd.read_csv(Path(run_dir) / LESIONS_FILE, dtype={"image_id": str}, keep_default_na=False)


def _boxes_of(image_ids: pd.Series, lesions: pd.DataFrame) -> list[list[list[float]]]:
    grouped = {k: g[["x0", "y0", "x1", "y1"]].to_numpy(float).tolist() for k, g in lesions.groupby("image_id")}
    return [grouped.get(str(i), []) for i in image_ids]


def _synthetic_boxes(path: Path, y: np.ndarray) -> list[list[list[float]]]:
    with np.load(path) as npz:
        if "findings" not in npz.files:
            raise FileNotFoundError(f"{path} has no 'findings' (boxes); delete it and re-run so the synthetic stage "
                                    "rewrites it with the generator's boxes")
        findings = [json.loads(str(f)) for f in npz["findings"]]
    return [[list(map(float, f["box"])) for f in fs if f.get("box") is not None] if label else []
            for fs, label in zip(findings, y)]


def _usable(x: np.ndarray, y: np.ndarray, boxes: list) -> tuple[np.ndarray, list, int]:
    """Drop positives without boxes (no location to learn); return images, boxes, number dropped."""
    keep = np.array([not (label and not b) for label, b in zip(y, boxes)], dtype=bool)
    return x[keep], [b for b, k in zip(boxes, keep) if k], int((~keep).sum())


def _training_set(spec: CellSpec, cases: pd.DataFrame, images: np.ndarray, synthetic: dict | None,
                  lesions: pd.DataFrame):
    rows, x, y = _split_arrays(cases, images, "train")
    x, boxes, dropped = _usable(x, y, _boxes_of(rows["image_id"], lesions))
    n_real, n_syn, dropped_syn = len(x), 0, 0
    if synthetic is not None:
        sx, sy = synthetic["images"].astype(np.float32), synthetic["y"].astype(bool)
        sx, sboxes, dropped_syn = _usable(sx, sy, _synthetic_boxes(spec.synthetic_path, sy))
        x, boxes, n_syn = np.concatenate([x, sx]), boxes + sboxes, len(sx)
    return x, boxes, {"n_real": n_real, "n_synthetic": n_syn, "n_real_positive_unboxed": dropped,
                      "n_synthetic_positive_unboxed": dropped_syn}


def _marks_frame(rows: pd.DataFrame, marks: list[list[dict]]) -> pd.DataFrame:
    flat = [{"image_id": i, "patient_id": p, "split": s, "rank": k, **m}
            for (i, p, s), image_marks in zip(rows[["image_id", "patient_id", "split"]].itertuples(index=False), marks)
            for k, m in enumerate(image_marks)]
    return pd.DataFrame(flat)


def _write_outputs(spec: CellSpec, frames: list[tuple[pd.DataFrame, list[list[dict]]]]) -> None:
    tags = {"arm": spec.arm, "generator": spec.generator, "ratio": float(spec.ratio), "seed": spec.seed}
    marks = pd.concat([_marks_frame(rows, m) for rows, m in frames], ignore_index=True).assign(**tags)
    preds = pd.concat([rows.loc[:, ["image_id", "patient_id", "split", "y_true", *SUBGROUP_COLUMNS]].assign(
        y_score=[max((k["score"] for k in im), default=0.0) for im in m]) for rows, m in frames], ignore_index=True)
    for name, frame, cols in (("marks.csv", marks, MARK_COLUMNS), ("predictions.csv", preds.assign(**tags),
                                                                    PREDICTION_COLUMNS)):
        buf = io.StringIO()
        frame.loc[:, list(cols)].to_csv(buf, index=False, float_format="%.17g")
        atomic_write_bytes(spec.out_dir / name, buf.getvalue().encode())


def run_detection_cell(spec: CellSpec) -> dict[str, Any]:
    """Train, mark the validation and test images, write ``marks.csv``, ``predictions.csv``, ``cell.json``."""
    from mammobench.training.detection_train import predict_marks, train_lesion_detector

    start = time.perf_counter()
    options = detection_options(spec)
    cases, images, synthetic = _load_inputs(spec)
    lesions = read_lesions(spec.run_dir)
    train_x, train_boxes, counts = _training_set(spec, cases, images, synthetic, lesions)
    val_rows, val_x, val_y = _split_arrays(cases, images, "val")
    scored_x, scored_boxes, _ = _usable(val_x, val_y, _boxes_of(val_rows["image_id"], lesions))
    result = train_lesion_detector(train_x, train_boxes, scored_x, scored_boxes, arch=spec.arch, seed=spec.seed,
                                   config=train_config(spec, counts["n_real"]), options=options)
    test_rows, test_x, _ = _split_arrays(cases, images, "test")
    frames = [(rows, predict_marks(result.model, x, device=result.device, max_marks=options.max_marks))
              for rows, x in ((val_rows, val_x), (test_rows, test_x))]
    _write_outputs(spec, frames)
    record = {"cell_id": spec.cell_id, "spec": spec.identity(), **counts, "best_epoch": result.best_epoch,
              "curve": result.curve, "device": result.device, "train_seconds": result.seconds,
              "images_per_second": result.images_per_second, "seconds": time.perf_counter() - start,
              "marks_sha256": sha256_file(spec.out_dir / "marks.csv"),
              "predictions_sha256": sha256_file(spec.out_dir / "predictions.csv"),
              "inputs_sha256": sha256_bytes(repr(spec.identity()).encode())}
    atomic_write_json(spec.out_dir / "cell.json", record)
    return record


def collect_marks(specs: list[CellSpec]) -> pd.DataFrame:
    """Concatenate the detection cells' marks in grid order."""
    frames = [pd.read_csv(s.out_dir / "marks.csv", dtype={"image_id": str, "patient_id": str}, keep_default_na=False)
              for s in specs]
    return pd.concat(frames, ignore_index=True)


__all__ = ["collect_marks", "detection_options", "is_detection_recipe", "read_lesions", "run_detection_cell",
           "write_lesions"]
