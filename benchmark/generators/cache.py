"""Fitted generators as files, and a fit cache keyed by (config, training-manifest hash, seed).

A fitted generator is saved with ``torch.save`` as plain data — the class spec
(``"module:Class"``), constructor parameters, card and ``state_dict()`` (tensors, numbers,
strings, lists, dicts) — and loaded with ``torch.load(weights_only=True)``, so loading a file
never unpickles arbitrary code; the class is rebuilt from the registry/spec. Generators without a
``state_dict`` method are saved through their learned attributes (names ending in ``_``).

Example:
    >>> import tempfile
    >>> from mammobench.generators.fixtures import make_tiny_train_view
    >>> view = make_tiny_train_view(n=8, size=16)
    >>> d = tempfile.mkdtemp()
    >>> gen = fit_or_load("classic", view, seed=0, cache_dir=d)
    >>> again = fit_or_load("classic", view, seed=0, cache_dir=d, info=(info := {}))
    >>> info["cached"]
    True
"""
from __future__ import annotations

import inspect
import io
import logging
import pickle
import time
from pathlib import Path
from typing import Any

import torch

from mammobench.errors import ConfigError, DataError
from mammobench.generators import generator_class, get_generator, spec_of
from mammobench.generators.base import _from_saveable, _plain, _to_saveable
from mammobench.io import atomic_write_bytes, sha256_json
from mammobench.protocols import TrainView

logger = logging.getLogger(__name__)
FORMAT = "mammobench-generator/1"


def generator_params(gen: Any) -> dict[str, Any]:
    """``get_params()`` when present, else the constructor arguments read back from attributes."""
    if hasattr(gen, "get_params"):
        return dict(gen.get_params())
    sig = inspect.signature(type(gen).__init__)
    return {p: getattr(gen, p) for p in sig.parameters if p != "self" and hasattr(gen, p)}


def _state(gen: Any) -> dict[str, Any]:
    if hasattr(gen, "state_dict"):
        return gen.state_dict()
    return {k: _to_saveable(v) for k, v in vars(gen).items() if k.endswith("_") and not k.startswith("_")}


def save_generator(gen: Any, path: str | Path, *, spec: str | None = None, meta: dict | None = None) -> Path:
    """Write a fitted generator to ``path`` (atomic); returns the path."""
    payload = {"format": FORMAT, "spec": spec or spec_of(gen), "params": _plain(generator_params(gen)),
               "card": gen.card.to_dict(), "state": _state(gen), "meta": _plain(meta or {})}
    buf = io.BytesIO()
    torch.save(payload, buf)
    atomic_write_bytes(path, buf.getvalue())
    return Path(path)


def load_generator(path: str | Path) -> Any:
    """Rebuild a fitted generator saved by :func:`save_generator` (no code is unpickled).

    Raises:
        DataError: the file is missing, not a generator file, or written by another format version.
    """
    path = Path(path)
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, EOFError, ValueError, pickle.UnpicklingError) as err:
        raise DataError(f"{path}: cannot load fitted generator ({err}); delete it to refit") from err
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise DataError(f"{path}: not a MammoBench generator file (expected format {FORMAT})")
    gen = generator_class(payload["spec"])(**payload["params"])
    if hasattr(gen, "load_state_dict"):
        gen.load_state_dict(payload["state"])
    else:
        for key, value in payload["state"].items():
            setattr(gen, key, _from_saveable(value))
    return gen


def _resolve(spec: Any) -> tuple[str, Any]:
    """(registry name or module:Class, unfitted generator) for a name, {name, params} or an instance."""
    if isinstance(spec, str):
        return spec, get_generator(spec)
    if isinstance(spec, dict):
        if "name" not in spec:
            raise ConfigError(f"generator spec {spec!r} needs a 'name' (and optional 'params')")
        return str(spec["name"]), get_generator(str(spec["name"]), **dict(spec.get("params") or {}))
    if hasattr(spec, "fit") and hasattr(spec, "sample"):
        return spec_of(spec), spec
    raise ConfigError(f"generator spec must be a name, a mapping or a generator, got {type(spec).__name__}")


def cache_key(name: str, params: dict, manifest_hash: str, seed: int, view: dict | None = None,
              version: str | None = None) -> str:
    """SHA-256 over (name, params, training-manifest hash, seed, the view's pixel geometry, card version).

    ``view`` (image size and patch geometry) matters because the same manifest cached at another size
    or as patches gives the generator other pixels; ``version`` (the generator card's) because a new
    version of the code fits something else from the same inputs.
    """
    payload = {"name": name, "params": _plain(params), "manifest": manifest_hash, "seed": int(seed), "format": FORMAT}
    if view:
        payload["view"] = _plain(view)
    if version:
        payload["version"] = str(version)
    return sha256_json(payload)


def _card_version(gen: Any) -> str | None:
    """The generator card's version, or None when the generator has no readable card (plug-ins may not)."""
    try:
        return str(gen.card.version)
    except Exception:  # noqa: BLE001 — a missing/invalid card is the conformance suite's finding, not the cache's
        return None


def fit_or_load(spec: Any, train_view: TrainView, seed: int, cache_dir: str | Path | None,
                info: dict | None = None) -> Any:
    """Return a fitted generator, loading it from ``cache_dir`` when this exact fit exists.

    Args:
        spec: registered name, ``module:Class``, ``{"name": ..., "params": {...}}`` or an unfitted instance.
        train_view: the training data (its ``manifest_hash`` is part of the key).
        seed: fit seed.
        cache_dir: folder of ``<name>-<key16>.pt`` files; ``None`` fits without reading or writing a cache
            (for views whose manifest hash does not identify their data, e.g. the self-test's leak view).
        info: optional dict filled with ``cached``, ``path``, ``fit_seconds``.
    """
    name, gen = _resolve(spec)
    info = info if info is not None else {}
    if cache_dir is None:
        start = time.perf_counter()
        fitted = gen.fit(train_view, seed=seed)
        info.update(cached=False, path=None, fit_seconds=time.perf_counter() - start)
        return fitted
    geometry = {"size": list(train_view.image_size), "patch": getattr(train_view, "patch", None)}
    key = cache_key(name, generator_params(gen), train_view.manifest_hash, seed, geometry, version=_card_version(gen))
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)
    path = Path(cache_dir) / f"{safe}-{key[:16]}.pt"
    if path.exists():
        try:
            loaded = load_generator(path)
            meta = torch.load(path, map_location="cpu", weights_only=True).get("meta", {})
            info.update(cached=True, path=str(path), fit_seconds=meta.get("fit_seconds"))
            logger.info(f"fit {type(gen).__name__}: reused the cached fit {path.name}")
            return loaded
        except DataError as err:  # corrupt or outdated cache entry: refit and overwrite it
            logger.warning(f"fit {type(gen).__name__}: cached fit {path.name} unusable ({err}); fitting again")
    logger.info(f"fit {type(gen).__name__} on {len(train_view)} training images (seed {seed})")
    start = time.perf_counter()
    fitted = gen.fit(train_view, seed=seed)
    seconds = time.perf_counter() - start
    logger.info(f"fit {type(gen).__name__}: done in {seconds:.1f}s")
    save_generator(fitted, path, spec=spec_of(fitted), meta={"fit_seconds": seconds, "key": key})
    info.update(cached=False, path=str(path), fit_seconds=seconds)
    return fitted


__all__ = ["cache_key", "fit_or_load", "generator_params", "load_generator", "save_generator"]
