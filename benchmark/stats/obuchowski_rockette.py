"""Obuchowski–Rockette analysis with Hillis denominator degrees of freedom (``reference/statistics.md`` B-6.4).

The three analyses of the University of Iowa OR-DBM MRMC 2.51 listing, quantity for quantity
(checked digit for digit against its listings for the Franken and FedRoc data in
``tests/stats/test_or_hillis_listings.py``):

* random readers and random cases (RRRC): ``F = MS(T) / [MS(TR) + r·max(Cov2 − Cov3, 0)]`` on
  ``(t − 1, ddf_H)`` df, pairwise differences with ``SE = sqrt(2/r · denominator)``, and per-treatment
  CIs from that treatment's own ``MS(R)`` and ``Cov2`` (``ddf_H_single``);
* fixed readers, random cases (FRRC): χ² test with ``Var − Cov1 + (r − 1)·max(Cov2 − Cov3, 0)``,
  per-treatment and per-reader normal CIs;
* random readers, fixed cases (RRFC): the treatment × reader ANOVA (``MS(T)/MS(TR)``).

A degenerate study (an error term of 0, e.g. identical readers and no case variance) gives NaN
statistics with a ``note`` instead of an infinite F or a zero-width interval.

Example:
    >>> rng = np.random.default_rng(0)
    >>> truth = np.r_[np.zeros(20, int), np.ones(20, int)]
    >>> d = MRMCData(rng.normal(size=(2, 3, 40)) + truth, truth, ["A", "B"], ["r1", "r2", "r3"],
    ...              [str(i) for i in range(40)])
    >>> res = or_hillis(d)
    >>> [t["treatment"] for t in res["treatments"]], res["rrrc"]["df1"]
    (['A', 'B'], 1)
"""
from __future__ import annotations

from itertools import combinations
from typing import Any, Callable

import numpy as np
from scipy import stats

from mammobench.errors import StatisticsError
from mammobench.stats.mrmc import (MRMCData, correlations, delong_cov, jackknife_cov, mean_squares, or_components,
                                   reader_aucs, variance_components)

COV_METHODS = ("jackknife", "delong")
NAN = float("nan")
#: mean squares and error terms below this (AUC² units) are floating-point residue of identical AUCs, i.e. 0
TINY = 1e-24


def hillis_ddf(denominator: float, ms_tr: float, t: int, r: int) -> float:
    """Hillis (2007) ``ddf_H = D² / (MS(TR)² / ((t − 1)(r − 1)))``; ∞ when MS(TR) is 0.

    Example:
        >>> round(hillis_ddf(0.00054695, 0.00046221, 5, 4), 2)
        16.8
    """
    if ms_tr <= TINY:
        return float("inf")
    return float(denominator ** 2 / (ms_tr ** 2 / ((t - 1) * (r - 1))))


def _interval(estimate: float, se: float, df: float | None, alpha: float) -> dict[str, float]:
    """Estimate ± quantile·SE with its two-sided p-value (t with ``df``, normal when ``df`` is None)."""
    if not (np.isfinite(se) and se > 0):
        return {"estimate": estimate, "se": se, "ci_low": NAN, "ci_high": NAN, "statistic": NAN, "p_value": NAN}
    dist = stats.norm if df is None else stats.t(df)
    q, z = float(dist.ppf(1 - alpha / 2)), estimate / se
    return {"estimate": estimate, "se": se, "ci_low": estimate - q * se, "ci_high": estimate + q * se,
            "statistic": float(z), "p_value": float(2 * dist.sf(abs(z)))}


def _pairwise(theta: np.ndarray, names: list[str], se: float, df: float | None, alpha: float) -> list[dict]:
    means = theta.mean(axis=1)
    out = []
    for a, b in combinations(range(len(names)), 2):
        row = _interval(float(means[a] - means[b]), se, df, alpha)
        out.append({"comparison": f"{names[a]} - {names[b]}", **row, "df": df})
    return out


def _blocks(cov: np.ndarray, t: int, r: int) -> list[dict[str, float]]:
    """OR components of each treatment's own ``r × r`` covariance block."""
    return [or_components(cov[i * r:(i + 1) * r, i * r:(i + 1) * r], 1, r) for i in range(t)]


def _treatment_rows(theta: np.ndarray, cov: np.ndarray, names: list[str], alpha: float,
                    se_df: Callable[[float, dict, int], tuple[float, float | None]]) -> list[dict]:
    """Per-treatment reader-averaged AUC with the CI that ``se_df(ms_r, block, r)`` defines."""
    t, r = theta.shape
    out = []
    for i, comp in enumerate(_blocks(cov, t, r)):
        ms_r = float(((theta[i] - theta[i].mean()) ** 2).sum() / (r - 1))
        se, df = se_df(ms_r, comp, r)
        row = _interval(float(theta[i].mean()), se, df, alpha)
        out.append({"treatment": names[i], "auc": row["estimate"], "se": se, "df": df, "ci_low": row["ci_low"],
                    "ci_high": row["ci_high"], "ms_r": ms_r, "var": comp["var"], "cov2": comp["cov2"]})
    return out


def _rrrc_single(ms_r: float, comp: dict, r: int) -> tuple[float, float]:
    cov2 = max(comp["cov2"], 0.0)
    df = (ms_r + r * cov2) ** 2 / (ms_r ** 2 / (r - 1)) if ms_r > TINY else float("inf")
    return float(np.sqrt(ms_r / r + cov2)), float(df)


def _frrc_single(ms_r: float, comp: dict, r: int) -> tuple[float, None]:
    return float(np.sqrt(max(comp["var"] + (r - 1) * max(comp["cov2"], 0.0), 0.0) / r)), None


def _rrfc_single(ms_r: float, comp: dict, r: int) -> tuple[float, float]:
    return float(np.sqrt(ms_r / r)), float(r - 1)


def single_treatment_cis(theta: np.ndarray, cov: np.ndarray, names: list[str], alpha: float = 0.05) -> list[dict]:
    """Per-treatment AUC with the single-test OR–Hillis CI (random readers and cases, B-6.4).

    ``SE = sqrt(MS(R)/r + max(Cov2, 0))``, ``df = (MS(R) + r·max(Cov2, 0))² / (MS(R)²/(r − 1))``.

    Example:
        >>> theta = np.array([[0.80, 0.84, 0.78]])
        >>> row = single_treatment_cis(theta, np.eye(3) * 1e-3, ["A"])[0]
        >>> round(row["auc"], 4), round(row["df"], 1)
        (0.8067, 2.0)
    """
    return _treatment_rows(theta, cov, names, alpha, _rrrc_single)


def rrrc_test(theta: np.ndarray, ms: dict, comp: dict, names: list[str], alpha: float = 0.05) -> dict:
    """RRRC OR F test with Hillis df and the pairwise treatment differences with t CIs.

    Args:
        theta: ``[t, r]`` AUC table; ms: :func:`~mammobench.stats.mrmc.mean_squares` of it;
        comp: :func:`~mammobench.stats.mrmc.or_components` of the AUCs' covariance;
        names: treatment names; alpha: two-sided level.

    Example:
        >>> theta = np.array([[0.80, 0.84, 0.78], [0.86, 0.88, 0.83]])
        >>> comp = {"var": 1e-3, "cov1": 5e-4, "cov2": 4e-4, "cov3": 3e-4}
        >>> res = rrrc_test(theta, mean_squares(theta), comp, ["A", "B"])
        >>> round(res["differences"][0]["estimate"], 4), res["df1"]
        (-0.05, 1)
    """
    t, r = theta.shape
    denom = ms["ms_tr"] + r * max(comp["cov2"] - comp["cov3"], 0.0)
    ddf = hillis_ddf(denom, ms["ms_tr"], t, r)
    se = float(np.sqrt(2.0 * denom / r)) if denom > TINY else NAN
    out = {"f": NAN, "df1": t - 1, "df2": ddf, "p_value": NAN, "denominator": float(denom), "se_difference": se,
           "differences": _pairwise(theta, names, se, ddf, alpha)}
    if denom > TINY:
        out["f"] = float(ms["ms_t"] / denom)
        out["p_value"] = float(stats.f.sf(out["f"], t - 1, ddf))
    else:
        out["note"] = "not estimable: the error term MS(TR) + r*max(Cov2 - Cov3, 0) is 0"
    return out


def _frrc(theta, ms, comp, cov, names, readers, alpha) -> dict:
    t, r = theta.shape
    denom = comp["var"] - comp["cov1"] + (r - 1) * max(comp["cov2"] - comp["cov3"], 0.0)
    se = float(np.sqrt(2.0 * denom / r)) if denom > TINY else NAN
    chisq = float((t - 1) * ms["ms_t"] / denom) if denom > TINY else NAN
    return {"chisq": chisq, "df": t - 1, "p_value": float(stats.chi2.sf(chisq, t - 1)) if denom > TINY else NAN,
            "denominator": float(denom), "se_difference": se,
            "differences": _pairwise(theta, names, se, None, alpha),
            "treatments": _treatment_rows(theta, cov, names, alpha, _frrc_single),
            "readers": _frrc_readers(theta, cov, names, readers, alpha)}


def _frrc_readers(theta, cov, names, readers, alpha) -> list[dict]:
    """Single-reader treatment differences: ``SE = sqrt(2·(Var_j − Cov1_j))`` from reader j's own block."""
    t, r = theta.shape
    out = []
    for j, reader in enumerate(readers):
        idx = np.arange(t) * r + j
        comp = or_components(cov[np.ix_(idx, idx)], t, 1)
        se = float(np.sqrt(max(2.0 * (comp["var"] - comp["cov1"]), 0.0)))
        for a, b in combinations(range(t), 2):
            row = _interval(float(theta[a, j] - theta[b, j]), se, None, alpha)
            out.append({"reader": reader, "comparison": f"{names[a]} - {names[b]}", **row,
                        "var": comp["var"], "cov1": comp["cov1"]})
    return out


def _rrfc(theta, ms, cov, names, alpha) -> dict:
    t, r = theta.shape
    ddf = float((t - 1) * (r - 1))
    ms_tr = ms["ms_tr"]
    f_stat = float(ms["ms_t"] / ms_tr) if ms_tr > TINY else NAN
    se = float(np.sqrt(2.0 * ms_tr / r)) if ms_tr > TINY else NAN
    out = {"f": f_stat, "df1": t - 1, "df2": ddf,
           "p_value": float(stats.f.sf(f_stat, t - 1, ddf)) if ms_tr > TINY else NAN, "se_difference": se,
           "differences": _pairwise(theta, names, se, ddf, alpha),
           "treatments": _treatment_rows(theta, cov, names, alpha, _rrfc_single)}
    if not ms_tr > TINY:
        out["note"] = "not estimable: MS(TR) is 0 (every reader shows the same treatment differences)"
    return out


def or_hillis(data: MRMCData, *, cov_method: str = "jackknife", alpha: float = 0.05) -> dict[str, Any]:
    """Full Obuchowski–Rockette analysis (RRRC with Hillis df, FRRC, RRFC) of a crossed study.

    Args:
        data: the crossed rating cube (``ratings[t, r, c]``, ``truth[c]`` in {0, 1}).
        cov_method: ``"jackknife"`` (default, as OR-DBM MRMC, MRMCaov and RJafroc) or ``"delong"``.
        alpha: two-sided level of the CIs and tests.

    Returns:
        A JSON-ready dict: ``reader_aucs``, ``treatments`` (RRRC single-test AUC, SE, df, CI),
        ``mean_squares``, ``covariance`` (var, cov1–cov3), ``correlation``, ``variance_components``,
        and with ≥ 2 treatments ``rrrc``, ``frrc``, ``rrfc``.

    Raises:
        StatisticsError: fewer than 2 readers, an unknown covariance method, or fewer than 2
            cases of a class for the jackknife.

    Example:
        >>> # see the module docstring
    """
    if cov_method not in COV_METHODS:
        raise StatisticsError(f"unknown covariance method {cov_method!r}; use one of {list(COV_METHODS)}")
    if not 0.0 < alpha < 1.0:
        raise StatisticsError(f"alpha must lie in (0, 1); got {alpha}")
    t, r, c = data.ratings.shape
    if r < 2:
        raise StatisticsError(f"OR analysis needs at least 2 readers; the data have {r} ({data.readers})")
    theta = reader_aucs(data)
    cov = jackknife_cov(data) if cov_method == "jackknife" else delong_cov(data)
    comp, ms = or_components(cov, t, r), mean_squares(theta)
    names, readers = [str(x) for x in data.treatments], [str(x) for x in data.readers]
    result: dict[str, Any] = {
        "method": "Obuchowski-Rockette", "auc": "empirical (trapezoidal)", "cov_method": cov_method,
        "alpha": alpha, "n_treatments": t, "n_readers": r, "n_cases": c,
        "n_positive": int((data.truth == 1).sum()), "n_negative": int((data.truth == 0).sum()),
        "reader_aucs": [{"treatment": names[i], "reader": readers[j], "auc": float(theta[i, j])}
                        for i, j in np.ndindex(t, r)],
        "treatments": single_treatment_cis(theta, cov, names, alpha), "mean_squares": ms, "covariance": comp,
        "correlation": correlations(comp), "variance_components": variance_components(ms, comp, t),
    }
    if t > 1:
        result["rrrc"] = rrrc_test(theta, ms, comp, names, alpha)
        result["frrc"] = _frrc(theta, ms, comp, cov, names, readers, alpha)
        result["rrfc"] = _rrfc(theta, ms, cov, names, alpha)
    return result
