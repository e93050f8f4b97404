"""Fidelity and diversity of synthetic images: FD, KID, PRDC, intensity moments, MS-SSIM diversity.

Methods (``shared/reference/statistics.md`` B-8):

* Fréchet distance ``‖μ_r − μ_g‖² + Tr(Σ_r + Σ_g − 2(Σ_r Σ_g)^{1/2})`` with unbiased (n−1)
  covariances, as torchmetrics' ``FrechetInceptionDistance`` (verified in the tests to rtol 1e-4).
* KID: unbiased MMD² with the cubic polynomial kernel ``(xᵀy/d + 1)³``, mean and SD over random
  subsets (torchmetrics' ``KernelInceptionDistance`` convention, population SD).
* Precision / recall / density / coverage (Kynkäänniemi 2019; Naeem 2020) with k-NN radii.
* The first five moments of pixel intensities per image (mean, variance, skewness, excess
  kurtosis, 5th standardised moment), summarised as standardised mean differences.
* MS-SSIM among random pairs (lower = more diverse), synthetic pairs vs real pairs (torchmetrics).

FD is biased by N: :func:`fd_with_baseline` compares FD(real A, synthetic) with FD(real A, real B)
for two disjoint patient halves A/B at the same N, so the number means something.

Example:
    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.normal(size=(200, 4)), rng.normal(size=(200, 4))
    >>> frechet_distance(a, a) < 1e-8, frechet_distance(a, b + 3) > 30
    (True, True)
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch
from scipy import linalg, stats

from mammobench.audits.common import as_features, bootstrap_two_sample
from mammobench.errors import DataError


def _mean_cov(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mu = x.mean(axis=0)
    centred = x - mu
    return mu, centred.T @ centred / (len(x) - 1)


def frechet_distance(real: Any, synthetic: Any) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (float64).

    ``Tr((Σ_r Σ_g)^{1/2})`` is computed as the sum of square roots of the eigenvalues of the
    symmetric PSD matrix ``Σ_r^{1/2} Σ_g Σ_r^{1/2}`` (same value, numerically stable).

    Example:
        >>> frechet_distance(np.eye(3), np.eye(3))
        0.0
    """
    a, b = as_features(real, name="real features"), as_features(synthetic, name="synthetic features")
    if a.shape[1] != b.shape[1]:
        raise DataError(f"feature dimensions differ: real {a.shape[1]} vs synthetic {b.shape[1]}")
    mu_a, cov_a = _mean_cov(a)
    mu_b, cov_b = _mean_cov(b)
    w, v = linalg.eigh(cov_a)
    root_a = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    middle = root_a @ cov_b @ root_a
    tr_sqrt = float(np.sqrt(np.clip(linalg.eigvalsh((middle + middle.T) / 2), 0, None)).sum())
    value = float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2 * tr_sqrt)
    return max(value, 0.0) if abs(value) < 1e-10 * (1 + np.trace(cov_a) + np.trace(cov_b)) else value


def mmd2_unbiased(real: Any, synthetic: Any, *, degree: int = 3, coef: float = 1.0) -> float:
    """Unbiased MMD² with the polynomial kernel ``(xᵀy/d + coef)^degree`` (KID on one subset).

    With ``m != n`` the cross term is averaged over all ``m·n`` pairs (the unbiased U-statistic).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> same = mmd2_unbiased(rng.normal(size=(200, 3)), rng.normal(size=(200, 3)))
        >>> shifted = mmd2_unbiased(rng.normal(size=(200, 3)), rng.normal(size=(200, 3)) + 1)
        >>> abs(same) < 0.5 < shifted
        True
    """
    x, y = as_features(real, name="real features"), as_features(synthetic, name="synthetic features")
    d = x.shape[1]
    k_xx = (x @ x.T / d + coef) ** degree
    k_yy = (y @ y.T / d + coef) ** degree
    k_xy = (x @ y.T / d + coef) ** degree
    m, n = len(x), len(y)
    return float((k_xx.sum() - np.trace(k_xx)) / (m * (m - 1)) + (k_yy.sum() - np.trace(k_yy)) / (n * (n - 1))
                 - 2 * k_xy.mean())


def kernel_distance(real: Any, synthetic: Any, *, subsets: int = 100, subset_size: int = 1000,
                    seed: int = 0) -> dict[str, float]:
    """KID: mean and (population) SD of unbiased MMD² over random subsets drawn without replacement.

    ``subset_size`` is capped at the smaller sample size (reported back as ``subset_size``).

    Example:
        >>> rng = np.random.default_rng(1)
        >>> kid = kernel_distance(rng.normal(size=(80, 4)), rng.normal(size=(80, 4)), subsets=10)
        >>> sorted(kid)
        ['kid_mean', 'kid_std', 'subset_size', 'subsets']
    """
    x, y = as_features(real, name="real features"), as_features(synthetic, name="synthetic features")
    size = int(min(subset_size, len(x), len(y)))
    rng = np.random.default_rng(seed)
    values = np.array([mmd2_unbiased(x[rng.permutation(len(x))[:size]], y[rng.permutation(len(y))[:size]])
                       for _ in range(subsets)])
    return {"kid_mean": float(values.mean()), "kid_std": float(values.std()), "subset_size": size,
            "subsets": int(subsets)}


def _kth_neighbour_radii(x: np.ndarray, k: int) -> np.ndarray:
    dist = np.sqrt(np.maximum(_sq_dists(x, x), 0))
    return np.sort(dist, axis=1)[:, k]  # column 0 is the point itself


def _sq_dists(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a ** 2).sum(1)[:, None] + (b ** 2).sum(1)[None, :] - 2 * a @ b.T


def prdc(real: Any, synthetic: Any, *, k: int = 5) -> dict[str, float]:
    """Precision, recall, density and coverage with k-NN balls (Euclidean), as ``prdc`` (Naeem 2020).

    Example:
        >>> x = np.random.default_rng(0).normal(size=(60, 3))
        >>> prdc(x, x)["coverage"]
        1.0
    """
    x, y = as_features(real, name="real features", min_rows=k + 1), \
        as_features(synthetic, name="synthetic features", min_rows=k + 1)
    real_r, fake_r = _kth_neighbour_radii(x, k), _kth_neighbour_radii(y, k)
    d_xy = np.sqrt(np.maximum(_sq_dists(x, y), 0))  # [n_real, n_fake]
    inside_real = d_xy < real_r[:, None]
    return {
        "precision": float(inside_real.any(axis=0).mean()),
        "recall": float((d_xy < fake_r[None, :]).any(axis=1).mean()),
        "density": float(inside_real.sum(axis=0).mean() / k),
        "coverage": float((d_xy.min(axis=1) < real_r).mean()),
        "k": k,
    }


def intensity_moments(images: np.ndarray) -> np.ndarray:
    """Per image: mean, variance, skewness, excess kurtosis, 5th standardised moment → ``[N, 5]``.

    Example:
        >>> intensity_moments(np.random.default_rng(0).random((2, 16, 16))).shape
        (2, 5)
    """
    flat = np.asarray(images, dtype=np.float64).reshape(len(images), -1)
    mean = flat.mean(axis=1)
    var = flat.var(axis=1)
    sd = np.sqrt(np.where(var > 0, var, np.nan))
    fifth = stats.moment(flat, moment=5, axis=1) / sd ** 5
    return np.column_stack([mean, var, stats.skew(flat, axis=1), stats.kurtosis(flat, axis=1), fifth])


MOMENT_NAMES = ("mean", "variance", "skewness", "kurtosis", "moment5")


def moment_differences(real_images: np.ndarray, synthetic_images: np.ndarray) -> dict[str, dict[str, float]]:
    """Real vs synthetic per-image moments: means and the standardised mean difference (pooled SD)."""
    r, s = intensity_moments(real_images), intensity_moments(synthetic_images)
    out = {}
    for j, name in enumerate(MOMENT_NAMES):
        rj, sj = r[:, j][np.isfinite(r[:, j])], s[:, j][np.isfinite(s[:, j])]
        pooled = np.sqrt((rj.var(ddof=1) + sj.var(ddof=1)) / 2) if len(rj) > 1 and len(sj) > 1 else np.nan
        smd = (sj.mean() - rj.mean()) / pooled if pooled and np.isfinite(pooled) and pooled > 0 else np.nan
        out[name] = {"real": float(rj.mean()), "synthetic": float(sj.mean()), "smd": float(smd)}
    return out


def ms_ssim_scales(size: int, kernel_size: int) -> int:
    """Largest number of MS-SSIM scales (≤ 5) whose coarsest image still exceeds the kernel."""
    scales = 5
    while scales > 1 and size // 2 ** (scales - 1) <= kernel_size - 1:
        scales -= 1
    return scales


#: the published MS-SSIM scale weights (Wang et al. 2003), coarsest last
MS_SSIM_BETAS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)


def ms_ssim(a: np.ndarray, b: np.ndarray, *, kernel: int = 11, scales: int = 5) -> np.ndarray:
    """MS-SSIM per image pair (Wang et al. 2003) by torchmetrics, for images as small as the audits use.

    torchmetrics' ``multiscale_structural_similarity_index_measure`` with a Gaussian window of
    ``sigma = 1.5 * kernel / 11`` (the standard 11-px, sigma 1.5 window scaled down), data range 1,
    ReLU-clipped terms (``normalize="relu"``) and the first ``scales`` published weights renormalised
    to sum to 1, so a 32-px image can use fewer than five scales.

    Example:
        >>> x = np.random.default_rng(0).random((2, 32, 32))
        >>> float(ms_ssim(x, x, kernel=3, scales=3)[0])
        1.0
    """
    from torchmetrics.functional.image import multiscale_structural_similarity_index_measure

    betas = np.array(MS_SSIM_BETAS[:scales])
    x = torch.from_numpy(np.array(a, dtype=np.float64))[:, None]
    y = torch.from_numpy(np.array(b, dtype=np.float64))[:, None]
    values = multiscale_structural_similarity_index_measure(
        x, y, data_range=1.0, kernel_size=kernel, sigma=1.5 * kernel / 11, betas=tuple(betas / betas.sum()),
        normalize="relu", reduction="none")
    return values.numpy()


def ms_ssim_settings(shape: tuple[int, int]) -> tuple[int, int]:
    """(kernel, scales) for an image size: kernel 11 from 176 px, 7 from 48 px, else 3."""
    side = min(shape)
    kernel = 11 if side >= 176 else 7 if side >= 48 else 3
    return kernel, ms_ssim_scales(side, kernel)


def ms_ssim_diversity(images: np.ndarray, *, n_pairs: int = 100, seed: int = 0) -> dict[str, float]:
    """Mean MS-SSIM over random distinct pairs (fewer scales for small images; lower = more diverse).

    Example:
        >>> imgs = np.random.default_rng(0).random((6, 32, 32)).astype(np.float32)
        >>> 0 <= ms_ssim_diversity(imgs, n_pairs=5)["ms_ssim"] < 0.5
        True
    """
    stack = np.asarray(images, dtype=np.float32)
    if len(stack) < 2:
        return {"ms_ssim": float("nan"), "n_pairs": 0, "scales": 0}
    kernel, scales = ms_ssim_settings(stack.shape[1:])
    rng = np.random.default_rng(seed)
    i = rng.integers(0, len(stack), n_pairs)
    j = (i + rng.integers(1, len(stack), n_pairs)) % len(stack)
    values = ms_ssim(stack[i], stack[j], kernel=kernel, scales=scales)
    return {"ms_ssim": float(values.mean()), "n_pairs": int(n_pairs), "scales": scales, "kernel_size": kernel}


def fd_with_baseline(real_a: np.ndarray, real_b: np.ndarray, synthetic: np.ndarray, *, n_boot: int = 100,
                     seed: int = 0) -> dict[str, float]:
    """FD(real A, synthetic) vs the real-vs-real baseline FD(real A, real B) at the same N, with CIs.

    The synthetic set is subsampled (seeded) to ``len(real_b)`` so both FDs share N.

    Example:
        >>> fd_with_baseline(a, b, s)["ratio"]  # doctest: +SKIP
    """
    rng = np.random.default_rng(seed)
    n = min(len(real_b), len(synthetic))
    synth = synthetic[rng.permutation(len(synthetic))[:n]]
    real_b = real_b[rng.permutation(len(real_b))[:n]]
    fd_syn, fd_real = frechet_distance(real_a, synth), frechet_distance(real_a, real_b)
    syn_ci = bootstrap_two_sample(real_a, synth, frechet_distance, n_boot=n_boot, seed=seed + 1)
    real_ci = bootstrap_two_sample(real_a, real_b, frechet_distance, n_boot=n_boot, seed=seed + 2)
    return {"fd": fd_syn, "fd_ci": list(syn_ci), "fd_real_baseline": fd_real, "fd_real_baseline_ci": list(real_ci),
            "ratio": fd_syn / fd_real if fd_real > 0 else float("inf"), "n_reference": len(real_a), "n_compared": n}


def _kid_vs_baseline(ref: np.ndarray, real_b: np.ndarray, syn: np.ndarray, *, n_boot: int, seed: int) -> dict:
    n = min(len(real_b), len(syn))
    syn = syn[np.random.default_rng(seed).permutation(len(syn))[:n]]
    kid = kernel_distance(ref, syn, subsets=50, subset_size=1000, seed=seed)
    base = kernel_distance(ref, real_b, subsets=50, subset_size=1000, seed=seed)
    syn_ci = bootstrap_two_sample(ref, syn, mmd2_unbiased, n_boot=n_boot, seed=seed + 3)
    base_ci = bootstrap_two_sample(ref, real_b, mmd2_unbiased, n_boot=n_boot, seed=seed + 4)
    return {**kid, "kid_ci": list(syn_ci), "kid_real_baseline": base["kid_mean"], "kid_real_baseline_ci": list(base_ci)}


def fidelity_audit(generator: str, *, real_a: np.ndarray, real_b: np.ndarray, synthetic: np.ndarray,
                   real_images: np.ndarray, synthetic_images: np.ndarray, extractor: str, resolution: Any,
                   config: dict, seed: int = 0) -> list[dict]:
    """FD, KID, PRDC, intensity moments and MS-SSIM diversity as audit records (features precomputed).

    ``real_a`` / ``real_b`` are features of two disjoint patient halves of the real reference set.

    Example:
        >>> fidelity_audit("g", real_a=a, real_b=b, synthetic=s, real_images=ri, synthetic_images=si,
        ...                extractor="enc", resolution=(64, 64), config=cfg)  # doctest: +SKIP
    """
    from mammobench.audits.common import audit_record, status_by_thresholds

    base = {"extractor": extractor, "resolution": list(resolution) if resolution else None}
    fd = fd_with_baseline(real_a, real_b, synthetic, n_boot=config["n_boot_fd"], seed=seed)
    kid = _kid_vs_baseline(real_a, real_b, synthetic, n_boot=config["n_boot_fd"], seed=seed)
    kid_status = "warn" if kid["kid_ci"][0] > kid["kid_real_baseline_ci"][1] else "pass"
    real_prdc, syn_prdc = prdc(real_a, real_b, k=config["prdc_k"]), prdc(real_a, synthetic, k=config["prdc_k"])
    cov_gap = real_prdc["coverage"] - syn_prdc["coverage"]
    moments = moment_differences(real_images, synthetic_images)
    worst = max(moments, key=lambda k: abs(np.nan_to_num(moments[k]["smd"])))
    div_syn = ms_ssim_diversity(synthetic_images, n_pairs=config["ms_ssim_pairs"], seed=seed)
    div_real = ms_ssim_diversity(real_images, n_pairs=config["ms_ssim_pairs"], seed=seed)
    collapse = div_syn["ms_ssim"] - div_real["ms_ssim"]
    return [
        audit_record(generator, "fidelity", "frechet_distance", status_by_thresholds(
            fd["ratio"], config["fd_ratio_warn"], config["fd_ratio_fail"]), value=fd["fd"],
            threshold=config["fd_ratio_warn"], evidence={**base, **fd, "n": fd["n_compared"]},
            message=(f"FD {fd['fd']:.3g} vs real-vs-real {fd['fd_real_baseline']:.3g} at N={fd['n_compared']} "
                     f"(ratio {fd['ratio']:.2f}; {extractor})")),
        audit_record(generator, "fidelity", "kernel_distance", kid_status, value=kid["kid_mean"],
                     threshold=kid["kid_real_baseline_ci"][1], evidence={**base, **kid, "n": len(synthetic)},
                     message=(f"KID {kid['kid_mean']:.3g} ± {kid['kid_std']:.2g} vs real-vs-real "
                              f"{kid['kid_real_baseline']:.3g}")),
        audit_record(generator, "fidelity", "precision_recall_density_coverage",
                     status_by_thresholds(cov_gap, config["coverage_gap_warn"], None), value=syn_prdc["coverage"],
                     threshold=real_prdc["coverage"] - config["coverage_gap_warn"],
                     evidence={**base, "synthetic": syn_prdc, "real_baseline": real_prdc, "n": len(synthetic)},
                     message=(f"precision {syn_prdc['precision']:.2f}, recall {syn_prdc['recall']:.2f}, density "
                              f"{syn_prdc['density']:.2f}, coverage {syn_prdc['coverage']:.2f} (real-vs-real "
                              f"coverage {real_prdc['coverage']:.2f})")),
        audit_record(generator, "fidelity", "intensity_moments", status_by_thresholds(
            abs(np.nan_to_num(moments[worst]["smd"])), config["moment_smd_warn"], config["moment_smd_fail"]),
            value=moments[worst]["smd"], threshold=config["moment_smd_warn"],
            evidence={"moments": moments, "n_real": len(real_images), "n": len(synthetic_images)},
            message=f"largest intensity-moment shift: {worst} (standardised difference {moments[worst]['smd']:+.2f})"),
        audit_record(generator, "fidelity", "ms_ssim_diversity", status_by_thresholds(
            collapse, config["ms_ssim_gap_warn"], config["ms_ssim_gap_fail"]), value=div_syn["ms_ssim"],
            threshold=div_real["ms_ssim"] + config["ms_ssim_gap_warn"],
            evidence={"synthetic": div_syn, "real": div_real, "n": len(synthetic_images)},
            message=(f"mean MS-SSIM among synthetic pairs {div_syn['ms_ssim']:.3f} vs real pairs "
                     f"{div_real['ms_ssim']:.3f} (higher = less diverse)")),
    ]
