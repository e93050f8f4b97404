"""Multiplicity control (Holm, Benjamini–Hochberg) and the subgroup-heterogeneity Wald test (B-2).

* Holm (FWER): sort p ascending; p̃_(i) = max_{j≤i} min(1, (M − j + 1) p_(j)).
* Benjamini–Hochberg (FDR): p̃_(i) = min_{j≥i} min(1, M p_(j) / j).

BH and Bonferroni are computed by statsmodels' ``multipletests`` (a declared dependency, the
reference implementation the method sheet was checked against); Holm is the three-line formula
above (statsmodels' Holm branch runs a full garbage collection per call), tested equal to statsmodels.
This module adds the family bookkeeping: NaN p-values, range checks and the spellings used in task files.
* Interaction: with per-group effects Δ̂ (length G) and their covariance Σ̂ (bootstrap or DeLong),
  contrasts C = [I_{G-1} | −1] give W = (CΔ̂)ᵀ(CΣ̂Cᵀ)⁻¹(CΔ̂) ~ χ²_{G−1} under "same effect in every group".

NaN p-values (undefined tests) stay NaN and do not count towards M.

Example:
    >>> adjust_p_values([0.01, 0.04, 0.03], "holm").round(3).tolist()
    [0.03, 0.06, 0.06]
"""
from __future__ import annotations

from typing import Any

import numpy as np
from scipy.stats import chi2

from mammobench.errors import StatisticsError

METHODS = ("holm", "bh", "bonferroni", "none")
#: spellings accepted for the same procedures (task.yaml uses statsmodels-style names)
ALIASES = {"fdr_bh": "bh", "benjamini-hochberg": "bh", "bonf": "bonferroni"}
_STATSMODELS = {"holm": "holm", "bh": "fdr_bh", "bonferroni": "bonferroni"}


def adjust_p_values(p_values: Any, method: str = "holm") -> np.ndarray:
    """Adjusted p-values for one family of tests.

    Args:
        p_values: raw p-values (NaN = test undefined; kept NaN, not counted).
        method: ``"holm"``, ``"bh"`` (Benjamini–Hochberg; alias ``"fdr_bh"``), ``"bonferroni"`` or ``"none"``.

    Example:
        >>> adjust_p_values([0.01, 0.02, float("nan")], "bh").tolist()
        [0.02, 0.02, nan]
    """
    method = ALIASES.get(method, method)
    if method not in METHODS:
        raise StatisticsError(f"multiplicity method {method!r} unknown; use one of {list(METHODS)}")
    p = np.asarray(p_values, dtype=float)
    finite = np.isfinite(p)
    if ((p[finite] < 0) | (p[finite] > 1)).any():
        raise StatisticsError(f"p-values must lie in [0, 1]; got {p[finite][(p[finite] < 0) | (p[finite] > 1)][:3]}")
    out = np.full(p.shape, np.nan)
    if method == "none":
        out[finite] = p[finite]
    elif method == "holm":
        out[finite] = _holm(p[finite])
    elif finite.any():
        from statsmodels.stats.multitest import multipletests

        out[finite] = multipletests(p[finite], method=_STATSMODELS[method])[1]
    return out


def _holm(p: np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values: ``max_{j<=i} min(1, (m - j + 1) p_(j))`` in sorted order.

    Written out rather than taken from ``statsmodels.stats.multitest.multipletests``, whose Holm branch
    calls ``gc.collect()`` on every call (≈ 0.2 s in a process holding torch; an evaluation adjusts
    hundreds of families). The tests check equality with statsmodels, ties and NaN included.
    """
    m = len(p)
    if m == 0:
        return p.copy()
    order = np.argsort(p, kind="mergesort")
    stepped = np.minimum(1.0, np.maximum.accumulate(p[order] * np.arange(m, 0, -1)))
    out = np.empty(m)
    out[order] = stepped
    return out


def heterogeneity_wald(effects: Any, cov: Any) -> tuple[float, int, float]:
    """Wald test that per-group effects are all equal: returns ``(W, df, p)`` with df = G − 1.

    Args:
        effects: per-group effect estimates Δ̂_g (e.g. ΔAUC augmented − control), length G ≥ 2.
        cov: their G×G covariance (bootstrap covariance of the paired Δ*, or DeLong).

    Example:
        >>> w, df, p = heterogeneity_wald([0.05, -0.05], np.diag([0.001, 0.001]))
        >>> round(w, 3), df
        (5.0, 1)
    """
    d = np.asarray(effects, dtype=float)
    s = np.asarray(cov, dtype=float)
    g = d.size
    if g < 2 or s.shape != (g, g) or not np.isfinite(d).all() or not np.isfinite(s).all():
        raise StatisticsError(f"heterogeneity test needs ≥ 2 finite effects and a matching covariance; "
                              f"got {g} effects and covariance shape {s.shape}")
    contrast = np.hstack([np.eye(g - 1), -np.ones((g - 1, 1))])
    cd = contrast @ d
    middle = contrast @ s @ contrast.T
    stat = float(cd @ np.linalg.pinv(middle) @ cd)
    df = int(np.linalg.matrix_rank(middle))
    if df == 0:
        return float("nan"), 0, float("nan")
    return stat, df, float(chi2.sf(stat, df))
