"""Fidelity metrics against independent references (torchmetrics FID/KID, brute-force PRDC, numpy moments)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from threadpoolctl import threadpool_limits
from torch import nn
from torchmetrics.image.fid import FrechetInceptionDistance
from torchmetrics.image.kid import KernelInceptionDistance

from mammobench.audits.fidelity import (fd_with_baseline, frechet_distance, intensity_moments, kernel_distance,
                                       mmd2_unbiased, moment_differences, ms_ssim_diversity, prdc)
from mammobench.errors import DataError
from tests.helpers.seeds import data_seed

torch.set_num_threads(1)  # 2 shared cores: oversubscription makes small kernels 10x slower
threadpool_limits(1)


class _Identity(nn.Module):
    """Feature 'extractor' that returns precomputed features, so torchmetrics sees our features."""

    def __init__(self, d: int):
        super().__init__()
        self.num_features = d

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


def _features(seed: int, n: int = 120, d: int = 16, shift: float = 0.0, scale: float = 1.0) -> np.ndarray:
    mix = np.random.default_rng(999).normal(size=(d, d)) / np.sqrt(d)  # one shared distribution
    rng = np.random.default_rng(data_seed(seed))
    return rng.normal(size=(n, d)) @ mix * scale + shift


@pytest.mark.parametrize("shift,scale", [(0.0, 1.0), (0.5, 1.0), (0.2, 1.7)])
def test_fd_matches_torchmetrics(shift, scale):
    real, fake = _features(0), _features(1, n=90, shift=shift, scale=scale)
    metric = FrechetInceptionDistance(feature=_Identity(real.shape[1]))
    metric.update(torch.from_numpy(real), real=True)
    metric.update(torch.from_numpy(fake), real=False)
    np.testing.assert_allclose(frechet_distance(real, fake), float(metric.compute()), rtol=1e-4)


def test_kid_matches_torchmetrics_exact_and_subsets():
    real, fake = _features(2, n=100), _features(3, n=100, shift=0.3)
    exact = KernelInceptionDistance(feature=_Identity(16), subsets=1, subset_size=100)
    exact.update(torch.from_numpy(real), real=True)
    exact.update(torch.from_numpy(fake), real=False)
    tm_mean, _ = exact.compute()  # subsets of the full size = whole sets: permutation-invariant
    np.testing.assert_allclose(mmd2_unbiased(real, fake), float(tm_mean), rtol=1e-6)
    sub = KernelInceptionDistance(feature=_Identity(16), subsets=200, subset_size=50)
    sub.update(torch.from_numpy(real), real=True)
    sub.update(torch.from_numpy(fake), real=False)
    torch.manual_seed(0)
    tm_mean, tm_std = sub.compute()
    ours = kernel_distance(real, fake, subsets=200, subset_size=50, seed=0)
    # different random subsets: agree within the Monte Carlo error of the subset mean
    assert abs(ours["kid_mean"] - float(tm_mean)) < 4 * float(tm_std) / np.sqrt(200) * np.sqrt(2)
    assert ours["kid_std"] == pytest.approx(float(tm_std), rel=0.3)


def _prdc_bruteforce(x: np.ndarray, y: np.ndarray, k: int) -> dict[str, float]:
    def radius(points: np.ndarray, i: int) -> float:
        d = sorted(float(np.linalg.norm(points[i] - points[j])) for j in range(len(points)) if j != i)
        return d[k - 1]
    rx = [radius(x, i) for i in range(len(x))]
    ry = [radius(y, j) for j in range(len(y))]
    dist = lambda a, b: float(np.linalg.norm(a - b))  # noqa: E731
    precision = np.mean([any(dist(yj, x[i]) < rx[i] for i in range(len(x))) for yj in y])
    recall = np.mean([any(dist(xi, y[j]) < ry[j] for j in range(len(y))) for xi in x])
    density = sum(dist(yj, x[i]) < rx[i] for yj in y for i in range(len(x))) / (k * len(y))
    coverage = np.mean([min(dist(x[i], yj) for yj in y) < rx[i] for i in range(len(x))])
    return {"precision": precision, "recall": recall, "density": density, "coverage": coverage}


def test_prdc_matches_bruteforce_definition():
    real, fake = _features(4, n=40, d=5), _features(5, n=35, d=5, shift=0.4, scale=0.8)
    ours, ref = prdc(real, fake, k=3), _prdc_bruteforce(real, fake, 3)
    for key in ref:
        assert ours[key] == pytest.approx(ref[key], abs=1e-12), key
    far = prdc(real, fake + 100.0, k=3)
    assert far["precision"] == far["recall"] == far["coverage"] == far["density"] == 0.0


def test_fd_baseline_separates_shifted_features():
    real_a, real_b = _features(6, n=150), _features(7, n=150)
    same = fd_with_baseline(real_a, real_b, _features(8, n=150), n_boot=30, seed=0)
    shifted = fd_with_baseline(real_a, real_b, _features(9, n=150, shift=1.0), n_boot=30, seed=0)
    assert same["ratio"] < 2 and shifted["ratio"] > 5
    assert shifted["fd_ci"][0] <= shifted["fd"] <= shifted["fd_ci"][1]
    assert same["n_compared"] == 150


def test_moments_match_numpy_definitions():
    images = np.random.default_rng(0).beta(2, 5, size=(3, 12, 12))
    got = intensity_moments(images)
    x = images[1].ravel()
    mu, sd = x.mean(), x.std()
    z = (x - mu) / sd
    np.testing.assert_allclose(got[1], [mu, sd ** 2, (z ** 3).mean(), (z ** 4).mean() - 3, (z ** 5).mean()],
                               rtol=1e-10)
    diff = moment_differences(images, images * 0.5)
    assert diff["mean"]["smd"] < -1 and abs(diff["skewness"]["smd"]) < 1e-6


def test_ms_ssim_identical_pairs_and_diversity():
    rng = np.random.default_rng(0)
    base = rng.random((1, 32, 32)).astype(np.float32)
    copies = np.repeat(base, 6, axis=0)
    assert ms_ssim_diversity(copies, n_pairs=10)["ms_ssim"] == pytest.approx(1.0, abs=1e-6)
    noise = rng.random((6, 32, 32)).astype(np.float32)
    result = ms_ssim_diversity(noise, n_pairs=10)
    assert result["ms_ssim"] < 0.3 and result["scales"] >= 3


def test_bad_features_raise():
    with pytest.raises(DataError, match="2-D"):
        frechet_distance(np.zeros(5), np.zeros((5, 2)))
    with pytest.raises(DataError, match="dimensions differ"):
        frechet_distance(np.zeros((5, 2)), np.zeros((5, 3)))
    with pytest.raises(DataError, match="NaN"):
        mmd2_unbiased(np.full((4, 2), np.nan), np.zeros((4, 2)))


@pytest.mark.parametrize("size", [32, 64])
def test_ms_ssim_with_one_scale_is_ssim_and_scales_fit_small_images(size):
    """With one scale MS-SSIM is the SSIM of the full-size pair (an independent torchmetrics function);
    the scale count chosen for the image size is the largest whose coarsest image still exceeds the window."""
    from torchmetrics.functional.image import structural_similarity_index_measure as tm_ssim

    from mammobench.audits.fidelity import ms_ssim, ms_ssim_settings

    rng = np.random.default_rng(size)
    a = rng.random((4, size, size))
    b = np.clip(a + rng.normal(0, 0.2, a.shape), 0, 1)
    kernel, scales = ms_ssim_settings((size, size))
    assert size // 2 ** (scales - 1) > kernel - 1 and (scales == 5 or size // 2 ** scales <= kernel - 1)
    ref = tm_ssim(torch.from_numpy(a)[:, None], torch.from_numpy(b)[:, None], data_range=1.0, kernel_size=kernel,
                  sigma=1.5 * kernel / 11, reduction="none")
    np.testing.assert_allclose(ms_ssim(a, b, kernel=kernel, scales=1), np.maximum(ref.numpy(), 0), rtol=1e-6)
    multi = ms_ssim(a, b, kernel=kernel, scales=scales)
    assert multi.shape == (4,) and np.all((multi > 0) & (multi < 1))
