"""Shared pieces of the conformance checks: outcomes, the run context, cloning, the sampled batch.

A check returns a pass note or raises one of :class:`CheckSkip`, :class:`CheckFail` or
:class:`CheckInconclusive`; :class:`CheckContext` holds what one conformance run shares (training view,
scratch folder, the one fit per generator, the statistical design settings).

Example:
    >>> ctx = CheckContext()
    >>> ctx.view.image_size, ctx.alpha, ctx.power
    ((32, 32), 0.01, 0.99)
"""
from __future__ import annotations

import copy
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mammobench.errors import ConfigError
from mammobench.generators.binomial_design import DEFAULT_ALTERNATIVE_FRACTION
from mammobench.generators.fixtures import make_tiny_train_view
from mammobench.generators.watch import watch_paths
from mammobench.protocols import GeneratorTags, SyntheticBatch, TrainView

# cap on the images the oracle check may request: the check cohort's oracle (class-balanced agreement 0.69,
# two classes) needs n = 6,392 for power 0.99 against the default alternative (docs/generators.md)
DEFAULT_MAX_ORACLE_N = 8000


class CheckSkip(Exception):
    """The check does not apply to this generator (reason in the message)."""


class CheckFail(AssertionError):
    """The generator violates the contract (what and why in the message)."""


class CheckInconclusive(Exception):
    """A statistical check could not reach its stated power within its sample cap (power in the message)."""


class CheckContext:
    """Shared state of one conformance run: training view, scratch folder, fitted copy, test design.

    Without ``train_view`` the protocol checks use the tiny fixture drawn with ``fixture_seed``, and the
    statistical check judges the domain named by ``oracle_domain``: ``"cohort"`` (default) fits the generator
    on a slice of the built-in virtual cohort at the default task's geometry and trains the oracle on other
    patients of it (:mod:`mammobench.generators.cohort_check_view`; built and cached on first use);
    ``"fixture"`` uses fresh fixture draws (seeds ``fixture_seed + 1``, ``+ 2``; fast, for pytest).
    ``alpha``, ``power``, ``alternative_fraction`` and ``max_oracle_n`` size the statistical checks (see
    :mod:`mammobench.generators.binomial_design`);
    ``designs`` records each statistical check's design.
    """

    def __init__(self, train_view: TrainView | None = None, *, fit_seed: int = 0, n: int = 6,
                 alpha: float = 0.01, power: float = 0.99, max_oracle_n: int = DEFAULT_MAX_ORACLE_N,
                 fixture_seed: int = 0, oracle_domain: str = "cohort",
                 alternative_fraction: float = DEFAULT_ALTERNATIVE_FRACTION):
        if oracle_domain not in ("cohort", "fixture"):
            raise ConfigError(f"CheckContext: oracle_domain must be 'cohort' or 'fixture', got {oracle_domain!r}")
        self.oracle_domain = oracle_domain
        self._view = train_view
        self.fixture_seed = fixture_seed
        self.default_fixture = train_view is None
        self.fit_seed = fit_seed
        self.n = n
        self.alpha, self.power, self.max_oracle_n = alpha, power, max_oracle_n
        self.alternative_fraction = alternative_fraction
        self.designs: dict[str, dict] = {}
        self.oracle_fits: dict[int, tuple[Any, Any]] = {}  # supplied view: fits apart from the oracle's images
        self._tmp: Path | None = None
        self._fitted: dict[int, Any] = {}

    @property
    def view(self) -> TrainView:
        if self._view is None:
            self._view = make_tiny_train_view(n=32, size=32, seed=self.fixture_seed)
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
            view, test_dir = canary_view(self)
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


def conformance_params(cls: type) -> dict[str, Any]:
    """The settings the conformance suite builds a registered generator class with.

    ``conformance_config()`` when the class has one (the smallest settings at which it does what it claims,
    e.g. a GAN that draws visible lesions), else ``tiny_config()`` (seconds-scale, for unit tests), else ``{}``.

    Example:
        >>> from mammobench.generators import generator_class
        >>> conformance_params(generator_class("cgan"))["steps"], generator_class("cgan").tiny_config()["steps"]
        (600, 30)
    """
    for name in ("conformance_config", "tiny_config"):
        make = getattr(cls, name, None)
        if callable(make):
            return dict(make())
    return {}


def clone(gen: Any) -> Any:
    """Unfitted copy: ``clone()`` / ``get_params()`` when available, else a deep copy.

    Example:
        >>> from mammobench.generators import get_generator
        >>> type(clone(get_generator("classic"))).__name__
        'ClassicAugmentation'
    """
    if hasattr(gen, "clone"):
        return gen.clone()
    if hasattr(gen, "get_params"):
        return type(gen)(**gen.get_params())
    return copy.deepcopy(gen)


def declared_tags(gen: Any) -> GeneratorTags:
    """The generator's ``tags`` when they are a GeneratorTags, else the defaults.

    Example:
        >>> declared_tags(object()).adds_samples
        True
    """
    tags = getattr(gen, "tags", None)
    return tags if isinstance(tags, GeneratorTags) else GeneratorTags()


def needs_samples(gen: Any) -> None:
    """Raise :class:`CheckSkip` when the generator declares that it returns no samples.

    Example:
        >>> from mammobench.generators import get_generator
        >>> try:
        ...     needs_samples(get_generator("none"))
        ... except CheckSkip as err:
        ...     print(err)
        tags.adds_samples is False: the generator returns no samples by design
    """
    if not declared_tags(gen).adds_samples:
        raise CheckSkip("tags.adds_samples is False: the generator returns no samples by design")


def canary_view(ctx: CheckContext) -> tuple[TrainView, Path]:
    """A training view whose images also exist on disk next to a canary 'test' split.

    Example:
        >>> view, test_dir = canary_view(CheckContext())
        >>> test_dir.name, len(view)
        ('test', 32)
    """
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


def sampled_batch(gen: Any, ctx: CheckContext, n: int, seed: int = 0,
                  conditions: pd.DataFrame | None = None) -> SyntheticBatch:
    """``sample`` of the context's fitted clone of ``gen``; :class:`CheckFail` unless it is a SyntheticBatch.

    Example:
        >>> from mammobench.generators import get_generator
        >>> len(sampled_batch(get_generator("classic"), CheckContext(), 3))
        3
    """
    return checked_sample(ctx.fitted(gen), n, seed=seed, conditions=conditions)


def checked_sample(fitted: Any, n: int, *, seed: int, conditions: pd.DataFrame | None = None) -> SyntheticBatch:
    """``fitted.sample(...)``; :class:`CheckFail` unless it returns a SyntheticBatch.

    Example:
        >>> from mammobench.generators import get_generator
        >>> len(checked_sample(CheckContext().fitted(get_generator("classic")), 2, seed=0))
        2
    """
    batch = fitted.sample(n, conditions=conditions, seed=seed)
    if not isinstance(batch, SyntheticBatch):
        raise CheckFail(f"sample() must return a SyntheticBatch, got {type(batch).__name__}")
    return batch


__all__ = ["DEFAULT_MAX_ORACLE_N", "CheckContext", "CheckFail", "CheckInconclusive", "CheckSkip", "checked_sample",
           "clone", "conformance_params", "declared_tags", "needs_samples", "sampled_batch"]
