"""The conformance oracle: a domain encoder trained on real images, with its agreement on held-out real images.

The conditional-recognition check asks the oracle which class a synthetic image shows. Its verdict is
only as good as the oracle, so the oracle is trained on more real images than the tiny fit view and its
agreement is measured on real images it never saw:

* when the conformance run uses the default fixture, the oracle trains on a larger draw from the same
  fixture (:func:`~mammobench.generators.fixtures.make_tiny_train_view`, another seed) and is scored on a
  third draw;
* when the caller hands its own training view, the view is split by patient (3 : 1, seeded) into the
  oracle's training part and its held-out part.

The held-out agreement is *class-balanced* (mean per-class recall over the classes asked for), because the
check requests every class equally often; it sets the alternative of the sized test
(:func:`mammobench.generators.binomial_design.conveyed_alternative`).

Example:
    >>> from mammobench.generators.fixtures import make_tiny_train_view
    >>> train, held_out = oracle_views(make_tiny_train_view(n=16, size=32, seed=0), default_fixture=False)
    >>> len(train) + len(held_out)
    16
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mammobench.generators.fixtures import make_tiny_train_view
from mammobench.protocols import TrainView

ORACLE_TRAIN_IMAGES = 384
ORACLE_HELD_OUT_IMAGES = 120
ORACLE_EPOCHS = 12

_JUDGES: dict[tuple, "OracleJudge"] = {}


def oracle_views(view: TrainView, *, default_fixture: bool, seed: int = 0) -> tuple[TrainView, TrainView]:
    """(oracle training view, held-out view): fresh fixture draws, or a 3 : 1 patient split of ``view``.

    Example:
        >>> train, held_out = oracle_views(make_tiny_train_view(n=8, size=32), default_fixture=True)
        >>> len(train), len(held_out)
        (384, 120)
    """
    if default_fixture:
        side = int(view.image_size[0])
        return (make_tiny_train_view(n=ORACLE_TRAIN_IMAGES, size=side, seed=seed + 1),
                make_tiny_train_view(n=ORACLE_HELD_OUT_IMAGES, size=side, seed=seed + 2))
    patients = view.manifest["patient_id"].astype(str).to_numpy()
    unique = np.unique(patients)
    held = np.random.default_rng(seed).permutation(unique)[: max(1, len(unique) // 4)]
    mask = np.isin(patients, held)
    return _subset(view, ~mask, "oracle-train"), _subset(view, mask, "oracle-held-out")


def _subset(view: TrainView, mask: np.ndarray, tag: str) -> TrainView:
    idx = np.flatnonzero(mask)
    manifest = view.manifest.iloc[idx].reset_index(drop=True)
    return TrainView(manifest, np.asarray(view.images)[idx], [view.findings[i] for i in idx],
                     manifest_hash=f"{view.manifest_hash}:{tag}", patch=getattr(view, "patch", None))


def restricted_prediction(oracle: Any, images: np.ndarray, attribute: str, classes: list[str]) -> np.ndarray:
    """The oracle's most probable class for ``attribute`` *among* ``classes`` (the classes that were asked for).

    Example:
        >>> restricted_prediction(oracle, images, "lesion_type", ["mass", "none"])  # doctest: +SKIP
        array(['mass', 'none', ...], dtype='<U4')
    """
    images = np.asarray(images)
    if images.ndim == 4:
        images = images[:, 0]
    if not len(images):
        return np.array([], dtype=str)
    proba = oracle.predict_proba(images)[attribute]
    return proba.loc[:, list(classes)].idxmax(axis=1).to_numpy().astype(str)


@dataclass
class OracleJudge:
    """A trained oracle, the held-out real images it is scored on, and how it was made."""

    oracle: Any
    held_out: TrainView
    description: str

    @property
    def classes(self) -> dict[str, list[str]]:
        return self.oracle.classes

    def real_agreement(self, attribute: str, classes: list[str]) -> tuple[float, int]:
        """Class-balanced agreement on held-out real images of ``classes`` and how many images it rests on.

        Example:
            >>> judge.real_agreement("lesion_type", ["calcification", "mass", "none"])  # doctest: +SKIP
            (0.99, 120)
        """
        truth = self.held_out.manifest[attribute].astype(str).to_numpy()
        keep = np.isin(truth, classes)
        pred = restricted_prediction(self.oracle, self.held_out.images[keep], attribute, classes)
        recalls = [float(np.mean(pred[truth[keep] == c] == c)) for c in classes if (truth[keep] == c).any()]
        return (float(np.mean(recalls)) if recalls else float("nan")), int(keep.sum())


def conformance_judge(view: TrainView, *, default_fixture: bool = False, epochs: int = ORACLE_EPOCHS,
                      seed: int = 0, sources: tuple[TrainView, TrainView] | None = None,
                      cache_dir: str | Path | None = None) -> OracleJudge:
    """Train (once per process and view) the oracle for ``view`` and keep its held-out real images.

    ``seed`` picks the fixture draws (``seed + 1``, ``seed + 2``) or the patient split; ``sources`` (oracle
    training view, held-out view) overrides both, as for the check cohort
    (:func:`~mammobench.generators.cohort_check_view.cohort_check_views`). The network is always
    initialised with seed 0. With ``sources`` and ``cache_dir`` the trained oracle is saved there, keyed by
    its training data's hash and settings, and later processes load it instead of retraining.

    Example:
        >>> judge = conformance_judge(make_tiny_train_view(), default_fixture=True)  # doctest: +SKIP
        >>> judge.real_agreement("density", list("ABCD"))  # doctest: +SKIP
    """
    from mammobench.audits.encoder import load_or_train_domain_encoder, train_domain_encoder

    key = (view.manifest_hash or str(id(view)), default_fixture, int(view.image_size[0]), epochs, seed,
           None if sources is None else tuple(s.manifest_hash for s in sources))
    if key not in _JUDGES:
        train, held_out = sources or oracle_views(view, default_fixture=default_fixture, seed=seed)
        side = min(64, max(view.image_size))
        if sources is not None and cache_dir is not None:  # the check cohort's oracle: trained once per machine
            oracle = load_or_train_domain_encoder(train, seed=0, epochs=epochs, cache_dir=cache_dir,
                                                  resolution=side, width=8)
        else:
            oracle = train_domain_encoder(train, seed=0, epochs=epochs, resolution=side, width=8)
        source = ("other patients of the same virtual cohort" if sources is not None
                  else "fresh draws of the tiny fixture" if default_fixture
                  else "a 3:1 patient split of the training view")
        _JUDGES[key] = OracleJudge(oracle, held_out, f"oracle trained on {len(train)} real images ({source}), "
                                                     f"scored on {len(held_out)} held-out real images")
    return _JUDGES[key]


__all__ = ["ORACLE_EPOCHS", "ORACLE_HELD_OUT_IMAGES", "ORACLE_TRAIN_IMAGES", "OracleJudge", "conformance_judge",
           "oracle_views", "restricted_prediction"]
