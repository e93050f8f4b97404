"""Conformance check: the boxes a generator returns lie on the lesions it drew.

A detector trained on synthetic images learns *where* lesions are from the generator's boxes, so a box
beside its lesion teaches the wrong place (``check_labels_consistent`` already checks that each box is a
non-empty box inside the image). What "the lesion it drew" is cannot be read off a generated image in
general — the generator's lesion-free rendering of the same image is not available — so the check uses
what a mammographic lesion is: **denser, so brighter, than the tissue beside it** (images are bright =
dense, docs/architecture.md contract 2). :func:`box_rank` ranks the mean brightness inside a box among its
eight neighbours, the same-size windows one box width / height away that lie on the image and in tissue
(windows in the dark air beside the skin line are not compared): 1 = brighter than every neighbour,
0.5 = like its neighbours. A box that lies mostly in that air (more than :data:`MAX_AIR_IN_BOX` of its pixels)
ranks 0: a lesion lies in tissue, so such a box marks none — on whole mammograms a box moved off its lesion
often lands beyond the skin line, where no neighbour comparison is possible.

Decision (:func:`check_boxes_on_lesion`, on :data:`N_DRAWN` lesion images, at least :data:`MIN_BOXES` boxes):

* **pass** when the mean rank is ≥ :data:`PASS_RANK` (0.7);
* **fail** when it is < :data:`FAIL_RANK` (0.5): the boxes hold nothing brighter than the tissue around
  them — a box placed independently of its lesion ranks 0.5 on average when its neighbourhood is
  exchangeable (standard deviation ≤ 0.35 per box, so ≤ 0.036 for the mean of 96 boxes);
* **skip** (inconclusive) in between: something is marked, too faint beside the tissue to confirm.

Measured on the tiny training view (32 px, tests/generators/test_box_checks.py): its exact boxes 0.93–0.99;
the same boxes reflected through the image centre (off the lesion) 0.28–0.40; baselines at their tiny
configs: classic 0.93, ddpm 0.87, physics 0.61–0.68 (realistic low-contrast masses in textured tissue and
sub-pixel calcifications: inconclusive, skipped), cgan 0.28 at its tiny config (30 GAN steps draw no
visible lesion: fails) and 0.60–0.65 at its conformance config (600 steps: inconclusive, skipped). Generators whose tags say they return no boxes are skipped, as are
those that give fewer than :data:`MIN_BOXES` boxes. Documented in docs/generators.md.

Example:
    >>> img = np.full((32, 32), 0.3, np.float32); img[10:16, 10:16] = 0.8
    >>> box_rank(img, [10, 10, 16, 16]), box_rank(img, [20, 20, 26, 26])  # on the lesion; in tissue beside it
    (1.0, 0.4375)
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from mammobench.generators.check_context import CheckContext, CheckFail, CheckSkip, declared_tags, sampled_batch

MIN_BOXES = 24      # fewer boxes than this: too few to decide (skip)
N_DRAWN = 96        # lesion images requested (conditional generators) or samples drawn (the others)
PASS_RANK = 0.7     # mean rank at or above which the boxes are on their lesions
FAIL_RANK = 0.5     # mean rank below which the boxes hold nothing brighter than their neighbours
AIR_LEVEL = 0.06    # air: pixels darker than this (images in [0, 1], air near 0)
MAX_AIR = 0.1       # neighbours with more air than this are not compared
MAX_AIR_IN_BOX = 0.5  # a box with more air than this marks no lesion (rank 0)
MIN_SIDE = 3        # boxes are widened to at least this many pixels before measuring


def _window(box: Any, shape: tuple[int, int]) -> tuple[int, int, int, int]:
    """Integer window ``(x0, y0, x1, y1)`` covering ``box``, at least :data:`MIN_SIDE` wide, clipped to ``shape``."""
    h, w = shape
    x0, y0, x1, y1 = (float(v) for v in box)
    x0, y0, x1, y1 = int(np.floor(x0)), int(np.floor(y0)), int(np.ceil(x1)), int(np.ceil(y1))
    for lo, hi, size, axis in ((x0, x1, w, 0), (y0, y1, h, 1)):
        grow = max(0, MIN_SIDE - (hi - lo))
        lo, hi = max(0, lo - grow // 2), min(size, hi + grow - grow // 2)
        if axis == 0:
            x0, x1 = lo, hi
        else:
            y0, y1 = lo, hi
    return x0, y0, x1, y1


def air_mask(image: np.ndarray) -> np.ndarray:
    """Pixels darker than :data:`AIR_LEVEL`: the air around the breast (near 0 after preprocessing).

    Example:
        >>> img = np.zeros((8, 8), np.float32); img[:, :4] = 0.5
        >>> int(air_mask(img).sum())
        32
    """
    return np.asarray(image) < AIR_LEVEL


def box_rank(image: np.ndarray, box: Any) -> float | None:
    """Rank (0–1, ties count half) of the mean brightness inside ``box`` among its eight neighbours — the
    same-size windows one box width / height away (left, right, above, below, diagonals) that lie on the
    image and in tissue (at most 10 % air, :func:`air_mask`); 0 when the box itself lies mostly in air
    (more than :data:`MAX_AIR_IN_BOX`); None when no neighbour qualifies.

    Example:
        >>> img = np.full((32, 32), 0.3, np.float32); img[12:18, 12:18] = 0.6
        >>> box_rank(img, [12, 12, 18, 18]), round(box_rank(img, [2, 2, 8, 8]), 2)  # a neighbour holds the lesion
        (1.0, 0.33)
        >>> img[:, 24:] = 0.0  # air beyond the skin line
        >>> box_rank(img, [25, 4, 31, 10])
        0.0
    """
    image = np.asarray(image, np.float32)
    h, w = image.shape
    x0, y0, x1, y1 = _window(box, (h, w))
    bw, bh = x1 - x0, y1 - y0
    if bw <= 0 or bh <= 0:
        return None  # off the image (check_labels_consistent names it)
    air = air_mask(image)
    if air[y0:y1, x0:x1].mean() > MAX_AIR_IN_BOX:
        return 0.0  # beyond the skin line: a lesion lies in tissue
    own, others = image[y0:y1, x0:x1].mean(), []
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            ox, oy = x0 + dx * bw, y0 + dy * bh
            if (dx, dy) == (0, 0) or ox < 0 or oy < 0 or ox + bw > w or oy + bh > h:
                continue
            if air[oy:oy + bh, ox:ox + bw].mean() > MAX_AIR:
                continue  # a lesion lies in tissue: the dark air beside the skin line is no comparison
            others.append(image[oy:oy + bh, ox:ox + bw].mean())
    if not others:
        return None
    others = np.asarray(others)
    return float(((others < own).sum() + 0.5 * (others == own).sum()) / len(others))


def _is_box(box: Any) -> bool:
    """Four finite numbers (anything else is check_labels_consistent's to report)."""
    try:
        return len(box) == 4 and all(np.isfinite(float(v)) for v in box)
    except (TypeError, ValueError):
        return False


def box_ranks(images: np.ndarray, findings: list[list[dict]]) -> np.ndarray:
    """:func:`box_rank` of every box of every image (``images`` ``[N, 1, H, W]`` or ``[N, H, W]``).

    Example:
        >>> imgs = np.full((2, 1, 24, 24), 0.3, np.float32); imgs[:, 0, 4:9, 4:9] = 1.0
        >>> box_ranks(imgs, [[{"box": [4, 4, 9, 9]}], []]).tolist()
        [1.0]
    """
    images = np.asarray(images)
    images = images[:, 0] if images.ndim == 4 else images
    ranks = [box_rank(image, f["box"]) for image, fs in zip(images, findings) for f in fs if _is_box(f.get("box"))]
    return np.asarray([r for r in ranks if r is not None], float)


def _lesion_conditions(gen: Any, ctx: CheckContext) -> pd.DataFrame | None:
    """Conditions asking for lesion images (training rows with a finding), when the generator takes a label."""
    cols = [c for c in declared_tags(gen).conditional_on if c in ("label", "lesion_type", "density", "age_band", "view")]
    lesions = ctx.view.manifest[ctx.view.manifest["label"].astype(str) != "normal"]
    if "label" not in cols or lesions.empty:
        return None
    rows = lesions.sample(n=N_DRAWN, replace=True, random_state=5)
    return rows.loc[:, cols].astype(str).reset_index(drop=True)


def check_boxes_on_lesion(gen: Any, ctx: CheckContext) -> str:
    """Returned boxes cover the lesion the generator drew: each box is brighter than the tissue beside it.

    Pass when the mean :func:`box_rank` over ≥ :data:`MIN_BOXES` boxes is ≥ :data:`PASS_RANK`, fail below
    :data:`FAIL_RANK`, skip (inconclusive) in between; the module docstring gives the measure and its margins.

    Example:
        >>> from mammobench.generators import get_generator
        >>> check_boxes_on_lesion(get_generator("none"), CheckContext())
        Traceback (most recent call last):
        ...
        mammobench.generators.check_context.CheckSkip: tags.produces_boxes is False: the generator returns no lesion boxes
    """
    if not declared_tags(gen).produces_boxes:
        raise CheckSkip("tags.produces_boxes is False: the generator returns no lesion boxes")
    batch = sampled_batch(gen, ctx, N_DRAWN, seed=5, conditions=_lesion_conditions(gen, ctx))
    findings = [f if isinstance(f, list) else [] for f in batch.labels["findings"]]
    ranks = box_ranks(batch.images, findings)
    if len(ranks) < MIN_BOXES:
        raise CheckSkip(f"{len(ranks)} measurable box(es) in {N_DRAWN} samples; at least {MIN_BOXES} are needed "
                        "to tell a box on its lesion from a misplaced one")
    mean = float(ranks.mean())
    ctx.designs["check_boxes_on_lesion"] = {"mean_rank": mean, "n_boxes": int(len(ranks)), "pass_rank": PASS_RANK,
                                            "fail_rank": FAIL_RANK}
    if mean < FAIL_RANK:
        raise CheckFail(f"the boxes do not mark where the lesions are: mean brightness rank {mean:.2f} over "
                        f"{len(ranks)} boxes among their neighbouring windows (1 = each box brighter than all its "
                        f"neighbours, 0.5 = like them; pass ≥ {PASS_RANK}, fail < {FAIL_RANK}); check the box "
                        "coordinates (x0, y0, x1, y1 in output pixels, x first) and that the lesions are drawn")
    if mean < PASS_RANK:
        raise CheckSkip(f"inconclusive: mean brightness rank {mean:.2f} over {len(ranks)} boxes (pass ≥ {PASS_RANK}, "
                        f"fail < {FAIL_RANK}): the lesions are too faint beside their tissue to confirm the boxes")
    return f"boxes on their lesions: mean brightness rank {mean:.2f} over {len(ranks)} boxes (≥ {PASS_RANK})"

__all__ = ["FAIL_RANK", "MAX_AIR_IN_BOX", "MIN_BOXES", "N_DRAWN", "PASS_RANK", "box_rank", "box_ranks",
           "check_boxes_on_lesion", "air_mask"]
