"""The Obuchowski–Rockette (OR) model's building blocks for a fully crossed multi-reader multi-case study.

``reference/statistics.md`` B-6.2–B-6.3, as coded in MRMCaov and the University of Iowa OR-DBM MRMC
2.51: reader × treatment empirical (trapezoidal) AUCs θ̂_ij, their error covariance over case
sampling (jackknife over cases, or DeLong), the OR error covariances Var, Cov1 (same reader,
different treatment), Cov2 (different reader, same treatment), Cov3 (both different), the mean
squares MS(T), MS(R), MS(TR) of the AUC table, and the method-of-moments variance components

    σ²_TR = MS(TR) − Var + Cov1 + Cov2 − Cov3
    σ²_R  = [MS(R) − Var − (t − 1)·Cov1 + Cov2 + (t − 1)·Cov3 − σ²_TR] / t

(from E[MS(R)] = t·σ²_R + σ²_TR + Var − Cov2 + (t − 1)(Cov1 − Cov3) and E[MS(TR)] = σ²_TR + Var − Cov1
− Cov2 + Cov3; like OR-DBM MRMC, no truncation at 0 — "ANOVA estimates which can be negative").
The tests built on them live in :mod:`mammobench.stats.obuchowski_rockette`; the seeds-as-readers test of the
evaluation layer uses the same pieces.

Example:
    >>> theta = np.array([[0.80, 0.84, 0.78], [0.86, 0.88, 0.83]])
    >>> {k: round(v, 6) for k, v in mean_squares(theta).items()}
    {'ms_t': 0.00375, 'ms_r': 0.001517, 'ms_tr': 5e-05}
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from mammobench.errors import StatisticsError


@dataclass
class MRMCData:
    """A fully crossed study: ``ratings[t, r, c]`` for treatments × readers × cases, ``truth[c]`` in {0, 1}.

    Ratings may hold ``-inf`` (RJafroc's "case not marked": lower than every rating); other
    non-finite values are rejected by the readers that build this object.
    """

    ratings: np.ndarray
    truth: np.ndarray
    treatments: list[str]
    readers: list[str]
    cases: list[str]


def _placements(pos: np.ndarray, neg: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Empirical AUC (ties count 1/2) and its structural components V10 (positives), V01 (negatives)."""
    psi = (pos[:, None] > neg[None, :]).astype(float) + 0.5 * (pos[:, None] == neg[None, :])
    return float(psi.mean()), psi.mean(axis=1), psi.mean(axis=0)


def empirical_auc(truth: Any, rating: Any) -> float:
    """Empirical (trapezoidal, Mann–Whitney) AUC with ties counted one half.

    Example:
        >>> empirical_auc([0, 0, 1, 1], [1, 2, 2, 3])
        0.875
    """
    y = np.asarray(truth).astype(int)
    s = np.asarray(rating, dtype=float)
    if len(set(y.tolist())) < 2:
        raise StatisticsError("AUC needs both truth classes (0 and 1); got only one")
    return _placements(s[y == 1], s[y == 0])[0]


def reader_aucs(data: MRMCData) -> np.ndarray:
    """AUC of every treatment × reader, shape ``[t, r]``.

    Example:
        >>> d = MRMCData(np.array([[[1., 2., 3.]]]), np.array([0, 1, 1]), ["A"], ["r"], ["a", "b", "c"])
        >>> reader_aucs(d).tolist()
        [[1.0]]
    """
    pos, neg = data.truth == 1, data.truth == 0
    return np.array([[_placements(cube[pos], cube[neg])[0] for cube in per_t] for per_t in data.ratings])


def jackknife_cov(data: MRMCData) -> np.ndarray:
    """Jackknife-over-cases covariance of the ``t·r`` AUCs (MRMCaov ``jackknife``; index ``i·r + j``).

    Leave-one-out AUCs are exact closed forms of the structural components:
    removing positive i gives ``(m·AUC − V10_i)/(m − 1)``, removing negative j ``(n·AUC − V01_j)/(n − 1)``.
    ``Cov = (C − 1)/C · Σ_k (θ_(−k) − θ̄)(θ_(−k) − θ̄)ᵀ``.

    Raises:
        StatisticsError: fewer than 2 positive or 2 negative cases.
    """
    pos, neg = data.truth == 1, data.truth == 0
    m, n = int(pos.sum()), int(neg.sum())
    if m < 2 or n < 2:
        raise StatisticsError(f"jackknife needs at least 2 positive and 2 negative cases; got {m} and {n}")
    t, r, c = data.ratings.shape
    loo = np.empty((t * r, c))
    for k, (i, j) in enumerate(np.ndindex(t, r)):
        auc, v10, v01 = _placements(data.ratings[i, j, pos], data.ratings[i, j, neg])
        loo[k, pos] = (m * auc - v10) / (m - 1)
        loo[k, neg] = (n * auc - v01) / (n - 1)
    centred = loo - loo.mean(axis=1, keepdims=True)
    return (c - 1) / c * centred @ centred.T


def delong_cov(data: MRMCData) -> np.ndarray:
    """DeLong covariance of the ``t·r`` AUCs computed jointly on the shared cases (B-6.2).

    ``-inf`` ratings are replaced by a finite value below every rating first (ranks, hence the
    AUCs and placements, are unchanged).
    """
    from mammobench.stats.delong import delong_auc_cov

    t, r, c = data.ratings.shape
    flat = data.ratings.reshape(t * r, c).astype(float)
    finite = flat[np.isfinite(flat)]
    floor = (finite.min() - 1.0) if finite.size else 0.0
    _, cov = delong_auc_cov(data.truth, np.where(np.isneginf(flat), floor, flat))
    return np.asarray(cov, dtype=float)


def or_components(cov: np.ndarray, t: int, r: int) -> dict[str, float]:
    """Average the ``(t·r)²`` covariance entries into OR's Var, Cov1, Cov2, Cov3 (index = i·r + j).

    Example:
        >>> or_components(np.array([[4., 1.], [1., 4.]]), 1, 2)
        {'var': 4.0, 'cov1': nan, 'cov2': 1.0, 'cov3': nan}
    """
    ti, rj = np.divmod(np.arange(t * r), r)
    same_t, same_r = ti[:, None] == ti[None, :], rj[:, None] == rj[None, :]
    diag = np.eye(t * r, dtype=bool)

    def mean_of(mask: np.ndarray) -> float:
        return float(cov[mask].mean()) if mask.any() else float("nan")

    return {"var": mean_of(diag), "cov1": mean_of(same_r & ~same_t),
            "cov2": mean_of(same_t & ~same_r), "cov3": mean_of(~same_t & ~same_r)}


def mean_squares(theta: np.ndarray) -> dict[str, float]:
    """MS(T), MS(R), MS(TR) of the ``[t, r]`` AUC table (B-6.3); NaN where the df is 0."""
    t, r = theta.shape
    grand, by_t, by_r = theta.mean(), theta.mean(axis=1), theta.mean(axis=0)
    ms_t = r / (t - 1) * ((by_t - grand) ** 2).sum() if t > 1 else float("nan")
    ms_r = t / (r - 1) * ((by_r - grand) ** 2).sum() if r > 1 else float("nan")
    resid = theta - by_t[:, None] - by_r[None, :] + grand
    ms_tr = (resid ** 2).sum() / ((t - 1) * (r - 1)) if t > 1 and r > 1 else float("nan")
    return {"ms_t": float(ms_t), "ms_r": float(ms_r), "ms_tr": float(ms_tr)}


def variance_components(ms: dict[str, float], comp: dict[str, float], t: int) -> dict[str, float]:
    """Method-of-moments σ²_R and σ²_TR of the OR model (formulas in the module docstring).

    With one treatment σ²_R and σ²_TR cannot be separated: ``reader`` is then their sum
    ``MS(R) − Var + Cov2`` and ``treatment_reader`` is NaN.

    Example:
        >>> ms = {"ms_r": 0.00729418, "ms_tr": 0.00046221}
        >>> comp = {"var": 0.00078912, "cov1": 0.00029480, "cov2": 0.00023331, "cov3": 0.00021213}
        >>> {k: round(v, 8) for k, v in variance_components(ms, comp, 5).items()}
        {'reader': 0.00128372, 'treatment_reader': -1.093e-05}
    """
    var, c1, c2, c3 = comp["var"], comp["cov1"], comp["cov2"], comp["cov3"]
    if t == 1:
        return {"reader": float(ms["ms_r"] - var + c2), "treatment_reader": float("nan")}
    sigma_tr = ms["ms_tr"] - var + c1 + c2 - c3
    sigma_r = (ms["ms_r"] - var - (t - 1) * c1 + c2 + (t - 1) * c3 - sigma_tr) / t
    return {"reader": float(sigma_r), "treatment_reader": float(sigma_tr)}


def correlations(comp: dict[str, float]) -> dict[str, float]:
    """Cov1–Cov3 as correlations (``Cov_k / Var``), as the OR-DBM MRMC listing prints them.

    Example:
        >>> correlations({"var": 2.0, "cov1": 1.0, "cov2": 0.5, "cov3": 0.25})
        {'cov1': 0.5, 'cov2': 0.25, 'cov3': 0.125}
    """
    var = comp["var"]
    return {k: float(comp[k] / var) if var > 0 else float("nan") for k in ("cov1", "cov2", "cov3")}
