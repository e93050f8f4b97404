"""Arm-vs-control AUC test that counts training randomness: seeds as random readers (statistics B-1.4).

A paired DeLong test on seed-averaged scores treats the trained detectors as fixed, so two arms whose
detectors differ only by training noise can come out "significant". Following the method sheet
(B-1.4), each arm is a *modality* and each training seed a random *reader*: the Obuchowski–Rockette
RRRC analysis with Hillis degrees of freedom on the ``2 × S`` AUC table then covers new test patients
AND new training runs. The case-sampling covariance is a jackknife over **patients** (clusters), since
a patient contributes several images.

Example:
    >>> rng = np.random.default_rng(0)
    >>> y = np.r_[np.zeros(40, bool), np.ones(40, bool)]
    >>> a = rng.normal(size=(3, 80)) + y
    >>> b = rng.normal(size=(3, 80)) + y
    >>> res = seeds_as_readers_test(y, a, b, patients=np.arange(80) // 2)
    >>> 0.0 <= res["p_value"] <= 1.0
    True
"""
from __future__ import annotations

import numpy as np

from mammobench.errors import StatisticsError
from mammobench.stats.mrmc import mean_squares, or_components
from mammobench.stats.obuchowski_rockette import rrrc_test

METHOD = "OR-Hillis RRRC (training seeds as random readers, patient jackknife)"


def _loo_patient_aucs(y: np.ndarray, score: np.ndarray, groups: np.ndarray, n_groups: int) -> tuple[float, np.ndarray]:
    """Full AUC and the leave-one-patient-out AUCs (ties count one half)."""
    pos, neg = score[y], score[~y]
    psi = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    gp, gn = groups[y], groups[~y]
    m_p = np.bincount(gp, minlength=n_groups).astype(float)
    n_p = np.bincount(gn, minlength=n_groups).astype(float)
    rows = np.bincount(gp, weights=psi.sum(axis=1), minlength=n_groups)
    cols = np.bincount(gn, weights=psi.sum(axis=0), minlength=n_groups)
    onehot_p = np.zeros((len(gp), n_groups))
    onehot_p[np.arange(len(gp)), gp] = 1.0
    cross = onehot_p.T @ psi  # [G, n_neg]: psi summed over each patient's positives
    inner = np.bincount(gn, weights=cross[gn, np.arange(len(gn))], minlength=n_groups)
    total, m, n = psi.sum(), len(pos), len(neg)
    denom = (m - m_p) * (n - n_p)
    with np.errstate(invalid="ignore", divide="ignore"):
        loo = (total - rows - cols + inner) / denom
    return float(total / (m * n)), loo


def patient_jackknife_cov(y: np.ndarray, scores: np.ndarray, patients: np.ndarray) -> np.ndarray:
    """Jackknife-over-patients covariance of the AUCs of the rows of ``scores`` ``[k, n_cases]``.

    Raises:
        StatisticsError: when removing some patient leaves one class empty.
    """
    groups, n_groups = _groups(patients)
    loo = np.vstack([_loo_patient_aucs(y, s, groups, n_groups)[1] for s in scores])
    if not np.isfinite(loo).all():
        raise StatisticsError("patient jackknife undefined: one patient holds every case of a class")
    centred = loo - loo.mean(axis=1, keepdims=True)
    return (n_groups - 1) / n_groups * centred @ centred.T


def seeds_as_readers_test(y, arm_scores, control_scores, *, patients, alpha: float = 0.05) -> dict:
    """OR–Hillis RRRC test of AUC(arm) − AUC(control) with seeds as random readers.

    Args:
        y: bool labels ``[n]``.
        arm_scores, control_scores: ``[S, n]`` scores of the same S seeds on the same cases.
        patients: patient id per case (jackknife clusters).
        alpha: two-sided level.

    Returns:
        dict with ``difference, ci_low, ci_high, p_value, f, df2, se, n_seeds``.
    """
    y = np.asarray(y, bool)
    a, c = np.atleast_2d(arm_scores), np.atleast_2d(control_scores)
    if a.shape != c.shape or a.shape[0] < 2:
        raise StatisticsError(f"seeds-as-readers test needs >= 2 paired seeds; got shapes {a.shape} and {c.shape}")
    if y.all() or (~y).all():
        raise StatisticsError("seeds-as-readers test needs both classes")
    scores = np.vstack([a, c])  # index = treatment * S + seed
    theta = np.array([[_loo_patient_aucs(y, row, *_groups(patients))[0] for row in block] for block in (a, c)])
    return paired_or_hillis(theta, patient_jackknife_cov(y, scores, patients), alpha)


def paired_or_hillis(theta: np.ndarray, cov: np.ndarray, alpha: float = 0.05) -> dict:
    """OR–Hillis RRRC comparison of two treatments from their ``[2, S]`` FOM table and its case covariance.

    ``cov`` is the ``2S × 2S`` covariance of the FOMs over case (patient) sampling, index = treatment·S + seed
    (e.g. a jackknife). Any figure of merit works: the AUC here, the wAFROC FOM in
    :mod:`mammobench.evaluation.detection_compare`. The test itself is
    :func:`mammobench.stats.obuchowski_rockette.rrrc_test`.

    Returns:
        dict with ``difference`` (treatment 0 − 1), ``ci_low, ci_high, p_value, f, df2, se, n_seeds``, the
        variance components the test is built from — ``ms_tr`` (treatment × seed mean square) and
        ``cov_case`` (``Cov2 − Cov3``, unclipped) — and ``note`` when no seed-to-seed and no case variance
        leaves the CI inestimable.

    Example:
        >>> r = paired_or_hillis(np.array([[0.8, 0.82, 0.81], [0.75, 0.76, 0.74]]), np.eye(6) * 1e-4)
        >>> round(r["difference"], 3), r["p_value"] < 0.05
        (0.06, True)
    """
    s = theta.shape[1]
    comp, ms = or_components(cov, 2, s), mean_squares(theta)
    rrrc = rrrc_test(theta, ms, comp, ["arm", "control"], alpha)
    diff = rrrc["differences"][0]
    out = {"difference": diff["estimate"], "ci_low": diff["ci_low"], "ci_high": diff["ci_high"],
           "p_value": diff["p_value"], "f": rrrc["f"], "df2": rrrc["df2"], "se": diff["se"], "n_seeds": s,
           "ms_tr": float(ms["ms_tr"]), "cov_case": float(comp["cov2"] - comp["cov3"])}
    if "note" in rrrc:  # no seed-to-seed and no patient variance: a CI cannot be estimated
        out["note"] = rrrc["note"]
    return out


def _groups(patients) -> tuple[np.ndarray, int]:
    _, groups = np.unique(np.asarray(patients), return_inverse=True)
    return groups, int(groups.max()) + 1
