"""Patient-clustered AUC variance (Obuchowski, Biometrics 1997) for several images per patient.

Formulas (``reference/statistics.md`` B-1.2, as in the Cleveland Clinic ``funcs_clusteredROC.R``):
placements V10/V01 are computed against *all* negatives/positives (:func:`delong_placements`), then
summed per cluster (X_k, Y_k); with I10/I01 the numbers of clusters holding ≥ 1 positive/negative,

    S10 = I10/((I10-1) M) Σ_k (X_k - m_k AUC)(X_k - m_k AUC)ᵀ
    S01 = I01/((I01-1) N) Σ_k (Y_k - n_k AUC)(Y_k - n_k AUC)ᵀ
    S11 = I/(I-1)         Σ_k (X_k - m_k AUC)(Y_k - n_k AUC)ᵀ
    Cov = S10/M + S01/N + (S11 + S11ᵀ)/(M N)

With one image per patient this equals the DeLong covariance exactly.

Example:
    >>> aucs, cov = clustered_auc_cov([0, 1, 0, 1, 0, 1], [.1, .8, .3, .6, .5, .4], ["a", "a", "b", "b", "c", "c"])
    >>> round(float(aucs[0]), 4)
    0.8889
"""
from __future__ import annotations

from typing import Any

import numpy as np
from mammobench.errors import StatisticsError
from mammobench.stats.delong import AucCI, PairedTest, delong_placements, paired_from_cov, wald_auc_ci
from mammobench.stats._checks import as_binary_labels


def _cluster_sums(values: np.ndarray, codes: np.ndarray, n_clusters: int) -> np.ndarray:
    """Sum each row of ``values`` ([k, u]) within cluster codes ([u]) → [k, n_clusters]."""
    out = np.zeros((values.shape[0], n_clusters))
    for row in range(values.shape[0]):
        out[row] = np.bincount(codes, weights=values[row], minlength=n_clusters)
    return out


def clustered_auc_cov(y_true: Any, scores_2d: Any, clusters: Any) -> tuple[np.ndarray, np.ndarray]:
    """AUCs of k models and their Obuchowski cluster-robust covariance matrix.

    Args:
        y_true: 0/1 labels per unit (image).
        scores_2d: ``[k, N]`` or ``[N]`` scores.
        clusters: cluster (patient) id per unit.

    Returns:
        ``(aucs [k], cov [k, k])``.

    Example:
        >>> a, c = clustered_auc_cov([0, 1, 0, 1], [0.1, 0.5, 0.2, 0.9], [1, 1, 2, 2])
        >>> a.tolist()
        [1.0]
    """
    y = as_binary_labels(y_true)
    clusters = np.asarray(clusters)
    if clusters.shape != y.shape:
        raise StatisticsError(f"clusters must give one id per unit: {clusters.shape} vs {y.shape}")
    aucs, v10, v01 = delong_placements(y, scores_2d)
    _, codes = np.unique(clusters, return_inverse=True)
    n_clusters = int(codes.max()) + 1
    m_k = np.bincount(codes[y], minlength=n_clusters).astype(float)
    n_k = np.bincount(codes[~y], minlength=n_clusters).astype(float)
    big_m, big_n = m_k.sum(), n_k.sum()
    i10, i01 = int((m_k > 0).sum()), int((n_k > 0).sum())
    if min(i10, i01, n_clusters) < 2:
        raise StatisticsError(f"clustered AUC variance needs ≥ 2 clusters with positives and with negatives; "
                              f"got {i10} and {i01}")
    dx = _cluster_sums(v10, codes[y], n_clusters) - m_k[None, :] * aucs[:, None]
    dy = _cluster_sums(v01, codes[~y], n_clusters) - n_k[None, :] * aucs[:, None]
    s10 = i10 / ((i10 - 1) * big_m) * dx @ dx.T
    s01 = i01 / ((i01 - 1) * big_n) * dy @ dy.T
    s11 = n_clusters / (n_clusters - 1) * dx @ dy.T
    cov = s10 / big_m + s01 / big_n + (s11 + s11.T) / (big_m * big_n)
    return aucs, cov


def clustered_auc_ci(y_true: Any, score: Any, clusters: Any, alpha: float = 0.05) -> AucCI:
    """AUC with Obuchowski cluster-robust SE and Wald CI (clipped to [0, 1]).

    Example:
        >>> r = clustered_auc_ci([0, 1, 0, 1, 0, 1], [.1, .8, .3, .6, .5, .4], ["a", "a", "b", "b", "c", "c"])
        >>> r.n_pos
        3
    """
    aucs, cov = clustered_auc_cov(y_true, score, clusters)
    if aucs.size != 1:
        raise StatisticsError(f"clustered_auc_ci takes one score vector; got {aucs.size}")
    y = as_binary_labels(y_true)
    return wald_auc_ci(float(aucs[0]), float(np.sqrt(max(cov[0, 0], 0.0))), int(y.sum()), int((~y).sum()), alpha,
                       score)


def paired_clustered_test(y_true: Any, s1: Any, s2: Any, clusters: Any, alpha: float = 0.05) -> PairedTest:
    """Paired test of AUC1 - AUC2 with the Obuchowski clustered covariance.

    Example:
        >>> t = paired_clustered_test([0, 1, 0, 1, 0, 1], [.1, .8, .3, .6, .5, .4],
        ...                           [.2, .7, .1, .9, .3, .2], ["a", "a", "b", "b", "c", "c"])
        >>> round(t.auc2, 4)
        0.8333
    """
    aucs, cov = clustered_auc_cov(y_true, np.vstack([np.asarray(s1, float), np.asarray(s2, float)]), clusters)
    return paired_from_cov(aucs, cov, alpha)
