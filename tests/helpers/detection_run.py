"""A small seeded detection run folder (Contract 6 + the detection files) for the report's detection section.

The marks, lesions and predictions come from :func:`mammobench.evaluation.detection_fixtures.make_detection_run`
(arm ``augmented`` detects lesions better than the control ``none``); the records are computed by
:func:`mammobench.evaluation.evaluate_run` exactly as a pipeline run computes them. The image cache
(``data/cases.csv`` + ``data/images.npy``) holds 64-px noise images with a bright blob in every lesion box,
so the gallery has something to draw.

Example:
    >>> import tempfile, pathlib
    >>> run = make_detection_run_folder(pathlib.Path(tempfile.mkdtemp()), n_patients=30)
    >>> sorted(p.name for p in (run / "data").iterdir())
    ['cases.csv', 'images.npy', 'lesions.csv']
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from mammobench.evaluation import evaluate_run
from mammobench.evaluation.detection_fixtures import SIZE, make_detection_run
from mammobench.io import atomic_write_json, sha256_file
from mammobench.results import minimal_result, write_result

PLAN = {"primary_metric": "wafroc", "control_arm": "none", "subgroups": ["density", "age_band", "lesion_type", "vendor"],
        "intersections": [], "min_group_size": 5, "n_boot": 60, "alpha": 0.05, "multiplicity": "holm", "seed": 3,
        "detection": {"fpi": 1.0, "fpi_points": [0.25, 0.5, 1.0, 2.0, 4.0]}}


def _image_cache(run: Path, preds: pd.DataFrame, lesions: pd.DataFrame, rng: np.random.Generator) -> None:
    cases = preds.drop_duplicates("image_id").reset_index(drop=True)
    cases = cases[["image_id", "patient_id", "split", "y_true", "density", "age_band", "lesion_type", "vendor"]]
    cases.insert(0, "row", np.arange(len(cases)))
    images = rng.uniform(0.0, 0.35, size=(len(cases), SIZE, SIZE)).astype(np.float32)
    ys, xs = np.mgrid[0:SIZE, 0:SIZE]
    row_of = dict(zip(cases["image_id"], cases["row"]))
    for les in lesions.itertuples(index=False):
        cx, cy, r = (les.x0 + les.x1) / 2, (les.y0 + les.y1) / 2, (les.x1 - les.x0) / 2
        blob = np.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * r * r)).astype(np.float32)
        img = images[row_of[les.image_id]]
        np.maximum(img, 0.9 * blob, out=img)
    cases.to_csv(run / "data" / "cases.csv", index=False)
    np.save(run / "data" / "images.npy", images)


def make_detection_run_folder(root: Path, *, n_patients: int = 60, images: bool = True,
                              run_id: str = "det_fixture") -> Path:
    """Write the run folder under ``root / run_id`` and return it (``images=False``: no image cache)."""
    run = Path(root) / run_id
    (run / "data").mkdir(parents=True, exist_ok=True)
    preds, marks, lesions = make_detection_run(n_patients, seeds=(0, 1), arm_effects={"augmented": 1.0}, seed=4)
    preds.to_csv(run / "predictions.csv", index=False)
    marks.to_csv(run / "marks.csv", index=False)
    lesions.to_csv(run / "data" / "lesions.csv", index=False)
    if images:
        _image_cache(run, preds, lesions, np.random.default_rng(9))
    atomic_write_json(run / "analysis_plan.json", PLAN)
    evaluation = evaluate_run(preds, PLAN, marks=marks, lesions=lesions)
    result = minimal_result(run_id)
    result.update({
        "created": "2026-01-01T00:00:00Z", "benchmark": {"version": "0.1.0", "git_sha": "0" * 40},
        "task": {"name": "det_fixture", "version": "1", "kind": "lesion_detection", "config_sha256": "ab" * 32},
        "cohort": {"adapter": "fixture", "n_images": int(preds["image_id"].nunique())}, "seeds": [0, 1],
        "analysis_plan": {"sha256": sha256_file(run / "analysis_plan.json"), "path": "analysis_plan.json",
                          "written_before_test_read": True},
        "arms": [{"arm": "none", "generator": "none", "ratio": 0.0, "n_real": 100, "n_synthetic": 0},
                 {"arm": "augmented", "generator": "fixture", "ratio": 1.0, "n_real": 100, "n_synthetic": 100}],
        "predictions": {"path": "predictions.csv", "sha256": sha256_file(run / "predictions.csv"),
                        "n_rows": int(len(preds))},
        **{k: list(evaluation.get(k, [])) for k in ("metrics", "comparisons", "fairness", "interactions")},
        "detection": evaluation["detection"]})
    write_result(run / "result.json", result)
    return run
