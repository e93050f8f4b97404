"""The simulator's speed-ups compute what the code they replaced computed, value for value.

Each test runs a fast path and the former formulation (written out here as the reference) on the
same inputs in the same process and requires equal arrays — deterministic comparisons, no
statistics. The one exception is the scatter up-sampling: two float64 matrix products (BLAS, which
may fuse multiply-adds) against ``ndimage.zoom``'s per-pixel sum, allowed to differ by 1 float32
ulp (equal on the development machine).
"""
from __future__ import annotations

import numpy as np
import pytest
from scipy import fft as sfft
from scipy import ndimage, optimize

from mammobench.simulator import filters, imaging, lesions, presentation, texture
from mammobench.simulator.phantom import _warp, _weighted_index


@pytest.mark.parametrize("n_small", [8, 32])
def test_scatter_upsampling_equals_ndimage_zoom(n_small):
    rng = np.random.default_rng(n_small)
    up = imaging._upsample_matrix(n_small, 8)
    for _ in range(5):
        small = (rng.random((n_small, n_small)) * 1e4).astype(np.float32)
        fast = (up @ small.astype(np.float64) @ up.T).astype(np.float32)
        reference = ndimage.zoom(small, 8, order=1, grid_mode=True, mode="nearest")
        np.testing.assert_array_max_ulp(fast, reference, maxulp=1)


def _old_transfer(shape, sigma):
    fy, fx = sfft.fftfreq(shape[0])[:, None], sfft.rfftfreq(shape[1])[None, :]
    out = np.exp(-2.0 * np.pi ** 2 * sigma ** 2 * (fy * fy + fx * fx))
    return np.where(out < filters.TRANSFER_FLOOR, 0.0, out).astype(np.float32)


def test_blur_transfer_is_the_gaussian_floored_without_subnormals():
    rng = np.random.default_rng(0)
    for _ in range(60):
        shape = (int(rng.integers(40, 400)), int(rng.integers(40, 400)))
        sigma = float(rng.uniform(3.0, 12.0))
        fast = filters._transfer.__wrapped__(shape, sigma)
        assert np.array_equal(fast, _old_transfer(shape, sigma)), (shape, sigma)
        assert not ((fast > 0) & (fast < np.finfo(np.float32).tiny)).any()


def test_warp_on_the_moved_box_equals_map_coordinates():
    rng = np.random.default_rng(1)
    canvas = lesions.Canvas(size=96, pixel_mm=2.5, tissue=np.full((96, 96), 40.0, np.float32))
    for centre in [(48.0, 48.0), (3.2, 90.7), (80.4, 10.1)]:
        warp = lesions.make_distortion(rng, canvas, centre, 20.0).warp
        image = rng.random((96, 96)).astype(np.float32)
        assert np.array_equal(_warp(image, warp), ndimage.map_coordinates(image, warp, order=1, mode="nearest"))
    identity = tuple(np.indices((96, 96)).astype(np.float32))
    image = rng.random((96, 96)).astype(np.float32)
    assert np.array_equal(_warp(image, identity), image)


def test_weighted_index_is_rng_choice():
    for seed in range(300):
        rng = np.random.default_rng(seed)
        g = rng.random((64, 64), dtype=np.float32)
        allowed = rng.random((64, 64)) < rng.uniform(0.001, 0.9)
        allowed[seed % 64, seed % 61] = True
        weights = np.where(allowed, 0.2 + g, 0.0).ravel()
        a, b = np.random.default_rng(seed + 10_000), np.random.default_rng(seed + 10_000)
        assert _weighted_index(a, weights) == int(b.choice(weights.size, p=weights / weights.sum()))
        assert a.random() == b.random()   # the same number of draws


def _old_deposit(canvas, points_mm, volume_per_mm, out):
    seg = np.diff(points_mm, axis=0)
    lengths = np.hypot(seg[:, 0], seg[:, 1])
    step = canvas.pixel_mm / 3.0
    for p, d, length in zip(points_mm[:-1], seg, lengths):
        n = max(int(np.ceil(length / step)), 1)
        ts = (np.arange(n) + 0.5) / n
        pts = p[None, :] + ts[:, None] * d[None, :]
        lesions.splat(out, pts / canvas.pixel_mm - 0.5, np.full(n, volume_per_mm * length / n / canvas.pixel_mm ** 2))


def test_polylines_in_one_add_at_equal_the_segment_loop():
    rng = np.random.default_rng(2)
    canvas = lesions.Canvas(size=64, pixel_mm=0.9375, tissue=np.ones((64, 64), np.float32))
    polylines = [(rng.uniform(0, 60, (int(rng.integers(2, 7)), 2)), float(rng.uniform(0.05, 2.0))) for _ in range(40)]
    polylines.append((np.array([[30.0, 30.0], [30.0, 30.0]]), 1.0))   # a zero-length segment
    fast, reference = np.zeros((64, 64), np.float32), np.zeros((64, 64), np.float32)
    lesions._deposit_polylines(canvas, polylines, fast)
    for points, volume in polylines:
        _old_deposit(canvas, points, volume, reference)
    assert np.array_equal(fast, reference) and fast.sum() > 0


def test_presentation_lut_on_breast_pixels_equals_the_full_image_version():
    rng = np.random.default_rng(3)
    n = 64
    breast = np.zeros((n, n), bool)
    breast[8:56, :40] = True
    raw = imaging.RawImage(counts=rng.uniform(200, 9000, (n, n)).astype(np.float32),
                           air_counts=np.full((n, n), 12000.0, np.float32), params={})
    thickness = np.where(breast, 50.0, 0.0).astype(np.float32)
    params = {"equalisation": 0.8, "unsharp_gain": 0.7, "unsharp_sigma_mm": 12.0, "gamma": 0.9}
    log = -np.log(np.maximum(raw.counts, 1.0) / np.maximum(raw.air_counts, 1.0))
    log = np.where(breast, log + 0.8 * imaging.MU["adipose"] * (50.0 - thickness), 0.0)
    log = np.where(breast, log + 0.7 * (log - presentation._masked_blur(log, breast, 12.0 / 3.75)), 0.0)
    lo, hi = np.percentile(log[breast], [1.0, 99.5])
    scaled = np.clip((log - lo) / max(hi - lo, 1e-6), 0.0, 1.0)
    reference = np.where(breast, presentation.FAT_FLOOR + (1.0 - presentation.FAT_FLOOR) * scaled ** 0.9, 0.0)
    fast = presentation.present(raw, breast, thickness, 50.0, 3.75, params)
    assert np.array_equal(fast, reference.astype(np.float32))
    assert not presentation.present(raw, np.zeros_like(breast), thickness, 50.0, 3.75, params).any()


def _old_glandular_fraction(z, prior, modulation, fat_texture, tissue, target_vbd):
    inside = tissue > 0
    weights = tissue[inside].astype(np.float64)
    total = float(weights.sum())
    drive = (z[inside] + 1.5 * prior[inside]).astype(np.float32)
    gain = (1.0 + 0.35 * modulation[inside]).astype(np.float32)
    floor = (0.04 * fat_texture[inside]).astype(np.float32)

    def g_of(tau):
        core = 1.0 / (1.0 + np.exp((np.float32(tau) - drive) / np.float32(texture.SIGMOID_WIDTH)))
        return np.clip(core * gain + floor, 0.0, 1.0)

    def excess(tau):
        return float(np.dot(g_of(tau), weights)) / total - target_vbd

    lo, hi = float(drive.min()) - 12.0, float(drive.max()) + 12.0
    tau = hi if excess(hi) >= 0 else lo if excess(lo) <= 0 else optimize.brentq(excess, lo, hi, xtol=1e-7)
    g = np.zeros(tissue.shape, dtype=np.float32)
    g[inside] = g_of(tau)
    return g, float(np.dot(g[inside], weights)) / total


@pytest.mark.parametrize("target", [0.02, 0.25, 0.6, 0.999])
def test_glandular_fraction_in_place_equals_the_former_sigmoid(target):
    rng = np.random.default_rng(int(target * 1000))
    z, prior, mod, fat = (rng.standard_normal((48, 48)).astype(np.float32) for _ in range(4))
    tissue = np.where(rng.random((48, 48)) < 0.7, rng.uniform(10, 60, (48, 48)), 0.0).astype(np.float32)
    g, vbd = texture.glandular_fraction(z, prior, mod, fat, tissue, target)
    g_ref, vbd_ref = _old_glandular_fraction(z, prior, mod, fat, tissue, target)
    assert np.array_equal(g, g_ref) and vbd == vbd_ref


def test_cropped_distance_transform_equals_the_full_one():
    from mammobench.simulator.geometry import _edt_of_region

    rng = np.random.default_rng(5)
    for k in range(8):
        region = ndimage.gaussian_filter(rng.random((80, 72)), 4) > 0.5 + 0.01 * k
        region[:, :6] = region[:, 6:7]
        crop = (slice(6, -6), slice(6, -6))
        expected = (ndimage.distance_transform_edt(region) * 0.75)[crop].astype(np.float32)
        assert np.array_equal(_edt_of_region(region, 0.75, crop), expected)
    assert not _edt_of_region(np.zeros((20, 20), bool), 1.0, crop).any()
