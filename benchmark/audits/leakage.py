"""Leakage: generator training patients vs the detector's validation/test patients, card claims, near-duplicates.

* **Patient overlap** is a hard failure: status ``fail`` naming the count and the first overlapping
  patient ids. The run still finishes (the report shows the failure); ``mammobench submit`` refuses
  the generator with :class:`~mammobench.errors.LeakageError` and the leaderboard build rejects it.
* **Card claims**: a card whose ``training_data`` names a ``val``/``test`` split fails; one whose
  ``training_patients_sha256`` differs from the hash of the training split the harness handed over
  is a warning (the generator was trained on something else).
* **Near-duplicates across splits**: each val/test image's nearest training image in pixel space
  (``1 − correlation``); the threshold is the α-quantile of the leave-patient-out NN distances
  *within* the training split (a null that uses no val/test data), so independent splits are
  flagged at ≈ α; exact-duplicate pairs (correlation ≥ 0.999) always fail.

Example:
    >>> rec = patient_overlap_record("g", {"p1", "p2"}, val_patients={"p9"}, test_patients={"p2"})
    >>> rec["status"], "p2" in rec["message"]
    ('fail', True)
"""
from __future__ import annotations

import hashlib
from typing import Any, Iterable

import numpy as np
from scipy import stats

from mammobench.audits.common import audit_record, clopper_pearson
from mammobench.audits.memorisation import P_LEVEL, calibrated_threshold, nearest

_HELD_OUT_SPLITS = ("val", "valid", "validation", "test", "testing", "holdout", "all")
EXACT_DUPLICATE_DISTANCE = float(np.sqrt(2 * (1 - 0.999)))  # correlation ≥ 0.999


def patients_sha256(patient_ids: Iterable[str]) -> str:
    """SHA-256 of the sorted, newline-joined patient ids (the card's ``training_patients_sha256``)."""
    return hashlib.sha256("\n".join(sorted(str(p) for p in patient_ids)).encode("utf-8")).hexdigest()


def patient_overlap_record(generator: str, training_patients: Iterable[str] | None, *, val_patients: Iterable[str],
                           test_patients: Iterable[str], show: int = 5) -> dict:
    """``fail`` when the generator's training patients include any val/test patient, naming them.

    ``training_patients=None`` (unknown, e.g. a folder submission without a patient list) → ``skip``.
    """
    if training_patients is None:
        return audit_record(generator, "leakage", "patient_overlap", "skip",
                            message="the generator's training patients are unknown; pass them (e.g. "
                                    "`mammobench audit --training-patients FILE`) to check overlap")
    train = {str(p) for p in training_patients}
    overlaps = {split: sorted(train & {str(p) for p in ids})
                for split, ids in (("val", val_patients), ("test", test_patients))}
    total = sum(len(v) for v in overlaps.values())
    evidence = {"n_generator_training_patients": len(train),
                **{f"n_overlap_{k}": len(v) for k, v in overlaps.items()},
                **{f"overlap_{k}_first": v[:show] for k, v in overlaps.items()}}
    if not total:
        return audit_record(generator, "leakage", "patient_overlap", "pass", value=0, threshold=0, evidence=evidence,
                            message=f"none of the generator's {len(train)} training patients is a val/test patient")
    parts = [f"{len(v)} {k} patient(s) (e.g. {', '.join(v[:show])})" for k, v in overlaps.items() if v]
    return audit_record(generator, "leakage", "patient_overlap", "fail", value=total, threshold=0, evidence=evidence,
                        message=(f"generator '{generator}' was trained on {' and '.join(parts)}; its results would "
                                 "be contaminated — refit it on the training split only"))


def card_claims_record(generator: str, card: Any, *, training_patients: Iterable[str] | None = None) -> dict:
    """Check the generator card's declared training data against the held-out splits."""
    if card is None:
        return audit_record(generator, "leakage", "card_training_data", "skip", message="no generator card given")
    declared = [str(d) for d in getattr(card, "training_data", ())]
    bad = [d for d in declared if d.rsplit(":", 1)[-1].strip().lower() in _HELD_OUT_SPLITS]
    evidence = {"training_data": declared}
    if bad:
        return audit_record(generator, "leakage", "card_training_data", "fail", value=len(bad), threshold=0,
                            evidence=evidence, message=(f"card declares training data {bad} overlapping the "
                                                        "held-out validation/test data; results cannot be trusted"))
    claimed = getattr(card, "training_patients_sha256", "")
    if claimed and training_patients is not None:
        actual = patients_sha256(training_patients)
        evidence.update(claimed=claimed, actual=actual)
        if claimed != actual:
            return audit_record(generator, "leakage", "card_training_data", "warn", evidence=evidence,
                                message=("card's training_patients_sha256 does not match the training split the "
                                         "harness provided; the generator was trained on other patients"))
    return audit_record(generator, "leakage", "card_training_data", "pass", evidence=evidence,
                        message=f"card declares training data {declared or '(none listed)'}; no held-out split named")


def leave_patient_out_nn(train_emb: np.ndarray, patients: np.ndarray) -> np.ndarray:
    """Each training image's NN distance to training images of *other* patients."""
    sq = (train_emb ** 2).sum(1)
    dist = np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2 * train_emb @ train_emb.T, 0))
    dist[patients[:, None] == patients[None, :]] = np.inf
    return dist.min(axis=1)


def near_duplicate_record(generator: str, split: str, query_emb: np.ndarray, query_ids: Any, train_emb: np.ndarray,
                          train_patients: Any, train_ids: Any, *, alpha: float = 0.01, fail_rate: float = 0.05,
                          show: int = 5) -> dict:
    """Near-duplicates of ``split`` images in the training split, with the leave-patient-out threshold."""
    null = leave_patient_out_nn(train_emb, np.asarray(train_patients).astype(str))
    null = null[np.isfinite(null)]
    threshold = max(calibrated_threshold(null, alpha), EXACT_DUPLICATE_DISTANCE) if len(null) else EXACT_DUPLICATE_DISTANCE
    dist, idx = nearest(query_emb, train_emb)
    flags, exact = dist < threshold, dist < EXACT_DUPLICATE_DISTANCE
    k, n = int(flags.sum()), len(flags)
    p_excess = float(stats.binomtest(k, n, alpha, alternative="greater").pvalue) if n else 1.0
    order = np.argsort(dist)[:show]
    pairs = [{"query": str(np.asarray(query_ids)[i]), "train": str(np.asarray(train_ids)[idx[i]]),
              "distance": float(dist[i])} for i in order]
    status = "fail" if exact.any() or (p_excess < P_LEVEL and k / max(n, 1) > fail_rate) else \
        "warn" if p_excess < P_LEVEL else "pass"
    # exact copies fail whatever the p; otherwise the status is the p's decision and carries its margin
    margin = {} if exact.any() else {"p": p_excess, "alpha": P_LEVEL}
    return audit_record(generator, "leakage", f"near_duplicates_{split}", status, value=k / max(n, 1),
                        threshold=threshold, **margin, evidence={"n": n, "n_flagged": k, "n_exact": int(exact.sum()),
                                                                 "flag_ci": list(clopper_pearson(k, n)), "alpha": alpha,
                                                                 "p_excess": p_excess, "closest": pairs, "space": "pixel"},
                        message=(f"{k}/{n} {split} images are near-duplicates of training images "
                                 f"({int(exact.sum())} exact); ≈{100 * alpha:.0f}% expected by chance"))
