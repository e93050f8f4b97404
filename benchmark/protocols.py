"""Plug-in protocols: what a generator (and a dataset adapter) must look like.

A generator needs no base class: any object with ``card``, ``tags``, ``fit`` and ``sample`` passes
``isinstance(obj, Generator)``. :mod:`mammobench.testing` holds the public conformance checks.

Data contracts:

* :class:`TrainView` is all a generator ever sees: the training split's manifest rows and their
  preprocessed images. It has no paths to validation or test data.
* ``sample(n, conditions=..., seed=...)`` returns a :class:`SyntheticBatch`: ``images`` float32
  ``[N, 1, H, W]`` in ``[0, 1]`` at the view's resolution, and a ``labels`` table with one row per
  image (columns of :data:`CONDITION_COLUMNS` plus ``findings``, boxes in output pixel coordinates).

Example:
    >>> import numpy as np, pandas as pd
    >>> batch = SyntheticBatch(images=np.zeros((2, 1, 8, 8), np.float32),
    ...                        labels=pd.DataFrame({"label": ["normal"] * 2}))
    >>> len(batch)
    2
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from mammobench.errors import LeakageError

CONDITION_COLUMNS: tuple[str, ...] = ("label", "lesion_type", "density", "age_band", "view")


@dataclass(frozen=True)
class GeneratorTags:
    """Declared capabilities; conformance checks branch on these, never on class names."""

    requires_fit: bool = True
    conditional_on: tuple[str, ...] = ()
    produces_boxes: bool = False
    deterministic_given_seed: bool = True
    adds_samples: bool = True  # False for "none"; classic augmentation transforms real images


@dataclass
class SyntheticBatch:
    """Images plus one label row per image, and free-form provenance."""

    images: np.ndarray
    labels: pd.DataFrame
    provenance: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.images.shape[0])


class _ManifestView:
    """What TrainView and HoldoutView share: a manifest (copied out) row-aligned with ``images``."""

    _manifest: pd.DataFrame
    images: np.ndarray

    @property
    def manifest(self) -> pd.DataFrame:
        """A copy of the view's manifest."""
        return self._manifest.copy()

    @property
    def image_size(self) -> tuple[int, int]:
        return int(self.images.shape[1]), int(self.images.shape[2])

    @property
    def patient_ids(self) -> set[str]:
        return set(self._manifest["patient_id"].astype(str))

    def __len__(self) -> int:
        return len(self._manifest)


class TrainView(_ManifestView):
    """The only data a generator is handed: the training split, nothing else.

    Args:
        manifest: canonical manifest rows, all with ``split == 'train'``.
        images: float32 ``[N, H, W]`` in ``[0, 1]``, row-aligned with ``manifest``.
        findings: per-image list of findings with boxes in ``images`` pixel coordinates; when given, the
            manifest's ``findings`` column is replaced by them (JSON), so boxes always match ``images``.
        manifest_hash: hash identifying the training data (for the generator cache and card).
        patch: how ``images`` were cut from the mammograms: ``None`` = the whole breast, or
            ``{"field_mm", "jitter"}`` = one window per image (:mod:`mammobench.data.patches`), so a
            generator that renders whole mammograms (``physics``) can cut its output the same way.

    Raises:
        LeakageError: when any row is not from the training split.
    """

    def __init__(self, manifest: pd.DataFrame, images: np.ndarray, findings: list[list[dict]] | None = None,
                 manifest_hash: str = "", patch: dict | None = None):
        splits = set(manifest["split"].astype(str)) if len(manifest) else set()
        if splits - {"train"}:
            raise LeakageError(f"TrainView refuses rows from split(s) {sorted(splits - {'train'})}; "
                               "generators may only see the training split")
        if len(manifest) != len(images):
            raise ValueError(f"manifest has {len(manifest)} rows but images has {len(images)}")
        self._manifest = manifest.reset_index(drop=True)
        if findings is not None:
            # one coordinate system inside a TrainView: the manifest's findings (original pixel grid)
            # are replaced by the findings in ``images`` pixels, so no consumer can mix the two
            self._manifest["findings"] = [json.dumps(list(fs)) for fs in findings]
        self._images = images
        self._images.setflags(write=False) if isinstance(images, np.ndarray) else None
        self.findings = findings if findings is not None else [[] for _ in range(len(manifest))]
        self.manifest_hash = manifest_hash
        self.patch = dict(patch) if patch else None

    @property
    def images(self) -> np.ndarray:  # type: ignore[override]
        """Read-only training images ``[N, H, W]`` float32 in [0, 1]."""
        return self._images


class HoldoutView(_ManifestView):
    """A read-only, TrainView-like window on a held-out split (validation/test) for the audits.

    Unlike :class:`TrainView` it does not refuse non-training rows: it is never handed to a generator.

    Example:
        >>> hv = HoldoutView(pd.DataFrame({"patient_id": ["p1", "p1"]}), np.zeros((2, 4, 4), np.float32))
        >>> len(hv), hv.patient_ids, hv.image_size
        (2, {'p1'}, (4, 4))
    """

    def __init__(self, manifest: pd.DataFrame, images: np.ndarray):
        self._manifest = manifest.reset_index(drop=True)
        self.images = images
        self.findings = [[] for _ in range(len(manifest))]
        self.manifest_hash = ""


@runtime_checkable
class Generator(Protocol):
    """A synthetic-data generator.

    ``__init__`` stores keyword arguments only (no I/O, no training). ``fit`` sees only a
    :class:`TrainView` and returns ``self``; learned state lives in attributes ending in ``_``.
    ``sample`` is a pure function of (fitted state, n, conditions, seed).
    """

    card: Any  # mammobench.cards.GeneratorCard
    tags: GeneratorTags

    def fit(self, data: TrainView, *, seed: int) -> "Generator": ...

    def sample(self, n: int, *, conditions: pd.DataFrame | None = None, seed: int) -> SyntheticBatch: ...
