"""The generator conformance checks: small named functions, one property each.

Every check takes ``(generator, ctx)`` — the *unfitted* generator and a :class:`CheckContext`
holding the tiny training view, a scratch folder and a shared fitted copy — and either returns a
short pass note, raises :class:`CheckSkip` (the generator's tags say it does not apply), raises
:class:`CheckFail` with a message saying what went wrong, or — a statistical check whose sample cap
cannot reach its stated power and whose test did not pass — raises :class:`CheckInconclusive`. Front ends live in
:mod:`mammobench.testing`.

Example:
    >>> from mammobench.generators import get_generator
    >>> ctx = CheckContext()
    >>> check_fit_returns_self(get_generator("none"), ctx)
    'fit returned the generator itself'
"""
from __future__ import annotations

import inspect
from typing import Any, Callable

import numpy as np
import pandas as pd

from mammobench.cards import GeneratorCard
from mammobench.generators.box_checks import check_boxes_on_lesion
from mammobench.generators.check_context import (CheckContext, CheckFail, CheckInconclusive, CheckSkip,  # noqa: F401
                                                 clone, declared_tags, needs_samples, sampled_batch)
from mammobench.generators.conditions import LABEL_COLUMNS
from mammobench.generators.statistical_checks import check_conditions_recognised_by_oracle
from mammobench.generators.watch import watch_all_opens, watch_paths
from mammobench.protocols import CONDITION_COLUMNS, Generator, GeneratorTags


def check_protocol(gen: Any, ctx: CheckContext) -> str:
    """Has ``card``, ``tags`` (a GeneratorTags), ``fit`` and ``sample`` with keyword-only ``seed``."""
    if not isinstance(gen, Generator):
        missing = [a for a in ("card", "tags", "fit", "sample") if not hasattr(gen, a)]
        raise CheckFail(f"{type(gen).__name__} does not implement the Generator protocol; missing {missing}")
    if not isinstance(gen.tags, GeneratorTags):
        raise CheckFail(f"tags must be a mammobench.protocols.GeneratorTags, got {type(gen.tags).__name__}")
    for method in ("fit", "sample"):
        params = inspect.signature(getattr(gen, method)).parameters
        if "seed" not in params or params["seed"].kind is not inspect.Parameter.KEYWORD_ONLY:
            raise CheckFail(f"{method}() must take a keyword-only 'seed' argument")
    return "card, tags, fit(data, *, seed), sample(n, *, conditions, seed) present"


def check_init_has_no_side_effects(gen: Any, ctx: CheckContext) -> str:
    """Constructing opens no data file and sets no learned (``*_``) attribute."""
    with watch_all_opens() as opened:
        fresh = clone(gen)
    data = [p for p in opened if not p.endswith((".py", ".pyc", ".so", ".pth")) and "__pycache__" not in p]
    if data:
        raise CheckFail(f"__init__ opened file(s) {data[:3]}; load data in fit(), not in the constructor")
    learned = [k for k in vars(fresh) if k.endswith("_") and not k.startswith("_")]
    if learned:
        raise CheckFail(f"__init__ set learned attribute(s) {learned}; set them in fit()")
    return "constructor stores parameters only"


def check_card_valid(gen: Any, ctx: CheckContext) -> str:
    """The card is a valid GeneratorCard; after fit it names the training-manifest hash."""
    card = gen.card
    card = GeneratorCard.from_dict(card) if isinstance(card, dict) else card
    if not isinstance(card, GeneratorCard):
        raise CheckFail(f"card must be a GeneratorCard (or its dict form), got {type(card).__name__}")
    missing = [c for c in declared_tags(gen).conditional_on if c not in card.conditioning]
    if missing:
        raise CheckFail(f"tags.conditional_on has {missing} but the card's 'conditioning' does not list them")
    if declared_tags(gen).requires_fit:
        fitted = ctx.fitted(gen).card
        if fitted.training_manifest_sha256 != ctx.view.manifest_hash:
            raise CheckFail(f"after fit, card.training_manifest_sha256 is {fitted.training_manifest_sha256!r}, "
                            f"expected the training view's hash {ctx.view.manifest_hash[:12]}…")
    return f"card '{card.name}' {card.version} ({card.kind}) valid"


def check_fit_returns_self(gen: Any, ctx: CheckContext) -> str:
    """``fit`` returns the generator itself (so ``Gen().fit(view, seed=0).sample(...)`` works)."""
    record = ctx.fit_record(gen)
    if record["returned"] is not record["fresh"]:
        raise CheckFail(f"fit returned {type(record['returned']).__name__} instead of the generator itself "
                        "(return self)")
    return "fit returned the generator itself"


def check_reads_only_the_train_view(gen: Any, ctx: CheckContext) -> str:
    """Neither ``fit`` nor ``sample`` opens or lists anything under a canary test-split folder."""
    record = ctx.fit_record(gen)
    with watch_paths(record["test_dir"]) as seen:
        record["fresh"].sample(2, seed=0)
    seen = record["test_reads"] + list(seen)
    if seen:
        raise CheckFail(f"the generator read test data outside its training view: {sorted(set(seen))[:3]}; "
                        "a generator may use only the TrainView it is handed")
    return "no access to the canary test split during fit/sample"


def check_sample_shape_dtype_range(gen: Any, ctx: CheckContext) -> str:
    """Images are float32 ``[N, 1, H, W]`` at the view's resolution, finite, within [0, 1]."""
    images = np.asarray(sampled_batch(gen, ctx, ctx.n).images)
    h, w = ctx.view.image_size
    if images.ndim != 4 or images.shape[1:] != (1, h, w):
        raise CheckFail(f"images have shape {images.shape}; expected [N, 1, {h}, {w}] (the training resolution)")
    if images.dtype != np.float32:
        raise CheckFail(f"images have dtype {images.dtype}; expected float32")
    if images.size and (not np.isfinite(images).all() or images.min() < 0 or images.max() > 1):
        raise CheckFail(f"image values span [{np.nanmin(images):.3g}, {np.nanmax(images):.3g}] or are not "
                        "finite; expected values within [0, 1]")
    return f"[N, 1, {h}, {w}] float32 in [0, 1]"


def check_sample_count(gen: Any, ctx: CheckContext) -> str:
    """``sample(n)`` returns exactly ``n`` images and ``n`` label rows (for n = 0, 1, 5)."""
    needs_samples(gen)
    for n in (0, 1, 5):
        batch = sampled_batch(gen, ctx, n, seed=n)
        if len(batch.images) != n or len(batch.labels) != n:
            raise CheckFail(f"sample({n}) returned {len(batch.images)} images and {len(batch.labels)} label rows")
    return "n = 0, 1, 5 honoured"


def _box_problem(box: Any, h: int, w: int) -> str | None:
    try:
        x0, y0, x1, y1 = (float(v) for v in box)
    except (TypeError, ValueError):
        return f"box {box!r} is not four numbers [x0, y0, x1, y1]"
    if not (0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h):
        return f"box {box!r} is empty or outside the {w}×{h} image"
    return None


def check_labels_consistent(gen: Any, ctx: CheckContext) -> str:
    """Labels have the required columns; boxes lie inside the image and agree with the labels."""
    needs_samples(gen)
    batch = sampled_batch(gen, ctx, ctx.n, seed=1)
    missing = [c for c in LABEL_COLUMNS if c not in batch.labels.columns]
    if missing:
        raise CheckFail(f"labels table lacks column(s) {missing}; required: {list(LABEL_COLUMNS)}")
    h, w = batch.images.shape[2:]
    for i, row in batch.labels.reset_index(drop=True).iterrows():
        findings = row["findings"]
        if not isinstance(findings, list):
            raise CheckFail(f"labels row {i}: findings must be a list of dicts, got {type(findings).__name__}")
        if (row["label"] == "normal") != (len(findings) == 0) and declared_tags(gen).produces_boxes:
            raise CheckFail(f"labels row {i}: label {row['label']!r} but {len(findings)} finding(s)")
        for f in findings:
            problem = _box_problem(f.get("box"), h, w)
            if problem:
                raise CheckFail(f"labels row {i}: {problem}")
            if f.get("lesion_type") != row["lesion_type"]:
                raise CheckFail(f"labels row {i}: finding lesion_type {f.get('lesion_type')!r} differs from the "
                                f"row's lesion_type {row['lesion_type']!r}")
    return f"{len(batch)} label rows consistent with their boxes"


def check_seed_determinism(gen: Any, ctx: CheckContext) -> str:
    """Same seed → identical images and labels; a different seed → different images."""
    needs_samples(gen)
    if not declared_tags(gen).deterministic_given_seed:
        raise CheckSkip("tags.deterministic_given_seed is False")
    a, b, c = (sampled_batch(gen, ctx, ctx.n, seed=s) for s in (7, 7, 8))
    if not np.array_equal(a.images, b.images) or not a.labels.astype(str).equals(b.labels.astype(str)):
        raise CheckFail("two calls with seed=7 gave different samples; derive all randomness from the seed")
    if np.array_equal(a.images, c.images):
        raise CheckFail("seed=7 and seed=8 gave identical images; the generator ignores its seed")
    return "seed 7 twice identical, seed 8 different"


def _achievable_conditions(gen: Any, ctx: CheckContext, n: int, seed: int) -> pd.DataFrame:
    cols = [c for c in declared_tags(gen).conditional_on if c in CONDITION_COLUMNS]
    rows = ctx.view.manifest.sample(n=n, replace=True, random_state=seed)
    return rows.loc[:, cols].astype(str).reset_index(drop=True)


def check_conditions_in_labels(gen: Any, ctx: CheckContext) -> str:
    """Labels report the requested values of every column in ``tags.conditional_on``."""
    needs_samples(gen)
    if not declared_tags(gen).conditional_on:
        raise CheckSkip("tags.conditional_on is empty: the generator is unconditional")
    wanted = _achievable_conditions(gen, ctx, ctx.n, seed=3)
    labels = sampled_batch(gen, ctx, ctx.n, seed=3, conditions=wanted).labels.reset_index(drop=True)
    for col in wanted.columns:
        bad = np.flatnonzero(labels[col].astype(str).to_numpy() != wanted[col].to_numpy())
        if len(bad):
            i = int(bad[0])
            raise CheckFail(f"requested {col}={wanted[col].iloc[i]!r} in row {i} but the label says "
                            f"{labels[col].iloc[i]!r}")
    return f"labels echo requested {list(wanted.columns)}"


def check_save_load_roundtrip(gen: Any, ctx: CheckContext) -> str:
    """Saving the fitted generator as a file and loading it gives identical samples."""
    from mammobench.generators.cache import load_generator, save_generator

    fitted = ctx.fitted(gen)
    path = save_generator(fitted, ctx.tmp / f"roundtrip-{id(gen)}.pt")
    loaded = load_generator(path)
    a, b = fitted.sample(3, seed=5), loaded.sample(3, seed=5)
    if not np.array_equal(np.asarray(a.images), np.asarray(b.images)):
        raise CheckFail("samples from the reloaded generator differ from the original's (same seed); "
                        "put all learned state in state_dict()/attributes ending in '_'")
    if not a.labels.astype(str).equals(b.labels.astype(str)):
        raise CheckFail("labels from the reloaded generator differ from the original's (same seed)")
    return f"saved ({path.stat().st_size / 1e6:.2f} MB), reloaded, identical samples"


ALL_CHECKS: tuple[Callable[[Any, CheckContext], str], ...] = (
    check_protocol, check_init_has_no_side_effects, check_card_valid, check_fit_returns_self,
    check_reads_only_the_train_view, check_sample_shape_dtype_range, check_sample_count,
    check_labels_consistent, check_seed_determinism, check_conditions_in_labels,
    check_conditions_recognised_by_oracle, check_save_load_roundtrip, check_boxes_on_lesion,
)

#: the checks whose outcome is a decision from a sample (sized; may be inconclusive)
STATISTICAL_CHECKS: tuple[Callable[[Any, CheckContext], str], ...] = (check_conditions_recognised_by_oracle,)

__all__ = (["ALL_CHECKS", "STATISTICAL_CHECKS", "CheckContext", "CheckFail", "CheckInconclusive", "CheckSkip", "clone"]
           + [c.__name__ for c in ALL_CHECKS])
