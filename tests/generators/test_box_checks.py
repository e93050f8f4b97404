"""check_boxes_on_lesion: boxes on the drawn lesion pass, the same images with boxes moved off the lesion fail.

Margins (tiny training view, 32 px, 96 lesion images; measured on view seeds 0, 3, 7, 1000, 2000): the planted
memoriser (copies of training lesion images with their exact boxes) has a mean brightness rank of 0.92–1.00
(pass line 0.7; the test asserts ≥ 0.85); the planted off-location generator (the same copies, boxes reflected
through the image centre) 0.16–0.25 (fail line 0.5; the test asserts ≤ 0.35). With ≤ 0.35 per box standard
deviation the mean of 96 boxes has a standard error ≤ 0.036, so each asserted bound is ≥ 4 standard errors
from the measured values and each decision ≥ 6 from its line.
"""
from __future__ import annotations

import numpy as np
import pytest

from mammobench.baselines.planted import register
from mammobench.baselines.planted.generators import off_location
from mammobench.generators import get_generator
from mammobench.generators.box_checks import (FAIL_RANK, N_DRAWN, PASS_RANK, _lesion_conditions, box_rank,
                                              box_ranks, check_boxes_on_lesion)
from mammobench.generators.checks import CheckContext
from mammobench.generators.fixtures import make_tiny_train_view
from mammobench.testing import check_generator, run_check
from tests.helpers.seeds import data_seed

register()


@pytest.fixture(scope="module")
def ctx():
    context = CheckContext(make_tiny_train_view(n=32, size=32, seed=data_seed(0)))
    yield context
    context.close()


def _mean_rank(name: str, ctx: CheckContext) -> float:
    gen = get_generator(name)
    batch = ctx.fitted(gen).sample(N_DRAWN, conditions=_lesion_conditions(gen, ctx), seed=5)
    return float(box_ranks(batch.images, list(batch.labels["findings"])).mean())


def test_boxes_on_the_drawn_lesion_pass(ctx):
    assert _mean_rank("planted_memoriser", ctx) >= 0.85 > PASS_RANK
    result = run_check(check_boxes_on_lesion, get_generator("planted_memoriser"), ctx)
    assert result.status == "pass", result.reason


def test_boxes_moved_off_the_lesion_fail(ctx):
    assert _mean_rank("planted_off_location", ctx) <= 0.35 < FAIL_RANK
    result = run_check(check_boxes_on_lesion, get_generator("planted_off_location"), ctx)
    assert result.status == "fail" and "do not mark where the lesions are" in result.reason


def test_off_location_generator_fails_only_the_box_check(ctx):
    results = {r.name: r for r in check_generator("planted_off_location", train_view=ctx.view)}
    failed = sorted(name for name, r in results.items() if r.status == "fail")
    assert failed == ["check_boxes_on_lesion"], {n: results[n].reason for n in failed}


def test_generator_without_boxes_is_skipped(ctx):
    result = run_check(check_boxes_on_lesion, get_generator("none"), ctx)
    assert result.status == "skip" and "produces_boxes" in result.reason


def test_box_rank_on_synthetic_images():
    img = np.full((32, 32), 0.3, np.float32)
    img[10:16, 10:16] = 0.8
    assert box_rank(img, [10, 10, 16, 16]) == 1.0            # brighter than all eight neighbours
    assert box_rank(img, [20, 20, 26, 26]) < 0.5              # flat tissue, one neighbour holds the lesion
    assert box_rank(img, [40, 40, 46, 46]) is None            # off the image: nothing to measure
    air = np.zeros((32, 32), np.float32)
    air[:, :16] = 0.4
    air[10:14, 4:8] = 0.9
    assert box_rank(air, [4, 10, 8, 14]) == 1.0               # neighbours in the air are not compared
    malformed = [[{"box": [1, 2, 3]}, {"box": [float("nan"), 0, 4, 4]}, {"box": None}, {"box": [10, 10, 16, 16]}]]
    assert box_ranks(img[None], malformed).tolist() == [1.0]  # only the well-formed box is measured


def test_off_location_moves_boxes_off_and_keeps_them_on_the_image():
    rng = np.random.default_rng(data_seed(0))
    for _ in range(200):
        x0, y0 = rng.integers(0, 26, 2)
        w, h = rng.integers(2, 7, 2)
        box = [int(x0), int(y0), int(min(x0 + w, 32)), int(min(y0 + h, 32))]
        nx0, ny0, nx1, ny1 = off_location(box, 32, 32)
        assert 0 <= nx0 < nx1 <= 32 and 0 <= ny0 < ny1 <= 32
        assert (nx1 - nx0, ny1 - ny0) == (box[2] - box[0], box[3] - box[1])
        assert not (nx0 < box[2] and nx1 > box[0] and ny0 < box[3] and ny1 > box[1]), (box, (nx0, ny0, nx1, ny1))
