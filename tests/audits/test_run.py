"""Acceptance tests of run_audits: copies flagged, fresh samples at the calibrated rate, leakage, bias."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from threadpoolctl import threadpool_limits

from tests.helpers.audits import batch_from, make_manifest, make_view, render
from mammobench.audits import run_audits
from mammobench.audits.encoder import train_domain_encoder
from mammobench.cards import GeneratorCard
from mammobench.errors import ConfigError
from mammobench.io import to_json_text
from mammobench.results import minimal_result, validate_result

torch.set_num_threads(1)  # 2 shared cores: oversubscription makes small kernels 10x slower
threadpool_limits(1)


@pytest.fixture(scope="module")
def world():
    train = make_view(60, size=32, seed=0)
    holdout = make_view(100, size=32, seed=1, split="val", prefix="v")
    # 160 test patients: the bias audit's target shares come from this split; with 40 its sampling noise alone
    # put two same-law samples over the TV fail line 4/300 times (see the density margin below)
    test = make_view(160, size=32, seed=2, split="test", prefix="t")
    encoder = train_domain_encoder(train, seed=0, epochs=15)
    return train, holdout, test, encoder


def _card(conditioning=("density", "lesion_type", "label"), training_data=("tiny:train",)):
    return GeneratorCard.from_dict({"name": "g", "version": "1", "kind": "other", "licence": "MIT",
                                    "intended_use": "test", "conditioning": list(conditioning),
                                    "training_data": list(training_data)})


def _run(world, batch, *, cfg=None, training_patients=None, card=None, out_dir=None, only=None):
    train, holdout, test, encoder = world
    return run_audits(generator_name="g", train=train, holdout=holdout, synthetic=batch,
                      generator_training_patients=training_patients or train.patient_ids,
                      val_patients=holdout.patient_ids, test_patients=test.patient_ids, encoder=encoder,
                      config={"cas": False, "n_boot": 50, "n_boot_fd": 20, **(cfg or {})}, out_dir=out_dir,
                      card=card or _card(), test=test, only=only)


def _by_check(records):
    return {r["check"]: r for r in records}


def _fresh_batch(n_patients: int, seed: int, density_p=(0.25, 0.25, 0.25, 0.25)):
    manifest = make_manifest(n_patients, seed=seed, prefix="s", density_p=density_p)
    return batch_from(manifest, render(manifest, size=32, seed=seed + 1))


def test_perturbed_copies_are_flagged(world, tmp_path):
    train = world[0]
    rng = np.random.default_rng(5)
    idx = rng.integers(0, len(train), 100)
    copies = np.clip(train.images[idx] * 0.97 + 0.01 + rng.normal(0, 0.01, (100, 32, 32)), 0, 1).astype(np.float32)
    records = _run(world, batch_from(train.manifest.iloc[idx], copies), out_dir=tmp_path)
    checks = _by_check(records)
    # Margins over the data seeds 0, 1000, …, 7000 (MAMMOBENCH_TEST_SEED_OFFSET, the perturbation pass uses 1000):
    # copies flagged 0.98–1.00 in pixel space and 0.79–1.00 in feature space (the encoder is trained on the
    # seed's data), against a calibrated rate of 0.01; membership-inference AUC 0.73–0.82 (the 100 copies
    # cover ≈ 49 of the 60 members; chance is 0.5, its SE here ≈ 0.05). The bounds below sit ≥ 0.08 under
    # the lowest value seen; the former AUC bound 0.75 failed at seed 2000 (0.7295).
    for space, least in (("pixel", 0.9), ("feature", 0.6)):
        rec = checks[f"copy_detection_{space}"]
        assert rec["value"] >= least and rec["status"] == "fail", rec["message"]
    assert checks["membership_inference"]["value"] > 0.65
    assert checks["data_copying_ct"]["value"] < -3 and checks["data_copying_ct"]["status"] == "fail"
    assert checks["dcr_holdout_share"]["value"] > 0.95 and checks["dcr_holdout_share"]["status"] == "fail"
    gallery = np.load(tmp_path.parent / checks["copy_detection_pixel"]["evidence"]["pairs_file"])
    assert gallery["synthetic"].shape == gallery["nearest"].shape == (8, 32, 32)
    assert (gallery["distance"] <= gallery["threshold"]).all() and (gallery["similarity"] > 0.9).all()


def test_independent_samples_flagged_at_calibrated_rate(world, tmp_path):
    records = _run(world, _fresh_batch(100, seed=77), cfg={"cas": True, "cas_epochs": 8}, out_dir=tmp_path)
    checks = _by_check(records)
    # Margins (#17.1). Copy detection: 200 fresh images, each flagged with probability U = the held-out NN
    # distribution's mass below the calibrated threshold (the 2nd smallest of 200 held-out distances:
    # U ~ Beta(2, 199), mean α = 0.01). "pass" is a binomial test at 0.05 (k ≤ 5 of 200) — seen over 30 batch
    # seeds: k = 0–5, up to its edge — and even "not fail" (k ≤ 10) is missed with P = 0.0028 once the
    # threshold's own noise counts. Asserted instead: the flag rate stays within 10 α (k ≤ 20):
    # P(Bin(200, U) > 20) = 3e-6 per space (Monte Carlo over U).
    for space in ("pixel", "feature"):
        rec = checks[f"copy_detection_{space}"]
        assert rec["value"] <= 0.10, rec["message"]
        assert rec["evidence"]["holdout_flag_rate"] <= 0.01 and rec["alpha"] == 0.05 and "borderline" in rec
    assert checks["membership_inference"]["value"] < 0.65
    assert abs(checks["data_copying_ct"]["value"]) < 3
    # Not a single-sample decision at its threshold (#17.1): under independence the train share of the 200
    # nearest neighbours (100 patients, 200 images) is k/200 with k ~ Bin(200, 0.5); the audit's pass/warn turns on
    # p < 0.05, which a correct audit misses 5% of the time (seen: 57%, p=0.028). Margin instead: P(k >= 126) =
    # 1.4e-4, so this holds with probability >= 0.9998 (binomial; nearest-neighbour hubs add some overdispersion).
    dcr = checks["dcr_holdout_share"]
    assert dcr["value"] <= 0.625 and dcr["evidence"]["n"] == 200, dcr["message"]
    assert 0.0 <= dcr["evidence"]["p_value"] <= 1.0 and dcr["threshold"] == 0.6
    assert checks["patient_overlap"]["status"] == "pass"
    # density TV of two finite samples of one law (100 synthetic vs 160 test patients) against warn 0.15 /
    # fail 0.3: over 300 label draws TV 0.089 ± 0.040, max 0.236, "warn" 8.7 % — so "pass" would be a coin
    # near its threshold; "not fail" is 5.3 SD away (P ≈ 5e-8; 0/300 seen)
    assert checks["density_distribution"]["value"] < 0.3 and checks["density_distribution"]["status"] != "fail"
    # oracle agreement on honoured requests: over 12 batch seeds only 0.08–0.11 above the warn line (3 SD of a
    # 200-image rate: "pass" is too close to call) but ≥ 0.23 above the fail line (`threshold`, > 8 SD): not "fail"
    agreement = checks["density_agreement"]
    assert agreement["status"] != "fail" and agreement["value"] > agreement["threshold"] + 0.1, agreement["message"]
    assert checks["frechet_distance"]["evidence"]["ratio"] < 3
    assert set(checks["frechet_distance"]["evidence"]["by_condition"]["lesion_type"]) == {"none", "mass", "calcification"}
    assert checks["classification_accuracy_score_label"]["value"] > 0.5
    result = minimal_result("r")
    result["audits"] = records
    validate_result(result)
    to_json_text(records)  # JSON-serialisable
    for rec in records:
        assert rec["status"] in ("pass", "warn", "fail", "skip") and rec["message"], rec


def test_generator_fitted_on_test_patients_fails_leakage(world):
    train, _, test, _ = world
    leaked = set(train.patient_ids) | set(sorted(test.patient_ids)[:3])
    records = _run(world, _fresh_batch(20, seed=3), training_patients=leaked, cfg={"n_cells": 2})
    rec = _by_check(records)["patient_overlap"]
    assert rec["status"] == "fail" and rec["value"] == 3
    assert "3 test patient(s)" in rec["message"] and sorted(test.patient_ids)[0] in rec["message"]


def test_card_declaring_test_data_fails():
    from mammobench.audits.leakage import card_claims_record

    rec = card_claims_record("g", _card(training_data=("tiny:train", "tiny:test")))
    assert rec["status"] == "fail" and "tiny:test" in rec["message"]


def test_fatty_only_generator_flagged_by_bias_audit(world):
    records = _run(world, _fresh_batch(40, seed=9, density_p=(1.0, 0, 0, 0)), cfg={"n_cells": 2})
    checks = _by_check(records)
    assert checks["density_distribution"]["status"] == "fail"
    assert "most over-represented A (100%" in checks["density_distribution"]["message"]
    assert checks["density_distribution"]["evidence"]["distributions"]["density"]["synthetic"]["A"] == 1.0
    assert checks["density_distribution_oracle"]["status"] in ("warn", "fail")


def test_near_duplicate_across_splits_detected(world):
    from mammobench.audits.leakage import near_duplicate_record
    from mammobench.audits.memorisation import pixel_embedding

    train, holdout, _, _ = world
    query = np.concatenate([holdout.images[:20], train.images[:5]])
    rec = near_duplicate_record("g", "test", pixel_embedding(query), [f"q{i}" for i in range(25)],
                                pixel_embedding(train.images), train.manifest["patient_id"],
                                train.manifest["image_id"])
    assert rec["status"] == "fail" and rec["evidence"]["n_exact"] == 5


def test_clean_split_not_flagged_as_leaking_over_seeds():
    """Independent splits: a rate over 30 seeds against a binomial bound, not one seed's decision.

    The clean-split verdict is a single binomial test at α = 0.05 on a threshold estimated from 120
    training images, so one seed says "warn" (or "fail") too often to assert "pass" (issue #17). Measured
    over 200 seeds (60 train / 100 holdout patients, 32 px): "fail" 7/200 = 3.5 % (95 % CI 1.4–7.1 %),
    not "pass" 42/200 = 21 % (CI 15.6–27.3 %). Bounds over 30 seeds, at the upper CI end:
    P(fails > 7 | 7.1 %) = 0.0008 and P(not pass > 16 | 27.3 %) = 0.0007; a regression to a 40 % fail
    rate or 80 % not-pass is caught with P = 0.96 / 0.999. No exact duplicate is allowed on any seed.
    """
    from mammobench.audits.leakage import near_duplicate_record
    from mammobench.audits.memorisation import pixel_embedding

    statuses = []
    for s in range(30):
        train = make_view(60, size=32, seed=100 + 2 * s)
        holdout = make_view(100, size=32, seed=101 + 2 * s, split="val", prefix="v")
        clean = near_duplicate_record("g", "val", pixel_embedding(holdout.images), holdout.manifest["image_id"],
                                      pixel_embedding(train.images), train.manifest["patient_id"],
                                      train.manifest["image_id"])
        assert clean["evidence"]["n_exact"] == 0, clean["message"]
        statuses.append(clean["status"])
    assert statuses.count("fail") <= 7, statuses
    assert sum(st != "pass" for st in statuses) <= 16, statuses


def test_unknown_config_key_is_rejected(world):
    with pytest.raises(ConfigError, match="alpah"):
        _run(world, _fresh_batch(5, seed=4), cfg={"alpah": 0.1})


def test_adherence_fails_when_conditions_are_ignored(world):
    from mammobench.audits.adherence import adherence_audit
    from mammobench.audits.run import DEFAULT_CONFIG

    train, holdout, _, encoder = world
    batch = _fresh_batch(40, seed=11)
    honoured = adherence_audit("g", encoder=encoder, synthetic_images=batch.images, requested=batch.labels,
                               holdout_images=holdout.images, holdout_manifest=holdout.manifest,
                               conditioning=("density",), config=DEFAULT_CONFIG)[0]
    ignored_labels = batch.labels.copy()
    ignored_labels["density"] = np.random.default_rng(0).permutation(
        np.where(batch.labels["density"].to_numpy() == "A", "D", "A"))
    ignored = adherence_audit("g", encoder=encoder, synthetic_images=batch.images, requested=ignored_labels,
                              holdout_images=holdout.images, holdout_manifest=holdout.manifest,
                              conditioning=("density",), config=DEFAULT_CONFIG)[0]
    # margins (12 batch seeds of 100 patients): honoured agreement ≥ 0.23 above the fail line (only 0.08 above the
    # warn line, so not asserted "pass"), ignored ≥ 0.36 below it; here 80 images, SD of the rate ≈ 0.045: ≥ 5 SD
    assert honoured["status"] != "fail" and ignored["status"] == "fail", (honoured["message"], ignored["message"])
    assert honoured["value"] > honoured["threshold"] + 0.1 and ignored["value"] < ignored["threshold"] - 0.2
    assert set(honoured["evidence"]["synthetic"]) == {"A", "B", "C", "D", "overall"}


def test_bias_with_user_target_distribution(world):
    from mammobench.audits.bias import bias_audit
    from mammobench.audits.run import DEFAULT_CONFIG

    train = world[0]
    batch = _fresh_batch(40, seed=12)
    target = {"density": {"A": 0.1, "B": 0.4, "C": 0.4, "D": 0.1}}
    records = bias_audit("g", synthetic_labels=batch.labels, train_manifest=train.manifest, target=target,
                         config=DEFAULT_CONFIG)
    assert [r["check"] for r in records] == ["density_distribution"]
    tv = records[0]["value"]
    shares = records[0]["evidence"]["synthetic"]
    assert tv == pytest.approx(0.5 * sum(abs(shares[c] - target["density"][c]) for c in "ABCD"))


def test_only_runs_the_named_audits_with_the_same_records(world, tmp_path):
    """``only`` (the self-test's one audit per planted generator) runs a subset; each record is what the full
    run gives for it; an unknown audit name is a ConfigError that lists the valid ones."""
    batch = _fresh_batch(40, seed=21)
    full = _run(world, batch, out_dir=tmp_path / "full")
    for only in (["memorisation"], ["bias"], ["leakage", "adherence"]):
        part = _run(world, batch, out_dir=tmp_path / "_".join(only), only=only)
        assert part and {r["audit"] for r in part} == set(only)
        same = [r for r in full if r["audit"] in only]
        key = lambda recs: [(r["check"], r["status"], str(r["value"])) for r in recs]  # noqa: E731 (NaN-safe)
        assert key(part) == key(same)
    with pytest.raises(ConfigError, match="unknown audit"):
        _run(world, batch, only=["fidelity", "vibes"])
