"""Sample size and power for reader studies (``reference/statistics.md`` B-6.7 and B-7).

* Visual Turing test: exact binomial power of the equivalence test (TOST, ``0.5 ± margin``) and of
  the per-reader detection test (accuracy ``p1`` vs 0.5), normal-approximation sample sizes, and
  the design effect ``1 + (k − 1)·ρ`` for reads clustered within images/readers.
* MRMC (two treatments, RRRC OR–Hillis): Hillis, Obuchowski & Berbaum (2011) power from pilot
  variance components. The default pilot is the Van Dyke study (OR components computed by
  :mod:`mammobench.stats.obuchowski_rockette` on ``vandyke_mrmc.csv``; a test checks they agree).

Example:
    >>> turing_tost_n(0.10)
    215
    >>> turing_detect_n(0.65)
    85
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import stats

#: OR components of the Van Dyke pilot (C = 114 cases, r = 5): empirical AUC, jackknife covariance.
VANDYKE_PILOT: dict[str, float] = {
    "n_cases": 114, "n_readers": 5, "var": 8.022882655720663e-04, "cov1": 3.4661370944073295e-04,
    "cov2": 3.440748288608891e-04, "cov3": 2.3902837089215438e-04, "ms_tr": 5.51030621744058e-04,
}


def turing_tost_n(margin: float, alpha: float = 0.05, power: float = 0.80, true_p: float = 0.5) -> int:
    """Reads needed so TOST declares ``|acc − 0.5| < margin`` (normal approximation, true acc 0.5).

    ``n = (z_{1−α} + z_{1−β/2})² p(1−p) / margin²`` (β split over the two one-sided tests).
    """
    z = stats.norm.ppf(1 - alpha) + stats.norm.ppf(1 - (1 - power) / 2)
    return math.ceil(z ** 2 * true_p * (1 - true_p) / (margin - abs(true_p - 0.5)) ** 2)


def turing_detect_n(p1: float, alpha: float = 0.05, power: float = 0.80) -> int:
    """Reads per reader to detect accuracy ``p1`` vs 0.5 (two-sided, normal approximation)."""
    za, zb = stats.norm.ppf(1 - alpha / 2), stats.norm.ppf(power)
    return math.ceil(((za * 0.5 + zb * math.sqrt(p1 * (1 - p1))) / (p1 - 0.5)) ** 2)


def tost_power_exact(n: int, margin: float, alpha: float = 0.05, true_p: float = 0.5) -> float:
    """Exact binomial power of the TOST at true accuracy ``true_p`` with ``n`` independent reads.

    Example:
        >>> round(tost_power_exact(214, 0.10), 2) >= 0.78
        True
    """
    x = np.arange(n + 1)
    reject = (stats.binom.sf(x - 1, n, 0.5 - margin) < alpha) & (stats.binom.cdf(x, n, 0.5 + margin) < alpha)
    if not reject.any():
        return 0.0
    x_min, x_max = int(x[reject].min()), int(x[reject].max())
    return float(stats.binom.cdf(x_max, n, true_p) - stats.binom.cdf(x_min - 1, n, true_p))


def design_effect(reads_per_cluster: int, icc: float) -> float:
    """``DE = 1 + (k − 1)·ρ`` for ``k`` correlated reads per cluster."""
    return 1.0 + (reads_per_cluster - 1) * icc


def mrmc_power(delta: float, n_readers: int, n_cases: int, pilot: dict[str, float] | None = None,
               alpha: float = 0.05) -> dict[str, float]:
    """Power of the two-treatment RRRC OR–Hillis test (Hillis, Obuchowski & Berbaum 2011).

    Args:
        delta: true AUC difference to detect.
        n_readers, n_cases: planned study size (r*, C*).
        pilot: OR components ``var, cov1, cov2, cov3, ms_tr, n_cases`` (default Van Dyke).

    Example:
        >>> round(mrmc_power(0.0438, 5, 114)["ddf"], 2)
        15.26
    """
    p = pilot or VANDYKE_PILOT
    sigma_tr = max(p["ms_tr"] - p["var"] + p["cov1"] + p["cov2"] - p["cov3"], 0.0)
    scale = p["n_cases"] / n_cases
    d_star = sigma_tr + scale * (p["var"] - p["cov1"] + (n_readers - 1) * max(p["cov2"] - p["cov3"], 0.0))
    ems_tr = sigma_tr + scale * (p["var"] - p["cov1"] - p["cov2"] + p["cov3"])
    ddf = d_star ** 2 / (ems_tr ** 2 / (n_readers - 1))
    lam = n_readers * delta ** 2 / (2 * d_star)
    crit = stats.f.ppf(1 - alpha, 1, ddf)
    return {"power": float(stats.ncf.sf(crit, 1, ddf, lam)), "ddf": float(ddf), "noncentrality": float(lam),
            "sigma2_tr": float(sigma_tr)}


def power_statement(design: str, *, n_cases: int, n_readers: int, margin: float = 0.1, alpha: float = 0.05,
                    icc: float = 0.1, delta: float = 0.05) -> dict[str, Any]:
    """The power/sample-size statement written into a study folder (``power.json`` / ``power.md``)."""
    if design == "turing":
        reads = n_cases * n_readers
        de = design_effect(n_readers, icc)
        effective = int(reads / de)
        out = {"design": design, "n_images": n_cases, "n_readers": n_readers, "reads": reads, "icc": icc,
               "design_effect": de, "effective_reads": effective, "margin": margin, "alpha": alpha,
               "tost_power_at_0.5": tost_power_exact(effective, margin, alpha),
               "reads_needed_tost_80": math.ceil(turing_tost_n(margin, alpha) * de),
               "images_per_reader_detect_0.65_80": turing_detect_n(0.65, alpha)}
        out["text"] = (f"{n_cases} images x {n_readers} readers = {reads} reads; with ICC {icc} "
                       f"(design effect {de:.2f}) about {effective} effective reads give "
                       f"{out['tost_power_at_0.5']:.0%} power for TOST equivalence of accuracy within 0.5 +/- "
                       f"{margin} (alpha {alpha}) if readers are truly at chance; 80% power needs about "
                       f"{out['reads_needed_tost_80']} reads. Per reader, {out['images_per_reader_detect_0.65_80']} "
                       "images detect accuracy 0.65 vs 0.5 with 80% power.")
        return out
    res = mrmc_power(delta, n_readers, n_cases, alpha=alpha)
    text = (f"{n_readers} readers x {n_cases} cases x 2 treatments: power {res['power']:.0%} to detect an AUC "
            f"difference of {delta} (RRRC OR-Hillis, alpha {alpha}, Hillis ddf {res['ddf']:.1f}) using the Van "
            "Dyke pilot variance components; replace them with your own pilot for a real study.")
    return {"design": design, "n_cases": n_cases, "n_readers": n_readers, "delta": delta, "alpha": alpha,
            **res, "pilot": "VanDyke 1993 (MRMCaov VanDyke)", "text": text}
