"""The weighted AFROC figure of merit (wAFROC, JAFROC) and its jackknife (``reference/statistics.md`` B-5).

Chakraborty's wAFROC FOM (as coded in RJafroc ``src/MyFOM.cpp``, ``wAFROC``) compares, for every pair of
a normal case and a lesion, the highest non-lesion mark on the normal case (``-inf`` when it has no
mark) with the lesion's rating (the highest mark that hits it, ``-inf`` when no mark does)::

    wAFROC = 1/(K1·K2) · Σ_normal n Σ_abnormal a Σ_lesion l of a  W_al · ψ(FP_n, LL_al)
    ψ(x, y) = 1 if y > x, ½ if y == x (−inf == −inf included), 0 otherwise

with lesion weights ``W`` summing to 1 on each abnormal case (equal weights by default). Marks on
abnormal cases that hit no lesion do not enter the FOM. So wAFROC is an AUC between the normal cases'
highest false marks (negatives, weight 1) and the lesions (positives, weight W): :func:`wafroc` reuses
the tie-aware weighted AUC of :mod:`mammobench.stats.bootstrap`, which also gives every patient-bootstrap
replicate at once.

:func:`wafroc_jackknife` returns the leave-one-cluster-out FOMs in closed form (O(N log N) placements,
no refits): a cluster is a case in RJafroc's jackknife and a patient in MammoBench (a patient's four
images leave together). Checked against RJafroc's ``UtilPseudoValues(dataset05, "wAFROC")`` in
``tests/stats/test_wafroc_rjafroc.py``.

Example:
    >>> fp = np.array([0.2, -np.inf, 0.6])           # highest false mark on each of 3 normal cases
    >>> ll = np.array([0.9, 0.5, -np.inf])           # 3 lesions: case a has 2 (weights ½), case b has 1
    >>> wafroc(fp, ll, [0.5, 0.5, 1.0])
    0.5
    >>> wafroc_jackknife(fp, [0, 1, 2], ll, [0.5, 0.5, 1.0], [3, 3, 4]).round(4).tolist()
    [0.5, 0.375, 0.625, 0.1667, 0.8333]
"""
from __future__ import annotations

from typing import Any

import numpy as np

from mammobench.errors import StatisticsError
from mammobench.stats.bootstrap import weighted_auc


def _arrays(normal_fp: Any, lesion_scores: Any, lesion_weights: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    fp = np.asarray(normal_fp, dtype=float).ravel()
    ll = np.asarray(lesion_scores, dtype=float).ravel()
    w = np.asarray(lesion_weights, dtype=float).ravel()
    if ll.shape != w.shape:
        raise StatisticsError(f"{ll.size} lesion scores but {w.size} lesion weights")
    if np.isnan(fp).any() or np.isnan(ll).any() or np.isnan(w).any() or (w <= 0).any():
        raise StatisticsError("wAFROC inputs must not be NaN and lesion weights must be positive "
                              "(an unmarked case or lesion is -inf, not NaN)")
    if fp.size == 0 or ll.size == 0:
        raise StatisticsError(f"wAFROC needs normal cases and lesions; got {fp.size} normal cases and {ll.size} lesions")
    return fp, ll, w


def wafroc(normal_fp: Any, lesion_scores: Any, lesion_weights: Any = None, weights: np.ndarray | None = None) -> Any:
    """wAFROC FOM; with case weights ``weights`` the FOM of every bootstrap replicate at once.

    Args:
        normal_fp: highest false-mark score on each normal case (``-inf`` = no mark), ``[K1]``.
        lesion_scores: score of each lesion (highest mark hitting it, ``-inf`` = missed), ``[L]``.
        lesion_weights: ``[L]``, summing to 1 on each abnormal case; ``None`` = every lesion its own case.
        weights: optional ``[B, K1 + L]`` replicate weights of the normal cases then the lesions (a lesion
            takes its case's weight); then a ``[B]`` array is returned.

    Example:
        >>> wafroc([0.1, 0.3], [0.2, 0.4])   # 3 of the 4 (normal, lesion) pairs ranked right
        0.75
    """
    fp, ll, w = _arrays(normal_fp, lesion_scores, np.ones(np.size(lesion_scores)) if lesion_weights is None
                        else lesion_weights)
    y = np.r_[np.zeros(fp.size, bool), np.ones(ll.size, bool)]
    unit = np.r_[np.ones(fp.size), w]
    if weights is None:
        return float(weighted_auc(y, np.r_[fp, ll], unit[None, :])[0])
    return weighted_auc(y, np.r_[fp, ll], np.atleast_2d(weights) * unit[None, :])


def _placements(fp: np.ndarray, ll: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``V[n] = Σ_l W_l ψ(fp_n, ll_l)`` per normal case and ``U[l] = W_l Σ_n ψ(fp_n, ll_l)`` per lesion."""
    order = np.argsort(ll, kind="mergesort")
    ll_sorted, cum = ll[order], np.r_[0.0, np.cumsum(w[order])]
    below, upto = np.searchsorted(ll_sorted, fp, "left"), np.searchsorted(ll_sorted, fp, "right")
    v = (cum[-1] - cum[upto]) + 0.5 * (cum[upto] - cum[below])
    fp_sorted = np.sort(fp)
    lo, hi = np.searchsorted(fp_sorted, ll, "left"), np.searchsorted(fp_sorted, ll, "right")
    u = w * (lo + 0.5 * (hi - lo))
    return v, u


def _within_cluster(fp: np.ndarray, gn: np.ndarray, ll: np.ndarray, w: np.ndarray, gl: np.ndarray,
                    n_groups: int) -> np.ndarray:
    """``X[g] = Σ_{n in g} Σ_{l in g} W_l ψ(fp_n, ll_l)``: the pairs a cluster's removal counts twice."""
    order = np.argsort(gn, kind="mergesort")
    starts = np.searchsorted(gn[order], np.arange(n_groups + 1))
    count = starts[gl + 1] - starts[gl]
    lesion_idx = np.repeat(np.arange(ll.size), count)
    first = np.repeat(starts[gl] - np.r_[0, np.cumsum(count)[:-1]], count)
    normal_idx = order[first + np.arange(lesion_idx.size)]
    a, b = fp[normal_idx], ll[lesion_idx]
    psi = (b > a) + 0.5 * (b == a)
    return np.bincount(gl[lesion_idx], weights=w[lesion_idx] * psi, minlength=n_groups)


def wafroc_jackknife(normal_fp: Any, normal_cluster: Any, lesion_scores: Any, lesion_weights: Any,
                     lesion_cluster: Any) -> np.ndarray:
    """Leave-one-cluster-out wAFROC FOMs, one per cluster (clusters sorted as ``np.unique`` sorts them).

    Removing cluster g removes its normal cases and its abnormal cases' lesions:
    ``FOM_(−g) = (T − R_g − C_g + X_g) / ((K1 − k1_g)(K2 − k2_g))`` with ``T`` the full numerator,
    ``R_g``/``C_g`` the numerator terms of g's normal cases/lesions and ``X_g`` their shared pairs
    (``k2_g`` = the lesion weights of g, one per abnormal case).

    Raises:
        StatisticsError: removing some cluster leaves no normal case or no lesion.
    """
    fp, ll, w = _arrays(normal_fp, lesion_scores, lesion_weights)
    labels, codes = np.unique(np.r_[np.asarray(normal_cluster).ravel(), np.asarray(lesion_cluster).ravel()],
                              return_inverse=True)
    gn, gl, g = codes[:fp.size], codes[fp.size:], labels.size
    if gn.size != fp.size or gl.size != ll.size:
        raise StatisticsError("one cluster label per normal case and per lesion is needed")
    v, u = _placements(fp, ll, w)
    k1, k2 = fp.size - np.bincount(gn, minlength=g), w.sum() - np.bincount(gl, weights=w, minlength=g)
    if (k1 <= 0).any() or (k2 <= 1e-9).any():
        raise StatisticsError("jackknife undefined: one cluster holds every normal case or every lesion")
    num = v.sum() - np.bincount(gn, weights=v, minlength=g) - np.bincount(gl, weights=u, minlength=g)
    num += _within_cluster(fp, gn, ll, w, gl, g)
    return num / (k1 * k2)


def jackknife_covariance(loo: np.ndarray) -> np.ndarray:
    """``(G − 1)/G · Σ_g (θ_(−g) − θ̄)(θ_(−g) − θ̄)ᵀ`` of the rows of ``loo [k, G]`` (k FOMs, G clusters).

    Example:
        >>> jackknife_covariance(np.array([[1.0, 2.0, 3.0]])).tolist()
        [[1.3333333333333333]]
    """
    loo = np.atleast_2d(np.asarray(loo, dtype=float))
    g = loo.shape[1]
    centred = loo - loo.mean(axis=1, keepdims=True)
    return (g - 1) / g * centred @ centred.T


__all__ = ["jackknife_covariance", "wafroc", "wafroc_jackknife"]
