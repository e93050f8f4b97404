"""Grid cells: one (task, generator, arm, ratio, seed) training run, a pure function of its inputs.

A cell reads the run's frozen inputs — ``data/cases.csv`` (one row per real image: split, target,
subgroups, row in ``data/images.npy``) and, for a synthetic arm, ``synthetic/<arm>__r<ratio>.npz`` —
trains the detector with its seed, predicts the validation and test images and writes
``cells/<cell_id>/predictions.csv`` then ``cells/<cell_id>/cell.json``, each atomically. ``cell.json``
is written last and is the done marker: a cell whose ``cell.json`` exists is skipped, so a run
killed at any moment (even ``kill -9``) resumes with only the missing cells.

Example:
    >>> spec = CellSpec(run_dir="runs/x", task="vc_lesion", generator="none", arm="none", ratio=0.0, seed=1,
    ...                 arch="test_resnet")
    >>> spec.cell_id
    'none__r0__s1'
"""
from __future__ import annotations

import dataclasses
import io
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mammobench.io import atomic_write_bytes, atomic_write_json, read_json, sha256_bytes, sha256_file

SUBGROUP_COLUMNS = ("density", "age_band", "lesion_type", "vendor", "site", "view")
PREDICTION_COLUMNS = ("image_id", "patient_id", "split", "arm", "generator", "ratio", "seed", "y_true", "y_score",
                      *SUBGROUP_COLUMNS)


def format_ratio(ratio: float) -> str:
    """``0.5 → '0.5'``, ``1.0 → '1'``, ``0 → '0'`` (stable folder names)."""
    return f"{float(ratio):g}"


@dataclass(frozen=True)
class CellSpec:
    """Everything a cell depends on (its hash is the cell's input identity)."""

    run_dir: str
    task: str
    generator: str
    arm: str
    ratio: float
    seed: int
    arch: str
    recipe: str = "timm_classifier"
    weights: str | None = None
    epochs: int = 1
    batch_size: int = 32
    lr: float = 2e-3
    weight_decay: float = 1e-4
    lr_schedule: str = "cosine"
    device: str = "cpu"
    threads: int = 1
    step_budget: str = "all"  # "real": every arm takes the control's optimiser steps (DetectorSpec.step_budget)
    detection: str = ""  # detection recipes: JSON of the hit rule, mark budget and crop (pipeline/detection_cells.py)
    channels_last: bool = False  # CPU: train in channels_last (DetectorSpec.channels_last)

    @property
    def cell_id(self) -> str:
        return f"{self.arm}__r{format_ratio(self.ratio)}__s{self.seed}"

    @property
    def out_dir(self) -> Path:
        return Path(self.run_dir) / "cells" / self.cell_id

    @property
    def synthetic_path(self) -> Path | None:
        if self.generator == "none" or self.ratio <= 0:
            return None
        return Path(self.run_dir) / "synthetic" / f"{self.arm}__r{format_ratio(self.ratio)}.npz"

    def identity(self) -> dict[str, Any]:
        """The inputs that determine the cell's numbers (``run_dir`` excluded)."""
        data = dataclasses.asdict(self)
        data.pop("run_dir")
        if not data["detection"]:  # classifier cells keep the identity they had before detection existed
            data.pop("detection")
        if data["step_budget"] == "all":  # the default keeps the identity cells had before the option existed
            data.pop("step_budget")
        if not data["channels_last"]:  # likewise
            data.pop("channels_last")
        return data


def is_done(spec: CellSpec) -> bool:
    """True when the cell's done marker exists and names the same inputs."""
    marker = spec.out_dir / "cell.json"
    if not marker.exists():
        return False
    try:
        return read_json(marker).get("spec") == spec.identity()
    except Exception:  # a torn/foreign marker is treated as not done; the cell is recomputed
        return False


def _load_inputs(spec: CellSpec) -> tuple[pd.DataFrame, np.ndarray, dict[str, np.ndarray] | None]:
    run = Path(spec.run_dir)
    cases = pd.read_csv(run / "data" / "cases.csv", dtype={"image_id": str, "patient_id": str}, keep_default_na=False)
    images = np.load(run / "data" / "images.npy", mmap_mode="r")
    synthetic = None
    if spec.synthetic_path is not None:
        with np.load(spec.synthetic_path) as npz:
            synthetic = {"images": npz["images"], "y": npz["y"]}
    return cases, images, synthetic


def _split_arrays(cases: pd.DataFrame, images: np.ndarray, split: str) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    rows = cases[cases["split"] == split]
    x = np.asarray(images[rows["row"].to_numpy()], dtype=np.float32)[:, None]
    return rows, x, rows["y_true"].to_numpy(np.float32)


def train_config(spec: CellSpec, n_real: int):
    """The :class:`~mammobench.training.train.TrainConfig` of a cell (classifier or detection recipe);
    with ``step_budget: real`` an epoch is ``n_real`` images, the control's number of optimiser steps.

    Example:
        >>> spec = CellSpec(run_dir="r", task="t", generator="g", arm="g", ratio=0.5, seed=0, arch="test_resnet",
        ...                 step_budget="real")
        >>> train_config(spec, 120).epoch_images
        120
    """
    from mammobench.training.train import TrainConfig

    return TrainConfig(epochs=spec.epochs, batch_size=spec.batch_size, lr=spec.lr, weight_decay=spec.weight_decay,
                       lr_schedule=spec.lr_schedule, device=spec.device, threads=spec.threads, recipe=spec.recipe,
                       weights=spec.weights, epoch_images=n_real if spec.step_budget == "real" else None,
                       channels_last=spec.channels_last)


def run_cell(spec: CellSpec) -> dict[str, Any]:
    """Train and predict one cell; write its files atomically; return its ``cell.json`` record.

    A cell already done is not recomputed (its record is returned).
    """
    from mammobench.training.train import predict_scores, train_detector

    if is_done(spec):
        return read_json(spec.out_dir / "cell.json")
    start = time.perf_counter()
    cases, images, synthetic = _load_inputs(spec)
    _, train_x, train_y = _split_arrays(cases, images, "train")
    n_real = len(train_y)
    if synthetic is not None:
        train_x = np.concatenate([train_x, synthetic["images"].astype(np.float32)])
        train_y = np.concatenate([train_y, synthetic["y"].astype(np.float32)])
    val_rows, val_x, val_y = _split_arrays(cases, images, "val")
    result = train_detector(train_x, train_y, val_x, val_y, arch=spec.arch, seed=spec.seed,
                            config=train_config(spec, n_real),
                            label=f"cell {spec.cell_id}")
    test_rows, test_x, _ = _split_arrays(cases, images, "test")
    frames = []
    for rows, x in ((val_rows, val_x), (test_rows, test_x)):
        frame = rows.loc[:, ["image_id", "patient_id", "split", "y_true", *SUBGROUP_COLUMNS]].copy()
        frame["y_score"] = predict_scores(result.model, x, device=result.device)
        frames.append(frame)
    preds = pd.concat(frames, ignore_index=True)
    preds = preds.assign(arm=spec.arm, generator=spec.generator, ratio=float(spec.ratio), seed=spec.seed)
    buf = io.StringIO()
    preds.loc[:, list(PREDICTION_COLUMNS)].to_csv(buf, index=False, float_format="%.17g")
    atomic_write_bytes(spec.out_dir / "predictions.csv", buf.getvalue().encode())
    record = {
        "cell_id": spec.cell_id, "spec": spec.identity(), "n_real": n_real,
        "n_synthetic": 0 if synthetic is None else int(len(synthetic["y"])),
        "best_epoch": result.best_epoch, "curve": result.curve, "device": result.device,
        "train_seconds": result.seconds, "images_per_second": result.images_per_second,
        "seconds": time.perf_counter() - start,
        "predictions_sha256": sha256_file(spec.out_dir / "predictions.csv"),
        "inputs_sha256": sha256_bytes(repr(spec.identity()).encode()),
    }
    atomic_write_json(spec.out_dir / "cell.json", record)
    return record


def collect_predictions(specs: list[CellSpec]) -> pd.DataFrame:
    """Concatenate the cells' predictions in grid order (arm, ratio, seed as given)."""
    frames = [pd.read_csv(s.out_dir / "predictions.csv", dtype={"image_id": str, "patient_id": str},
                          keep_default_na=False) for s in specs]
    return pd.concat(frames, ignore_index=True)
