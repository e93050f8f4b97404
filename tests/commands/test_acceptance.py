"""The acceptance measurement (``mammobench generators acceptance``): its oracles, statistics and command line."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.stats import binomtest

from mammobench import cli
from mammobench.commands.acceptance import CROP_SIZE, lesion_crops, recognition, train_lesion_oracle
from mammobench.generators.fixtures import make_tiny_train_view

torch.set_num_threads(1)


class _FixedOracle:
    """Predicts the lesion type written in the first pixel (0 = mass, 1 = calcification)."""

    def predict_proba(self, images):
        calc = (np.asarray(images)[:, 0, 0] > 0.5).astype(float)
        return {"lesion_type": pd.DataFrame({"mass": 1 - calc, "calcification": calc, "none": 0.0})}


def test_recognition_counts_hits_among_requested_classes_and_tests_against_chance():
    images = np.zeros((10, 4, 4), np.float32)
    images[:4, 0, 0] = 1.0  # 4 look like calcification
    wanted = np.array(["calcification"] * 5 + ["mass"] * 5)
    res = recognition(_FixedOracle(), images, wanted, "lesion_type")
    assert res["accuracy"] == 0.9 and res["chance"] == 0.5  # 'none' is never a candidate
    assert res["p_value"] == binomtest(9, 10, 0.5, alternative="greater").pvalue
    assert res["per_class"] == {"calcification": 0.8, "mass": 1.0}


def test_lesion_crops_cut_the_finding_window_and_the_oracle_reads_it():
    view = make_tiny_train_view(n=40, size=32, seed=0)
    crops, types = lesion_crops(view.images, view.findings)
    n_lesions = sum(1 for f in view.findings if f)
    assert crops.shape == (n_lesions, CROP_SIZE, CROP_SIZE) and len(types) == n_lesions
    oracle = train_lesion_oracle(view, seed=0, epochs=3)
    proba = oracle.predict_proba(crops)["lesion_type"]
    assert len(proba) == n_lesions and np.allclose(proba.sum(axis=1), 1.0)


def test_acceptance_is_a_subcommand_of_generators_with_the_module_options(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["generators", "acceptance", "--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    assert "--per-class" in text and "--oracle-epochs" in text and "--task" in text
    with pytest.raises(SystemExit) as exit_:
        cli.main(["generators", "acceptence"])
    assert exit_.value.code == 2 and "invalid choice" in capsys.readouterr().err


def test_recognition_decision_is_the_sized_exact_test():
    from scipy.stats import binom

    from mammobench.commands.acceptance import recognition_decision

    real = {"per_class": {"mass": 0.8, "calcification": 0.6, "asymmetry": 0.7, "architectural_distortion": 0.5}}
    # p0 = 0.25, p1 = 0.25 + 0.15 × (0.65 − 0.25) = 0.31; 0.45 of 240 is far above the critical count
    strong = recognition_decision({"accuracy": 0.45, "n": 240, "chance": 0.25}, real)
    d = strong["design"]
    assert d["p1"] == pytest.approx(0.31) and binom.sf(d["critical"] - 1, 240, 0.25) <= 0.01
    assert d["power"] == pytest.approx(binom.sf(d["critical"] - 1, 240, 0.31)) and d["power"] < 0.99
    assert strong["verdict"] == "pass" and strong["n_needed"] > 240   # a pass is a valid rejection at any power
    n_needed = strong["n_needed"]
    at_chance = recognition_decision({"accuracy": 0.25, "n": n_needed, "chance": 0.25}, real)
    assert at_chance["verdict"] == "fail"            # n_needed images had power ≥ 0.99: a real failure
    assert at_chance["design"]["power"] >= 0.99
    few = recognition_decision({"accuracy": 0.25, "n": 20, "chance": 0.25}, real)
    assert few["verdict"] == "inconclusive" and few["design"]["power"] < 0.99
    lo, hi = few["ci"]
    assert lo < 0.25 < hi
