"""Rendering tests at small sizes: determinism, density control, ground truth, masking."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from mammobench.errors import ConfigError
from mammobench.simulator import CaseSpec, sample_case, simulate_image

LESIONS = ("mass", "calcification", "architectural_distortion", "asymmetry")


def _spec(density="B", lesion="mass", view="CC", lat="L", seed=0):
    return sample_case(np.random.default_rng(seed), density=density, lesion_type=lesion, view=view, laterality=lat,
                       pathology=None if lesion != "none" else "normal")


def test_deterministic_for_spec_and_seed():
    spec = _spec()
    a, b = simulate_image(spec, size=96, seed=5), simulate_image(spec, size=96, seed=5)
    c = simulate_image(spec, size=96, seed=6)
    assert np.array_equal(a.pixels, b.pixels) and a.findings[0]["box"] == b.findings[0]["box"]
    assert not np.array_equal(a.pixels, c.pixels)


@pytest.mark.parametrize("density", "ABCD")
def test_achieved_vbd_matches_target(density):
    spec = _spec(density=density, lesion="none", view="MLO")
    img = simulate_image(spec, size=96, seed=1)
    assert abs(img.meta["vbd"] - spec.vbd) < 0.002


def test_glandular_fraction_and_dense_area_increase_a_to_d():
    pd = {d: np.mean([simulate_image(_spec(d, "none", seed=s), size=64, seed=s).meta["pd"] for s in range(3)])
          for d in "ABCD"}
    assert pd["A"] < pd["B"] < pd["C"] < pd["D"]


@pytest.mark.parametrize("lesion", LESIONS)
@pytest.mark.parametrize("view,lat", [("CC", "R"), ("MLO", "L")])
def test_boxes_and_masks_inside_breast(lesion, view, lat):
    img = simulate_image(_spec("C", lesion, view, lat, seed=3), size=128, seed=2)
    assert len(img.findings) == 1
    f = img.findings[0]
    x0, y0, x1, y1 = f["box"]
    assert 0 <= x0 < x1 <= 128 and 0 <= y0 < y1 <= 128
    assert f["mask"].any() and not (f["mask"] & ~img.breast_mask).any()
    ys, xs = np.nonzero(f["mask"])
    assert xs.min() >= x0 and xs.max() < x1 and ys.min() >= y0 and ys.max() < y1


def test_right_breast_is_mirrored_and_pixels_valid():
    img = simulate_image(_spec(lesion="none", lat="R"), size=64, seed=0)
    assert img.breast_mask[:, -1].any() and not img.breast_mask[:, 0].any()
    assert img.pixels.dtype == np.float32 and 0.0 <= img.pixels.min() and img.pixels.max() <= 1.0
    assert (img.pixels[~img.breast_mask] == 0).all()


def test_mass_contrast_falls_with_density():
    """A mass is conspicuous in fatty tissue and masked in dense tissue (section 8 masking)."""
    def contrast(density: str) -> float:
        vals = []
        for s in range(4):
            spec = replace(_spec(density, "mass", seed=s), lesion_size_mm=14.0, lesion_shape="oval",
                           lesion_margin="circumscribed")
            img = simulate_image(spec, size=128, seed=s)
            m = img.findings[0]["mask"]
            ring = np.zeros_like(m)
            x0, y0, x1, y1 = img.findings[0]["box"]
            ring[max(y0 - 6, 0):y1 + 6, max(x0 - 6, 0):x1 + 6] = True
            ring &= ~m & img.breast_mask
            vals.append((img.pixels[m].mean() - img.pixels[ring].mean()) / (img.pixels[ring].std() + 1e-6))
        return float(np.mean(vals))
    assert contrast("A") > contrast("D") + 0.5


def test_invalid_spec_raises():
    with pytest.raises(ConfigError, match="pathology"):
        CaseSpec(age=50, density="A", vbd=0.03, view="CC", laterality="L", lesion_type="mass", pathology="normal",
                 lesion_size_mm=10.0)
    with pytest.raises(ConfigError, match="size"):
        simulate_image(_spec(), size=8, seed=0)
