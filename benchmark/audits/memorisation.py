"""Memorisation and privacy: calibrated copy detection, the data-copying test C_T, membership inference.

Methods (``shared/reference/statistics.md`` B-9):

* **Copy detection.** For each synthetic image s, ``d_NN(s)`` = distance to its nearest neighbour
  in the generator's training set T, in feature space (Euclidean on training-standardised
  features) and in pixel space (``1 − normalised correlation`` after downsampling). The threshold
  is the α-quantile of the same statistic for held-out real images H → T, so an independent sample
  is flagged at rate ≈ α (the calibrated false-positive rate). Flag rates carry exact CIs.
* **Data-copying test C_T** (Meehan, Chaudhuri & Dasgupta, AISTATS 2020): k-means cells on T; in
  each cell a Mann–Whitney z-score of generated vs held-out NN distances to the cell's training
  points; C_T is the held-out-mass-weighted mean over cells. C_T ≪ 0 means copying.
* **DCR holdout share**: the share of synthetic samples whose nearest real neighbour (training
  subsampled to the held-out size) is a training image; ≈ 0.5 without memorisation.
* **Membership inference** (distance attack): score a(x) = −min_s d(x, s) for members (T) and
  non-members (H); attack AUC and TPR at FPR 1 % and 10 %.

None of these proves privacy; a pass means "no excess copies beyond the calibrated rate".

Example:
    >>> rng = np.random.default_rng(0)
    >>> train, held = rng.random((50, 8)), rng.random((40, 8))
    >>> t = calibrated_threshold(nn_distances(held, train), alpha=0.05)
    >>> float((nn_distances(train + 1e-3, train) < t).mean())
    1.0
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from scipy import stats
from sklearn.cluster import KMeans
from sklearn.metrics import roc_auc_score, roc_curve

from mammobench.audits.common import clopper_pearson


def pixel_embedding(images: np.ndarray, size: int = 32) -> np.ndarray:
    """Downsample (area) to ``size``², z-score each image and scale by 1/sqrt(pixels).

    The Euclidean distance² between two embeddings is ``2 − 2·corr`` (corr = Pearson correlation
    of the downsampled images), so nearest neighbours are the most correlated images.
    """
    stack = np.asarray(images, dtype=np.float32)
    if stack.ndim == 4:
        stack = stack[:, 0]
    x = torch.from_numpy(np.array(stack, dtype=np.float32, copy=True))[:, None]
    h, w = stack.shape[1:]
    scale = min(1.0, size / max(h, w))
    x = F.interpolate(x, size=(max(1, round(h * scale)), max(1, round(w * scale))), mode="area")
    flat = x.flatten(1).double().numpy()
    flat = flat - flat.mean(axis=1, keepdims=True)
    norm = np.linalg.norm(flat, axis=1, keepdims=True)
    return flat / np.where(norm > 0, norm, 1.0)


def flipped_pixel_reference(images: np.ndarray, size: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """Pixel embeddings of ``images`` and of their up-down, left-right and double flips, plus row → image index.

    A flipped copy of a training image is still a copy; searching the flips too makes pixel-space
    copy detection invariant to them (the held-out calibration searches the same reference, so the
    calibrated false-positive rate is unchanged).

    Example:
        >>> ref, index = flipped_pixel_reference(np.random.default_rng(0).random((3, 8, 8)), size=8)
        >>> ref.shape, index.tolist()
        ((12, 64), [0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2])
    """
    stack = np.asarray(images, dtype=np.float32)
    if stack.ndim == 4:
        stack = stack[:, 0]
    variants = (stack, stack[:, ::-1, :], stack[:, :, ::-1], stack[:, ::-1, ::-1])
    ref = np.concatenate([pixel_embedding(v, size) for v in variants])
    return ref, np.tile(np.arange(len(stack)), len(variants))


def standardise(features: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Standardise features with the reference (training) mean and SD."""
    sd = reference.std(axis=0)
    return (features - reference.mean(axis=0)) / np.where(sd > 0, sd, 1.0)


def _pairwise(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    sq = (a ** 2).sum(1)[:, None] + (b ** 2).sum(1)[None, :] - 2 * a @ b.T
    return np.sqrt(np.maximum(sq, 0))


def nearest(query: np.ndarray, reference: np.ndarray, chunk: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """Distance to, and index of, each query row's nearest reference row (Euclidean, chunked)."""
    dist, idx = np.empty(len(query)), np.empty(len(query), dtype=np.int64)
    for start in range(0, len(query), chunk):
        d = _pairwise(query[start:start + chunk], reference)
        idx[start:start + chunk] = d.argmin(axis=1)
        dist[start:start + chunk] = d[np.arange(len(d)), idx[start:start + chunk]]
    return dist, idx


def nn_distances(query: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Nearest-neighbour distances only."""
    return nearest(query, reference)[0]


def calibrated_threshold(holdout_nn: np.ndarray, alpha: float = 0.01) -> float:
    """α-quantile of held-out → training NN distances (flag below it: FPR ≈ α on independent data).

    With n held-out images the attainable FPR resolution is 1/n; the 'lower' quantile is used so
    the threshold is an observed distance and the realised held-out flag rate never exceeds α.
    """
    return float(np.quantile(holdout_nn, alpha, method="lower"))


def copy_detection(synthetic: np.ndarray, train: np.ndarray, holdout: np.ndarray, *, alpha: float = 0.01,
                   top_k: int = 8, train_index: np.ndarray | None = None) -> dict[str, Any]:
    """Flag synthetic rows whose NN distance to ``train`` is below the calibrated threshold.

    Returns flag rate + exact CI, threshold, null flag rate of the held-out set, and the ``top_k``
    closest (synthetic index, training index, distance) pairs for the review gallery. When ``train``
    holds several rows per training image (e.g. :func:`flipped_pixel_reference`), ``train_index``
    maps each row to its image so the gallery names the image.

    Example:
        >>> copy_detection(s_feats, t_feats, h_feats, alpha=0.01)["flag_rate"]  # doctest: +SKIP
    """
    s_dist, s_idx = nearest(synthetic, train)
    h_dist = nn_distances(holdout, train)
    threshold = calibrated_threshold(h_dist, alpha)
    flags = s_dist < threshold
    lo, hi = clopper_pearson(int(flags.sum()), len(flags))
    order = np.argsort(s_dist)[:top_k]
    if train_index is not None:
        s_idx = np.asarray(train_index)[s_idx]
    return {"flag_rate": float(flags.mean()), "flag_ci": [lo, hi], "n_flagged": int(flags.sum()),
            "n": int(len(flags)), "threshold": threshold, "alpha": alpha, "n_holdout": int(len(h_dist)),
            "p_excess": float(stats.binomtest(int(flags.sum()), len(flags), alpha, alternative="greater").pvalue),
            "flags": flags, "synthetic_nn": s_dist, "holdout_nn": h_dist,
            "closest": [{"synthetic": int(i), "train": int(s_idx[i]), "distance": float(s_dist[i])} for i in order]}


def _z_u(p_dist: np.ndarray, q_dist: np.ndarray) -> float:
    """Mann–Whitney z of generated (Q) vs held-out (P) NN distances, continuity-corrected (Meehan)."""
    m, n = len(p_dist), len(q_dist)
    u = stats.mannwhitneyu(q_dist, p_dist, alternative="less").statistic
    return float((u - (n * m / 2 - 0.5)) / np.sqrt(n * m * (n + m + 1) / 12))


def data_copying_ct(train: np.ndarray, holdout: np.ndarray, synthetic: np.ndarray, *, n_cells: int = 5,
                    tau: float = 0.0, min_per_cell: int = 2, seed: int = 0) -> dict[str, Any]:
    """C_T of Meehan et al. (2020): P_n-weighted mean of per-cell Z_U over cells with Q mass > tau.

    Distances are to the training points of the same cell. Cells with fewer than ``min_per_cell``
    held-out or generated points are skipped (their Z_U is undefined at tiny n).

    Example:
        >>> data_copying_ct(t, h, s, n_cells=5)["ct"]  # doctest: +SKIP
    """
    km = KMeans(n_clusters=n_cells, n_init=10, random_state=seed).fit(train)
    t_cells, p_cells, q_cells = km.labels_, km.predict(holdout), km.predict(synthetic)
    z_values, weights, used = [], [], []
    for cell in range(n_cells):
        p, q, t = holdout[p_cells == cell], synthetic[q_cells == cell], train[t_cells == cell]
        if len(p) < min_per_cell or len(q) < min_per_cell or len(t) == 0 or len(q) / len(synthetic) <= tau:
            continue
        z_values.append(_z_u(nn_distances(p, t), nn_distances(q, t)))
        weights.append(len(p) / len(holdout))
        used.append(cell)
    ct = float(np.dot(weights, z_values) / np.sum(weights)) if weights else float("nan")
    return {"ct": ct, "cells_used": used, "z_u": z_values, "cell_weights": weights, "n_cells": n_cells}


def tpr_at_fpr(y_true: np.ndarray, score: np.ndarray, fpr_target: float) -> float:
    """Highest TPR among ROC points with FPR ≤ target."""
    fpr, tpr, _ = roc_curve(y_true, score)
    ok = fpr <= fpr_target + 1e-12
    return float(tpr[ok].max()) if ok.any() else 0.0


def membership_inference(members: np.ndarray, non_members: np.ndarray, synthetic: np.ndarray, *,
                         n_boot: int = 200, seed: int = 0) -> dict[str, Any]:
    """Distance attack: score = −(distance to nearest synthetic sample); AUC (bootstrap CI), TPR@FPR.

    Example:
        >>> membership_inference(t_feats, h_feats, s_feats)["auc"]  # doctest: +SKIP
    """
    score = -np.concatenate([nn_distances(members, synthetic), nn_distances(non_members, synthetic)])
    y = np.r_[np.ones(len(members)), np.zeros(len(non_members))]
    auc = float(roc_auc_score(y, score))
    rng = np.random.default_rng(seed)
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    reps = []
    for _ in range(n_boot):
        idx = np.r_[rng.choice(pos, len(pos)), rng.choice(neg, len(neg))]
        reps.append(roc_auc_score(y[idx], score[idx]))
    lo, hi = (np.percentile(reps, [2.5, 97.5]) if reps else (np.nan, np.nan))
    return {"auc": auc, "auc_ci": [float(lo), float(hi)], "tpr_at_fpr_1pct": tpr_at_fpr(y, score, 0.01),
            "tpr_at_fpr_10pct": tpr_at_fpr(y, score, 0.10), "n_members": int(len(members)),
            "n_non_members": int(len(non_members))}


def dcr_holdout_share(synthetic: np.ndarray, train: np.ndarray, holdout: np.ndarray, *, seed: int = 0) -> dict[str, Any]:
    """DCR holdout test: share of synthetic samples whose nearest real neighbour is a training sample.

    The training set is subsampled (seeded) to the held-out size, so the share is ≈ 0.5 without
    memorisation; exact CI and a one-sided binomial test against 0.5.
    """
    n = min(len(train), len(holdout))
    rng = np.random.default_rng(seed)
    pool = np.concatenate([train[rng.permutation(len(train))[:n]], holdout[rng.permutation(len(holdout))[:n]]])
    in_train = nearest(synthetic, pool)[1] < n
    k = int(in_train.sum())
    return {"share_train": k / len(in_train), "ci": list(clopper_pearson(k, len(in_train))), "n": int(len(in_train)),
            "n_reference_each": int(n),
            "p_value": float(stats.binomtest(k, len(in_train), 0.5, alternative="greater").pvalue)}


def flag_rates_by_group(flags: np.ndarray, groups: Any) -> dict[str, dict[str, float]]:
    """Per-subgroup flag rate with exact CI (rare groups carry the highest memorisation risk)."""
    groups = np.asarray(groups).astype(str)
    out = {}
    for g in sorted(set(groups)):
        sel = flags[groups == g]
        lo, hi = clopper_pearson(int(sel.sum()), len(sel))
        out[g] = {"n": int(len(sel)), "flag_rate": float(sel.mean()), "ci": [lo, hi]}
    return out


#: level of the one-sided binomial tests of the copy-detection and DCR checks (their decision margin's α)
P_LEVEL = 0.05


def _copy_status(result: dict, fail_rate: float, p_level: float = P_LEVEL) -> str:
    if result["p_excess"] >= p_level:
        return "pass"
    return "fail" if result["flag_rate"] > fail_rate else "warn"


def memorisation_audit(generator: str, *, spaces: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]],
                       config: dict, groups: Any = None, extractor: str = "", resolution: Any = None,
                       seed: int = 0) -> tuple[list[dict], dict[str, dict]]:
    """Copy detection per space, C_T and membership inference (feature space) as audit records.

    Args:
        spaces: name → (synthetic, train, holdout) embeddings, e.g. ``{"feature": ..., "pixel": ...}``;
            an optional 4th element maps the rows of ``train`` to training images (flipped references).
        config: ``alpha``, ``copy_fail_rate``, ``ct_warn``, ``ct_fail``, ``dcr_share_fail``, ``mia_auc_warn``,
            ``mia_auc_fail``, ``n_cells``, ``n_boot``, ``top_k`` (see ``run.DEFAULT_CONFIG``).
        groups: optional per-synthetic-image subgroup labels (e.g. requested density).

    Returns:
        (records, details) — details hold the per-space copy-detection results for the gallery.
    """
    from mammobench.audits.common import audit_record, status_by_thresholds

    records, details = [], {}
    base = {"extractor": extractor, "resolution": list(resolution) if resolution else None}
    for space, (syn, train, held, *index) in spaces.items():
        train_index = index[0] if index else None
        res = copy_detection(syn, train, held, alpha=config["alpha"], top_k=config["top_k"], train_index=train_index)
        details[space] = res
        n_train = len(np.unique(train_index)) if train_index is not None else len(train)
        evidence = {**base, "space": space, "n": res["n"], "n_train": n_train, "n_holdout": res["n_holdout"],
                    "flip_invariant": train_index is not None,
                    "flag_ci": res["flag_ci"], "alpha": res["alpha"], "p_excess": res["p_excess"],
                    "closest": res["closest"], "holdout_flag_rate": float((res["holdout_nn"] < res["threshold"]).mean())}
        if groups is not None:
            evidence["by_group"] = flag_rates_by_group(res["flags"], groups)
        status = _copy_status(res, config["copy_fail_rate"])
        records.append(audit_record(
            generator, "memorisation", f"copy_detection_{space}", status, value=res["flag_rate"],
            threshold=res["threshold"], evidence=evidence, p=res["p_excess"], alpha=P_LEVEL,
            message=(f"{res['n_flagged']}/{res['n']} synthetic images closer to a training image than "
                     f"{100 * (1 - config['alpha']):.0f}% of held-out real images are ({space} space); "
                     f"expected about {100 * config['alpha']:.0f}% by chance (p={res['p_excess']:.2g})")))
    syn, train, held = spaces["feature"]
    if min(len(train), len(held), len(syn)) >= 2 * config["n_cells"]:
        ct = data_copying_ct(train, held, syn, n_cells=config["n_cells"], seed=seed)
        status = status_by_thresholds(-ct["ct"], -config["ct_warn"], -config["ct_fail"])
        records.append(audit_record(generator, "memorisation", "data_copying_ct", status, value=ct["ct"],
                                    threshold=config["ct_fail"], evidence={**base, **ct, "n": len(syn)},
                                    message=f"C_T = {ct['ct']:.2f} over {len(ct['cells_used'])} cells "
                                            "(≪ 0: data copying; ≫ 0: under-fitting)"))
    dcr = dcr_holdout_share(syn, train, held, seed=seed)
    dcr_status = "pass" if dcr["p_value"] >= P_LEVEL else "fail" if dcr["share_train"] > config["dcr_share_fail"] else "warn"
    records.append(audit_record(generator, "memorisation", "dcr_holdout_share", dcr_status, value=dcr["share_train"],
                                threshold=config["dcr_share_fail"], evidence={**base, **dcr, "space": "feature"},
                                p=dcr["p_value"], alpha=P_LEVEL,
                                message=(f"{dcr['share_train']:.0%} of synthetic images have their nearest real "
                                         f"neighbour in the training set (≈50% expected; p={dcr['p_value']:.2g})")))
    mia = membership_inference(train, held, syn, n_boot=config["n_boot"], seed=seed)
    records.append(audit_record(
        generator, "memorisation", "membership_inference", status_by_thresholds(
            mia["auc"], config["mia_auc_warn"], config["mia_auc_fail"]), value=mia["auc"],
        threshold=config["mia_auc_fail"], evidence={**base, **mia, "space": "feature"},
        message=(f"distance attack AUC {mia['auc']:.3f} (0.5 = no leakage); TPR {mia['tpr_at_fpr_1pct']:.2f} "
                 f"at FPR 1%, {mia['tpr_at_fpr_10pct']:.2f} at FPR 10%")))
    return records, details
