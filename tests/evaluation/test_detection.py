"""Lesion-detection evaluation: FROC against brute force, wAFROC records and the primary comparison."""
from __future__ import annotations

import numpy as np
import pandas as pd

from mammobench.evaluation.detection import evaluate_detection
from mammobench.evaluation.detection_fixtures import make_detection_run
from mammobench.stats.froc import froc_curve


def _brute_froc(marks: pd.DataFrame, lesions: pd.DataFrame, n_images: int) -> dict[float, tuple[float, float]]:
    """(fpi, sensitivity) per threshold by looping over every mark and lesion (centre-inside rule)."""
    out = {}
    for t in sorted(marks["score"].unique()):
        kept = marks[marks["score"] >= t]
        cx, cy = (kept.x0 + kept.x1) / 2, (kept.y0 + kept.y1) / 2
        hit_lesions, fp = set(), 0
        for i in range(len(kept)):
            hits = [j for j, les in lesions.iterrows() if les.image_id == kept.image_id.iat[i]
                    and les.x0 <= cx.iat[i] <= les.x1 and les.y0 <= cy.iat[i] <= les.y1]
            hit_lesions.update(hits)
            fp += not hits
        out[float(t)] = (fp / n_images, len(hit_lesions) / len(lesions))
    return out


def test_froc_curve_matches_brute_force():
    rng = np.random.default_rng(3)
    lesions = pd.DataFrame({"image_id": ["a", "a", "b", "c"], "x0": [0, 30, 10, 40], "y0": [0, 30, 10, 40],
                            "x1": [10, 40, 20, 50], "y1": [10, 40, 20, 50]})
    n = 40
    xy = rng.uniform(0, 50, size=(n, 2))
    marks = pd.DataFrame({"image_id": rng.choice(["a", "b", "c", "d"], n), "score": rng.permutation(n) / n,
                          "x0": xy[:, 0] - 2, "y0": xy[:, 1] - 2, "x1": xy[:, 0] + 2, "y1": xy[:, 1] + 2})
    curve = froc_curve(marks, lesions, n_images=4)
    brute = _brute_froc(marks, lesions, 4)
    assert len(brute) == n
    for t, (fpi, sens) in brute.items():
        row = curve[np.isclose(curve["threshold"], t)]
        assert len(row) == 1, t
        assert row["fpi"].iat[0] == fpi and row["sensitivity"].iat[0] == sens


def test_evaluate_detection_records_and_primary_wafroc_comparison():
    # a +3 logit gain on every lesion mark for 3 seeds. Margin (#17.1): at this fixed seed Δ wAFROC +0.135,
    # Holm p_adj 3.7e-5, i.e. z(p) − z(α) = 2.2 (> 1.2, the machine-to-machine tolerance of stats/margin.py);
    # over fixture seeds 0–9 significant 10/10, Δ 0.11–0.19, largest p_adj 0.0025 (z margin 1.1)
    preds, marks, lesions = make_detection_run(n_patients=120, seeds=(0, 1, 2), arm_effects={"augmented": 3.0})
    plan = {"n_boot": 200, "subgroups": ["density"], "control_arm": "none", "primary_metric": "wafroc",
            "detection": {"fpi": 1.0, "fpi_points": [0.25, 0.5, 1.0, 2.0, 4.0]}}
    out = evaluate_detection(preds, marks, lesions, plan)
    metrics = pd.DataFrame(out["metrics"])
    assert {"wafroc", "froc_sensitivity", "lesion_sensitivity", "false_marks_per_image"} <= set(metrics["metric"])
    pooled = metrics[(metrics.metric == "wafroc") & metrics.seed.isna() & metrics.attribute.isna()]
    assert len(pooled) == 2 and (pooled.ci_low <= pooled.value).all() and (pooled.value <= pooled.ci_high).all()
    sens = metrics[(metrics.metric == "lesion_sensitivity") & (metrics.attribute == "density") & metrics.seed.isna()]
    assert len(sens) > 0 and (sens["n"] > 0).all()
    ok = sens["n"] >= 10  # the plan's min_group_size: smaller groups are reported with n but no CI
    assert ok.any() and sens.loc[ok, ["ci_low", "ci_high"]].notna().all().all()
    assert (sens.loc[~ok, "status"] != "ok").all()
    primary = [c for c in out["comparisons"] if c.get("primary")]
    assert primary and all(c["family"] == "seeds_as_readers" and c["metric"] == "wafroc" for c in primary)
    overall = [c for c in primary if c["attribute"] is None]
    assert len(overall) == 1 and overall[0]["estimate"] > 0.1 and overall[0]["significant"]
    assert out["detection"]["chosen_on"] == "val"
