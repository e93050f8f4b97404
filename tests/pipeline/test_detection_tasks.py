"""The real-dataset detection tasks run end to end at the smoke profile on replicas of their releases.

Each task (``tasks/<x>_detect``) reads a seeded replica written in its release's layout
(``tests/helpers/detection_replicas.py``: 40 women, half with a drawn 6-px lesion whose box / mask / ROI is
where the release keeps it) through its adapter, the image cache and the detection cells, and the test checks
that the boxes reach the marks scoring: ``data/lesions.csv`` holds one box per lesion image, each box lies on
the drawn lesion in cache pixels (the brightest pixel of the image is inside it, ±1 px), and the evaluation
scored those lesions (``n_lesions`` > 0 in the test wAFROC and lesion-sensitivity records). No statistical
decision is asserted (a 2-epoch smoke detector is not expected to find anything).

The run uses the smoke profile with the control arm only and one seed (``--set arms=[none] seeds=[0]``): the
synthetic arms' path is the virtual-cohort task's, exercised by the pipeline tests. Its one cell runs in this
process (local executor): a process pool would only add a spawned worker's imports to each replica's run.
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from mammobench.pipeline import run
from mammobench.pipeline.spec import Execution
from mammobench.pipeline.suites import list_tasks
from tests.helpers.detection_replicas import BUILDERS

TASKS = sorted(BUILDERS)


def test_detection_tasks_are_listed():
    assert set(TASKS) | {"vc_lesion_detect"} <= set(list_tasks())


@pytest.mark.parametrize("task", TASKS)
def test_detection_task_runs_on_its_replica(task, tmp_path, monkeypatch):
    expected = BUILDERS[task](tmp_path / "data", n_patients=40, seed=0)
    monkeypatch.setenv("MAMMOBENCH_DATA", str(expected["root"]))
    monkeypatch.setenv("MAMMOBENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("MAMMOBENCH_OFFLINE", "1")
    [run_dir] = run(task, profile="smoke", out=tmp_path / "runs", overrides={"arms": ["none"], "seeds": [0]},
                    execution=Execution(executor="local"))

    cases = pd.read_csv(run_dir / "data" / "cases.csv", dtype={"image_id": str})
    images = np.load(run_dir / "data" / "images.npy")
    lesions = pd.read_csv(run_dir / "data" / "lesions.csv", dtype={"image_id": str})
    positives = set(cases.loc[cases["y_true"] == 1, "image_id"])
    assert len(lesions) == expected["n_lesion_images"] == len(positives)  # one box per lesion image, none lost
    row = dict(zip(cases["image_id"], range(len(cases))))
    for les in lesions.itertuples():
        y, x = np.unravel_index(images[row[les.image_id]].argmax(), images.shape[1:])
        assert les.x0 - 1 <= x <= les.x1 + 1 and les.y0 - 1 <= y <= les.y1 + 1, f"box off the lesion: {les}"

    result = json.loads((run_dir / "result.json").read_text())
    assert result["task"]["kind"] == "lesion_detection"
    scored = {r["metric"]: r for r in result["metrics"] if r.get("attribute") is None and r.get("split") == "test"
              and r.get("seed") is None and r["metric"] in ("wafroc", "lesion_sensitivity")}
    test_lesions = lesions["image_id"].isin(set(cases.loc[cases["split"] == "test", "image_id"])).sum()
    assert set(scored) == {"wafroc", "lesion_sensitivity"}
    assert scored["wafroc"]["n_lesions"] == test_lesions > 0
    assert scored["lesion_sensitivity"]["n_lesions"] == test_lesions
    marks = pd.read_csv(run_dir / "marks.csv", dtype={"image_id": str})
    assert set(marks.loc[marks["split"] == "test", "image_id"]) >= set(lesions["image_id"]) & set(
        cases.loc[cases["split"] == "test", "image_id"])  # every test lesion image was marked and scored
