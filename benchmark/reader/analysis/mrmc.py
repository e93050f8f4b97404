"""Obuchowski–Rockette MRMC analysis with Hillis denominator degrees of freedom.

Implements ``reference/statistics.md`` B-6.2–B-6.4 as coded in the R package MRMCaov
(``.summary.mrmc_rrrc``): reader × treatment empirical (trapezoidal) AUCs, their error covariance
over case sampling (jackknife over cases, or DeLong), the OR covariance components Var, Cov1–Cov3,
the mean squares, and the random-readers-random-cases (RRRC) F test with Hillis (2007) df, plus the
fixed-readers (FRRC) and fixed-cases (RRFC) variants, per-treatment AUCs with CIs and pairwise
treatment differences with CIs.

The input is an :class:`MRMCData` (a fully crossed rating cube, see :mod:`mammobench.reader.analysis.io`).

Example:
    >>> import numpy as np
    >>> from mammobench.reader.analysis.io import MRMCData
    >>> rng = np.random.default_rng(0)
    >>> truth = np.r_[np.zeros(20, int), np.ones(20, int)]
    >>> ratings = rng.normal(size=(2, 3, 40)) + truth
    >>> d = MRMCData(ratings, truth, ["A", "B"], ["r1", "r2", "r3"], [str(i) for i in range(40)])
    >>> res = or_hillis(d)
    >>> [t["treatment"] for t in res["treatments"]]
    ['A', 'B']
"""
from __future__ import annotations

from itertools import combinations
from typing import Any

import numpy as np
from scipy import stats

from mammobench.errors import StatisticsError
from mammobench.reader.analysis.io import MRMCData

COV_METHODS = ("jackknife", "delong")


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
    if y.min(initial=1) == y.max(initial=0) or len(set(y.tolist())) < 2:
        raise StatisticsError("AUC needs both truth classes (0 and 1); got only one")
    return _placements(s[y == 1], s[y == 0])[0]


def reader_aucs(data: MRMCData) -> np.ndarray:
    """AUC of every treatment × reader, shape ``[t, r]``."""
    pos, neg = data.truth == 1, data.truth == 0
    return np.array([[_placements(cube[pos], cube[neg])[0] for cube in per_t] for per_t in data.ratings])


def jackknife_cov(data: MRMCData) -> np.ndarray:
    """Jackknife-over-cases covariance of the ``t·r`` AUCs (MRMCaov ``jackknife``).

    Leave-one-out AUCs are exact closed forms of the structural components:
    removing positive i gives ``(m·AUC − V10_i)/(m − 1)``, removing negative j ``(n·AUC − V01_j)/(n − 1)``.
    ``Cov = (C − 1)/C · Σ_k (θ_(−k) − θ̄)(θ_(−k) − θ̄)ᵀ``.
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
    """DeLong covariance of the ``t·r`` AUCs computed jointly on the shared cases (B-6.2)."""
    from mammobench.stats.delong import delong_auc_cov

    t, r, c = data.ratings.shape
    _, cov = delong_auc_cov(data.truth, data.ratings.reshape(t * r, c))
    return np.asarray(cov, dtype=float)


def or_components(cov: np.ndarray, t: int, r: int) -> dict[str, float]:
    """Average the ``(t·r)²`` covariance entries into OR's Var, Cov1, Cov2, Cov3 (index = i·r + j)."""
    ti, rj = np.divmod(np.arange(t * r), r)
    same_t, same_r = ti[:, None] == ti[None, :], rj[:, None] == rj[None, :]
    diag = np.eye(t * r, dtype=bool)

    def mean_of(mask: np.ndarray) -> float:
        return float(cov[mask].mean()) if mask.any() else float("nan")

    return {"var": mean_of(diag), "cov1": mean_of(same_r & ~same_t),
            "cov2": mean_of(same_t & ~same_r), "cov3": mean_of(~same_t & ~same_r)}


def mean_squares(theta: np.ndarray) -> dict[str, float]:
    """MS(T), MS(R), MS(TR) of the ``[t, r]`` AUC table (B-6.3)."""
    t, r = theta.shape
    grand, by_t, by_r = theta.mean(), theta.mean(axis=1), theta.mean(axis=0)
    ms_t = r / (t - 1) * ((by_t - grand) ** 2).sum() if t > 1 else float("nan")
    ms_r = t / (r - 1) * ((by_r - grand) ** 2).sum()
    resid = theta - by_t[:, None] - by_r[None, :] + grand
    ms_tr = (resid ** 2).sum() / ((t - 1) * (r - 1)) if t > 1 else float("nan")
    return {"ms_t": float(ms_t), "ms_r": float(ms_r), "ms_tr": float(ms_tr)}


def _treatment_cis(theta: np.ndarray, cov: np.ndarray, names: list[str], alpha: float) -> list[dict]:
    """Per-treatment reader-averaged AUC with the single-test OR–Hillis CI (B-6.4)."""
    t, r = theta.shape
    out = []
    for i, name in enumerate(names):
        block = cov[i * r:(i + 1) * r, i * r:(i + 1) * r]
        comp = or_components(block, 1, r)
        ms_r = float(((theta[i] - theta[i].mean()) ** 2).sum() / (r - 1))
        cov2 = max(comp["cov2"], 0.0) if r > 1 else 0.0
        se = float(np.sqrt(ms_r / r + cov2))
        df = (ms_r + r * cov2) ** 2 / (ms_r ** 2 / (r - 1)) if ms_r > 0 else float("inf")
        half = stats.t.ppf(1 - alpha / 2, df) * se
        mean = float(theta[i].mean())
        out.append({"treatment": name, "auc": mean, "se": se, "df": float(df), "ci_low": mean - half,
                    "ci_high": mean + half, "ms_r": ms_r, "var": comp["var"], "cov2": comp["cov2"]})
    return out


def _rrrc_test(theta: np.ndarray, ms: dict, comp: dict, names: list[str], alpha: float) -> dict:
    """RRRC OR F test with Hillis df and pairwise treatment differences with CIs."""
    t, r = theta.shape
    denom = ms["ms_tr"] + r * max(comp["cov2"] - comp["cov3"], 0.0)
    f_stat = ms["ms_t"] / denom
    ddf = denom ** 2 / (ms["ms_tr"] ** 2 / ((t - 1) * (r - 1)))
    p = float(stats.f.sf(f_stat, t - 1, ddf))
    se = float(np.sqrt(2.0 * denom / r))
    q = stats.t.ppf(1 - alpha / 2, ddf)
    diffs = _pairwise(theta, names, se, q, lambda z: 2 * stats.t.sf(abs(z), ddf))
    return {"f": float(f_stat), "df1": t - 1, "df2": float(ddf), "p_value": p, "denominator": float(denom),
            "se_difference": se, "differences": diffs}


def _frrc_test(theta: np.ndarray, ms: dict, comp: dict, names: list[str], alpha: float) -> dict:
    """Fixed readers, random cases: chi-square test and normal CIs."""
    t, r = theta.shape
    denom = comp["var"] - comp["cov1"] + (r - 1) * max(comp["cov2"] - comp["cov3"], 0.0)
    chisq = (t - 1) * ms["ms_t"] / denom
    se = float(np.sqrt(2.0 * denom / r))
    diffs = _pairwise(theta, names, se, stats.norm.ppf(1 - alpha / 2), lambda z: 2 * stats.norm.sf(abs(z)))
    return {"chisq": float(chisq), "df": t - 1, "p_value": float(stats.chi2.sf(chisq, t - 1)),
            "denominator": float(denom), "se_difference": se, "differences": diffs}


def _rrfc_test(theta: np.ndarray, ms: dict, names: list[str], alpha: float) -> dict:
    """Random readers, fixed cases: F = MS(T)/MS(TR) on ((t−1), (t−1)(r−1)) df."""
    t, r = theta.shape
    ddf = (t - 1) * (r - 1)
    f_stat = ms["ms_t"] / ms["ms_tr"]
    se = float(np.sqrt(2.0 * ms["ms_tr"] / r))
    diffs = _pairwise(theta, names, se, stats.t.ppf(1 - alpha / 2, ddf), lambda z: 2 * stats.t.sf(abs(z), ddf))
    return {"f": float(f_stat), "df1": t - 1, "df2": float(ddf), "p_value": float(stats.f.sf(f_stat, t - 1, ddf)),
            "se_difference": se, "differences": diffs}


def _pairwise(theta: np.ndarray, names: list[str], se: float, q: float, p_of_z) -> list[dict]:
    means = theta.mean(axis=1)
    out = []
    for a, b in combinations(range(len(names)), 2):
        diff = float(means[a] - means[b])
        out.append({"comparison": f"{names[a]} - {names[b]}", "estimate": diff, "se": se,
                    "ci_low": diff - q * se, "ci_high": diff + q * se, "p_value": float(p_of_z(diff / se))})
    return out


def or_hillis(data: MRMCData, *, cov_method: str = "jackknife", alpha: float = 0.05) -> dict[str, Any]:
    """Full Obuchowski–Rockette analysis (RRRC with Hillis df, FRRC, RRFC) of a crossed study.

    Args:
        data: the crossed rating cube (``ratings[t, r, c]``, ``truth[c]`` in {0, 1}).
        cov_method: ``"jackknife"`` (default, as MRMCaov/RJafroc) or ``"delong"``.
        alpha: two-sided level of the CIs and tests.

    Returns:
        A JSON-ready dict: ``reader_aucs``, ``treatments`` (AUC, SE, df, CI), ``mean_squares``,
        ``covariance`` (var, cov1–cov3), ``variance_components``, ``rrrc``, ``frrc``, ``rrfc``.

    Example:
        >>> # see the module docstring
    """
    if cov_method not in COV_METHODS:
        raise StatisticsError(f"unknown covariance method {cov_method!r}; use one of {list(COV_METHODS)}")
    t, r, c = data.ratings.shape
    if r < 2:
        raise StatisticsError(f"OR analysis needs at least 2 readers; the data have {r} ({data.readers})")
    theta = reader_aucs(data)
    cov = jackknife_cov(data) if cov_method == "jackknife" else delong_cov(data)
    comp, ms = or_components(cov, t, r), mean_squares(theta)
    names = [str(x) for x in data.treatments]
    result: dict[str, Any] = {
        "method": "Obuchowski-Rockette", "auc": "empirical (trapezoidal)", "cov_method": cov_method,
        "alpha": alpha, "n_treatments": t, "n_readers": r, "n_cases": c,
        "n_positive": int((data.truth == 1).sum()), "n_negative": int((data.truth == 0).sum()),
        "reader_aucs": [{"treatment": names[i], "reader": str(data.readers[j]), "auc": float(theta[i, j])}
                        for i, j in np.ndindex(t, r)],
        "treatments": _treatment_cis(theta, cov, names, alpha), "mean_squares": ms, "covariance": comp,
    }
    result["variance_components"] = _variance_components(ms, comp, t)
    if t > 1:
        result["rrrc"] = _rrrc_test(theta, ms, comp, names, alpha)
        result["frrc"] = _frrc_test(theta, ms, comp, names, alpha)
        result["rrfc"] = _rrfc_test(theta, ms, names, alpha)
    return result


def _variance_components(ms: dict, comp: dict, t: int) -> dict[str, float]:
    """Method-of-moments σ²_R and σ²_TR from the expected mean squares of the OR model."""
    var, c1, c2, c3 = comp["var"], comp["cov1"], comp["cov2"], comp["cov3"]
    if t == 1:
        return {"reader": ms["ms_r"] - var + c2, "treatment_reader": float("nan")}
    sigma_r = (ms["ms_r"] - var - (t - 1) * c1 + c2 + (t - 1) * c3) / t
    sigma_tr = ms["ms_tr"] - var + c1 + c2 - c3
    return {"reader": float(sigma_r), "treatment_reader": float(sigma_tr)}
