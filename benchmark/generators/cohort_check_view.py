"""The conformance oracle's domain: a small slice of the built-in virtual cohort at the default task's geometry.

An oracle trained on drawn blobs cannot judge simulated mammograms (and a generator is asked to produce
the domain of the task it serves), so the statistical check's default images are those of the default task
``vc_lesion``: the virtual cohort (:mod:`mammobench.cohort`) cut into one 60 mm window per image at 64 px
(:mod:`mammobench.data.patches`, jitter 0.25), exactly as the pipeline prepares them. The slice is made once
(seeded) and cached under ``$MAMMOBENCH_CACHE/check`` (default ``~/.cache/mammobench/check``); later calls only
re-read it. It is split by patient into three disjoint parts:

* ``fit``: the generator's training view (``fit_patients`` training patients, four images each, half of
  them patients with a finding, so that the generator sees lesions);
* ``oracle_train``: the remaining training patients, on which the oracle is trained;
* ``held_out``: the cohort's test patients, on which the oracle's real-image agreement is measured.

Example:
    >>> views = cohort_check_views()  # doctest: +SKIP
    >>> views.fit.image_size, len(views.fit)  # doctest: +SKIP
    ((64, 64), 96)
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from mammobench.errors import ConfigError
from mammobench.protocols import TrainView

CHECK_COHORT_PATIENTS = 480
CHECK_FIT_PATIENTS = 24
CHECK_PATCH = {"field_mm": 60.0, "jitter": 0.25}  # tasks/vc_lesion: preprocessing.patch_mm / patch_jitter
CHECK_IMAGE_SIZE = 64
_COHORT_SIZE = 256  # 240 mm field of view: a 60 mm window is 64 source pixels, so no detail is lost at 64 px
_TRAIN_DENSITY_WEIGHTS = {"A": 1.0, "B": 1.0, "C": 0.35, "D": 0.15}  # as tasks/vc_lesion
_VIEWS: dict[tuple, "CohortCheckViews"] = {}


@dataclass(frozen=True)
class CohortCheckViews:
    """Three patient-disjoint views of the check cohort: the generator's fit view and the oracle's two."""

    fit: TrainView
    oracle_train: TrainView
    held_out: TrainView


def check_cache_home() -> Path:
    """``$MAMMOBENCH_CACHE/check`` (default ``~/.cache/mammobench/check``).

    Example:
        >>> check_cache_home().name
        'check'
    """
    return Path(os.environ.get("MAMMOBENCH_CACHE", "~/.cache/mammobench")).expanduser() / "check"


def _view(manifest: pd.DataFrame, cache, tag: str) -> TrainView:
    rows = manifest.reset_index(drop=True).assign(split="train")
    images = cache.images(rows["image_id"])
    findings = [cache.findings(i) for i in rows["image_id"]]
    return TrainView(rows, np.asarray(images, np.float32), findings, manifest_hash=f"check-cohort:{tag}",
                     patch=dict(CHECK_PATCH))


def cohort_check_views(*, seed: int = 0, n_patients: int = CHECK_COHORT_PATIENTS,
                       fit_patients: int = CHECK_FIT_PATIENTS, workers: int = 2) -> CohortCheckViews:
    """Make (once, cached on disk and per process) the check cohort and split it into fit / oracle views.

    Args:
        seed: cohort seed (also orders the training patients before the fit view is taken).
        n_patients: cohort patients (four images each); about 30 % become the held-out test part.
        fit_patients: training patients in the generator's fit view; the other training patients train
            the oracle.
        workers: simulator / decoding processes for the first build.

    Returns:
        :class:`CohortCheckViews` (fit, oracle_train, held_out), all 64×64 patches in [0, 1].

    Raises:
        ConfigError: ``fit_patients`` leaves fewer than ``fit_patients`` training patients for the oracle.

    Example:
        >>> cohort_check_views(n_patients=10, fit_patients=8)  # doctest: +SKIP
        Traceback (most recent call last):
        ConfigError: ...
    """
    key = (int(seed), int(n_patients), int(fit_patients))
    if key in _VIEWS:
        return _VIEWS[key]
    from mammobench.cohort import CohortComposition, make_cohort
    from mammobench.data.cache_build import SHARED_CACHE_WAIT_S, build_cache
    from mammobench.data.ingest import load_dataset

    home = check_cache_home()
    root = home / f"cohort-n{n_patients}-s{seed}-{_COHORT_SIZE}"
    make_cohort(root, n_patients=int(n_patients), seed=int(seed), size=_COHORT_SIZE, workers=workers,
                composition=CohortComposition(train_density_weights=dict(_TRAIN_DENSITY_WEIGHTS)))
    manifest = load_dataset("virtual_cohort", root, require_labels=True).manifest.reset_index(drop=True)
    cache = build_cache(manifest, root, home / f"patches-n{n_patients}-s{seed}-{CHECK_IMAGE_SIZE}",
                        size=CHECK_IMAGE_SIZE, workers=workers, progress=False, patch=dict(CHECK_PATCH),
                        wait=SHARED_CACHE_WAIT_S)  # shared: wait for a process building it, then reuse
    manifest = manifest[manifest["image_id"].astype(str).isin(set(cache.index["image_id"].astype(str)))]
    is_test = manifest["split"].astype(str) == "test"
    train_patients = np.sort(manifest.loc[~is_test, "patient_id"].astype(str).unique())
    if len(train_patients) < 2 * fit_patients:
        raise ConfigError(f"cohort_check_views: {len(train_patients)} training patients cannot give {fit_patients} to "
                          f"the fit view and at least as many to the oracle; raise n_patients ({n_patients})")
    train = manifest.loc[~is_test]
    with_finding = set(train.loc[train["lesion_type"].astype(str) != "none", "patient_id"].astype(str))
    rng = np.random.default_rng(seed)  # half the fit patients have a finding: a generator must see lesions
    lesion_ids = rng.permutation([p for p in train_patients if p in with_finding])[: fit_patients // 2]
    normal_ids = rng.permutation([p for p in train_patients if p not in with_finding])
    fit_ids = np.concatenate([lesion_ids, normal_ids[: fit_patients - len(lesion_ids)]])
    in_fit = manifest["patient_id"].astype(str).isin(set(fit_ids))
    tag = f"n{n_patients}-s{seed}-f{fit_patients}"
    _VIEWS[key] = CohortCheckViews(fit=_view(manifest[in_fit & ~is_test], cache, f"{tag}:fit"),
                                   oracle_train=_view(manifest[~in_fit & ~is_test], cache, f"{tag}:oracle-train"),
                                   held_out=_view(manifest[is_test], cache, f"{tag}:held-out"))
    return _VIEWS[key]


__all__ = ["CHECK_COHORT_PATIENTS", "CHECK_FIT_PATIENTS", "CHECK_IMAGE_SIZE", "CHECK_PATCH", "CohortCheckViews",
           "check_cache_home", "cohort_check_views"]
