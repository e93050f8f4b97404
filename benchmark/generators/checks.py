"""The generator conformance checks: small named functions, one property each.

Every check takes ``(generator, ctx)`` — the *unfitted* generator and a :class:`CheckContext`
holding the tiny training view, a scratch folder and a shared fitted copy — and either returns a
short pass note, raises :class:`CheckSkip` (the generator's tags say it does not apply) or raises
:class:`CheckFail` with a message saying what went wrong. Front ends live in
:mod:`mammobench.testing`.

Example:
    >>> from mammobench.generators import get_generator
    >>> ctx = CheckContext()
    >>> check_fit_returns_self(get_generator("none"), ctx)
    'fit returned the generator itself'
"""
from __future__ import annotations

import copy
import inspect
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from mammobench.cards import GeneratorCard
from mammobench.generators.conditions import LABEL_COLUMNS
from mammobench.generators.fixtures import make_tiny_train_view
from mammobench.generators.watch import watch_all_opens, watch_paths
from mammobench.protocols import CONDITION_COLUMNS, Generator, GeneratorTags, SyntheticBatch, TrainView


class CheckSkip(Exception):
    """The check does not apply to this generator (reason in the message)."""


class CheckFail(AssertionError):
    """The generator violates the contract (what and why in the message)."""


class CheckContext:
    """Shared state of one conformance run: training view, scratch folder, fitted copy, oracle."""

    def __init__(self, train_view: TrainView | None = None, *, fit_seed: int = 0, n: int = 6):
        self._view = train_view
        self.fit_seed = fit_seed
        self.n = n
        self._tmp: Path | None = None
        self._fitted: dict[int, Any] = {}
        self.oracle: Any = None

    @property
    def view(self) -> TrainView:
        if self._view is None:
            self._view = make_tiny_train_view(n=32, size=32, seed=0)
        return self._view

    @property
    def tmp(self) -> Path:
        if self._tmp is None:
            self._tmp = Path(tempfile.mkdtemp(prefix="mammobench-check-"))
        return self._tmp

    def fit_record(self, gen: Any) -> dict[str, Any]:
        """Fit a clone of ``gen`` once per context, on the canary view, watching the canary test folder.

        Returns ``{"fresh", "returned", "test_reads"}``: the clone, what ``fit`` returned and the test
        paths it touched (the fit-related checks inspect this one fit instead of refitting).
        """
        # the record keeps ``gen`` alive: an id() is unique only while its object lives, and a reused
        # id would hand one generator another's fit
        if id(gen) not in self._fitted or self._fitted[id(gen)]["gen"] is not gen:
            view, test_dir = _canary_view(self)
            fresh = clone(gen)
            with watch_paths(test_dir) as seen:
                returned = fresh.fit(view, seed=self.fit_seed)
            self._fitted[id(gen)] = {"fresh": fresh, "returned": returned, "test_reads": list(seen),
                                     "test_dir": test_dir, "gen": gen}
        return self._fitted[id(gen)]

    def fitted(self, gen: Any) -> Any:
        """The fitted clone of ``gen`` (see :meth:`fit_record`)."""
        return self.fit_record(gen)["fresh"]

    def close(self) -> None:
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None


def clone(gen: Any) -> Any:
    """Unfitted copy: ``clone()`` / ``get_params()`` when available, else a deep copy."""
    if hasattr(gen, "clone"):
        return gen.clone()
    if hasattr(gen, "get_params"):
        return type(gen)(**gen.get_params())
    return copy.deepcopy(gen)


def _tags(gen: Any) -> GeneratorTags:
    tags = getattr(gen, "tags", None)
    return tags if isinstance(tags, GeneratorTags) else GeneratorTags()


def _needs_samples(gen: Any) -> None:
    if not _tags(gen).adds_samples:
        raise CheckSkip("tags.adds_samples is False: the generator returns no samples by design")


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
    missing = [c for c in _tags(gen).conditional_on if c not in card.conditioning]
    if missing:
        raise CheckFail(f"tags.conditional_on has {missing} but the card's 'conditioning' does not list them")
    if _tags(gen).requires_fit:
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


def _canary_view(ctx: CheckContext) -> tuple[TrainView, Path]:
    """A training view whose images also exist on disk next to a canary 'test' split."""
    root = ctx.tmp / "canary_dataset"
    test_dir = root / "test"
    if not test_dir.exists():
        (root / "train").mkdir(parents=True)
        test_dir.mkdir()
        test = make_tiny_train_view(n=8, size=ctx.view.image_size[0], seed=99)
        for i in range(len(test)):
            np.save(test_dir / f"t{i:03d}.npy", test.images[i])
        test.manifest.assign(split="test").to_csv(test_dir / "manifest.csv", index=False)
    view = ctx.view
    manifest = view.manifest
    paths = []
    for i in range(len(view)):
        path = root / "train" / f"{manifest['image_id'].iloc[i]}.npy"
        if not path.exists():
            np.save(path, view.images[i])
        paths.append(str(path))
    manifest["image_path"] = paths
    return TrainView(manifest, np.array(view.images), view.findings, manifest_hash=view.manifest_hash,
                     patch=getattr(view, "patch", None)), test_dir


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


def _batch(gen: Any, ctx: CheckContext, n: int, seed: int = 0, conditions: pd.DataFrame | None = None) -> SyntheticBatch:
    batch = ctx.fitted(gen).sample(n, conditions=conditions, seed=seed)
    if not isinstance(batch, SyntheticBatch):
        raise CheckFail(f"sample() must return a SyntheticBatch, got {type(batch).__name__}")
    return batch


def check_sample_shape_dtype_range(gen: Any, ctx: CheckContext) -> str:
    """Images are float32 ``[N, 1, H, W]`` at the view's resolution, finite, within [0, 1]."""
    images = np.asarray(_batch(gen, ctx, ctx.n).images)
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
    _needs_samples(gen)
    for n in (0, 1, 5):
        batch = _batch(gen, ctx, n, seed=n)
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
    _needs_samples(gen)
    batch = _batch(gen, ctx, ctx.n, seed=1)
    missing = [c for c in LABEL_COLUMNS if c not in batch.labels.columns]
    if missing:
        raise CheckFail(f"labels table lacks column(s) {missing}; required: {list(LABEL_COLUMNS)}")
    h, w = batch.images.shape[2:]
    for i, row in batch.labels.reset_index(drop=True).iterrows():
        findings = row["findings"]
        if not isinstance(findings, list):
            raise CheckFail(f"labels row {i}: findings must be a list of dicts, got {type(findings).__name__}")
        if (row["label"] == "normal") != (len(findings) == 0) and _tags(gen).produces_boxes:
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
    _needs_samples(gen)
    if not _tags(gen).deterministic_given_seed:
        raise CheckSkip("tags.deterministic_given_seed is False")
    a, b, c = (_batch(gen, ctx, ctx.n, seed=s) for s in (7, 7, 8))
    if not np.array_equal(a.images, b.images) or not a.labels.astype(str).equals(b.labels.astype(str)):
        raise CheckFail("two calls with seed=7 gave different samples; derive all randomness from the seed")
    if np.array_equal(a.images, c.images):
        raise CheckFail("seed=7 and seed=8 gave identical images; the generator ignores its seed")
    return "seed 7 twice identical, seed 8 different"


def _achievable_conditions(gen: Any, ctx: CheckContext, n: int, seed: int) -> pd.DataFrame:
    cols = [c for c in _tags(gen).conditional_on if c in CONDITION_COLUMNS]
    rows = ctx.view.manifest.sample(n=n, replace=True, random_state=seed)
    return rows.loc[:, cols].astype(str).reset_index(drop=True)


def check_conditions_in_labels(gen: Any, ctx: CheckContext) -> str:
    """Labels report the requested values of every column in ``tags.conditional_on``."""
    _needs_samples(gen)
    if not _tags(gen).conditional_on:
        raise CheckSkip("tags.conditional_on is empty: the generator is unconditional")
    wanted = _achievable_conditions(gen, ctx, ctx.n, seed=3)
    labels = _batch(gen, ctx, ctx.n, seed=3, conditions=wanted).labels.reset_index(drop=True)
    for col in wanted.columns:
        bad = np.flatnonzero(labels[col].astype(str).to_numpy() != wanted[col].to_numpy())
        if len(bad):
            i = int(bad[0])
            raise CheckFail(f"requested {col}={wanted[col].iloc[i]!r} in row {i} but the label says "
                            f"{labels[col].iloc[i]!r}")
    return f"labels echo requested {list(wanted.columns)}"


_ORACLES: dict[str, Any] = {}


def _oracle(ctx: CheckContext) -> Any:
    """The domain encoder trained on the context's view (shared by all contexts with that view)."""
    if ctx.oracle is None:
        try:
            from mammobench.audits.encoder import train_domain_encoder
        except ImportError as err:  # pragma: no cover - the audits package ships with the harness
            raise CheckSkip(f"oracle unavailable: cannot import mammobench.audits.encoder ({err})") from err
        key = ctx.view.manifest_hash or str(id(ctx.view))
        if key not in _ORACLES:
            side = min(64, max(ctx.view.image_size))
            epochs = int(np.clip(1000 // max(len(ctx.view), 1), 8, 30))
            _ORACLES[key] = train_domain_encoder(ctx.view, seed=0, epochs=epochs, resolution=side, width=8)
        ctx.oracle = _ORACLES[key]
    return ctx.oracle


def oracle_agreement(oracle: Any, images: np.ndarray, wanted: np.ndarray, attribute: str) -> float:
    """Fraction of images whose oracle prediction for ``attribute`` equals the requested class."""
    pred = oracle.predict(np.asarray(images)[:, 0])[attribute]
    return float(np.mean(pred.astype(str) == wanted.astype(str))) if len(wanted) else float("nan")


def check_conditions_recognised_by_oracle(gen: Any, ctx: CheckContext, per_class: int = 10) -> str:
    """An oracle classifier trained on the real training view recognises the requested class above chance.

    Judged on ``lesion_type`` when the generator conditions on it (else ``label``, else ``density``)
    with a one-sided binomial test against chance (1 / number of classes), p < 0.05.
    """
    from scipy.stats import binomtest

    _needs_samples(gen)
    attr = next((a for a in ("lesion_type", "label", "density") if a in _tags(gen).conditional_on), None)
    if attr is None:
        raise CheckSkip("the generator conditions on none of lesion_type, label, density")
    oracle = _oracle(ctx)
    if attr not in oracle.classes:
        raise CheckSkip(f"the oracle has no '{attr}' head (fewer than two classes in the training view)")
    classes = [c for c in oracle.classes[attr] if (ctx.view.manifest[attr].astype(str) == c).any()]
    real_acc = oracle_agreement(oracle, ctx.view.images[:, None], ctx.view.manifest[attr].astype(str).to_numpy(), attr)
    chance = 1 / len(classes)
    if real_acc <= chance + 0.1:
        raise CheckSkip(f"the oracle is not informative on real data ({attr} accuracy {real_acc:.2f}, chance {chance:.2f})")
    wanted = pd.DataFrame({attr: np.repeat(classes, per_class)})
    batch = _batch(gen, ctx, len(wanted), seed=11, conditions=wanted)
    acc = oracle_agreement(oracle, batch.images, wanted[attr].to_numpy(), attr)
    hits = int(round(acc * len(wanted)))
    p = binomtest(hits, len(wanted), chance, alternative="greater").pvalue
    summary = f"{attr}: oracle agreement {acc:.2f} on synthetic vs chance {chance:.2f} (real {real_acc:.2f}), p={p:.2g}"
    if p >= 0.05:
        raise CheckFail(f"requested conditions not recognised: {summary}")
    return summary


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
    check_conditions_recognised_by_oracle, check_save_load_roundtrip,
)

__all__ = ["ALL_CHECKS", "CheckContext", "CheckFail", "CheckSkip", "clone"] + [c.__name__ for c in ALL_CHECKS]
