"""The data stages of a run: cohort → ingest → splits → targets → image cache → frozen cell inputs.

Each function is a thin, typed call into the part that owns the work (``cohort/``, ``data/``), plus
the caching that makes a second run start in seconds:

* the virtual cohort is made once per maker parameters and kept under
  ``~/.cache/mammobench/cohorts/vc-<key>`` (or ``--cohort DIR``); it is written into a temporary
  folder and renamed, so a killed maker never leaves a half cohort that looks finished (the temp
  folder records its owner; the next maker removes it once that owner is dead);
* the image cache is built once per (manifest hash, size) under ``~/.cache/mammobench/images``;
* the cells' inputs (``data/cases.csv`` + ``data/images.npy``) are written into the run folder
  only after the analysis plan is frozen.

Example:
    >>> len(cohort_key({"n_patients": 40, "seed": 0, "size": 128, "composition": {}}))
    64
"""
from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mammobench.errors import ConfigError, DataError
from mammobench.io import RunLock, atomic_write_bytes, atomic_write_text, sha256_json
from mammobench.lifetime import OWNER_FILE, owned_temp_dir, remove_stale_temp_dirs
from mammobench.pipeline.cells import SUBGROUP_COLUMNS
from mammobench.pipeline.config import TaskConfig
from mammobench.pipeline.profiles import RunSettings
from mammobench.protocols import TrainView
from mammobench.workers import default_workers

logger = logging.getLogger(__name__)
CASE_COLUMNS = ("row", "image_id", "patient_id", "split", "label", "y_true", *SUBGROUP_COLUMNS)


COHORT_WAIT_S = 3600.0  # how long a run waits for another process making the same cached cohort


def cache_home() -> Path:
    """``$MAMMOBENCH_CACHE`` or ``~/.cache/mammobench``."""
    return Path(os.environ.get("MAMMOBENCH_CACHE", "~/.cache/mammobench")).expanduser()


def cohort_key(params: dict[str, Any]) -> str:
    """Hash of the cohort maker parameters (the cohort cache key)."""
    return sha256_json(params)


def cohort_params(task: TaskConfig, n_patients: int, size: int = 256) -> dict[str, Any]:
    """Maker parameters of the task's virtual cohort at a profile's size (patients, side in pixels)."""
    from mammobench.cohort.writer import MAKER_VERSION

    options = dict(task.dataset.cohort)
    seed = int(options.pop("seed", 0))
    # the maker version is part of the key: a cohort made by older code is never silently reused
    return {"n_patients": int(n_patients), "seed": seed, "size": int(size), "composition": options,
            "maker": MAKER_VERSION}


def ensure_cohort(task: TaskConfig, settings: RunSettings, *, cohort_dir: str | None) -> tuple[Path, bool]:
    """Return the dataset root: the task's ``dataset.root`` or the (made or reused) virtual cohort.

    The cohort is made at the settings' ``n_patients`` and ``cohort_size``.

    Returns:
        (root, made_now)
    """
    if task.dataset.root:
        root = Path(os.path.expandvars(task.dataset.root)).expanduser()
        if not root.is_absolute() and task.source:
            root = Path(task.source).parent / root
        if not root.is_dir():
            raise DataError(f"{task.source}: dataset.root {root} does not exist; point it at the dataset folder")
        return root, False
    if task.dataset.adapter != "virtual_cohort":
        raise ConfigError(f"{task.source}: dataset.root is null but adapter is {task.dataset.adapter!r}; "
                          "only the virtual_cohort adapter can make its own data")
    params = cohort_params(task, settings.n_patients, settings.cohort_size)
    root = Path(cohort_dir).expanduser() if cohort_dir else cache_home() / "cohorts" / f"vc-{cohort_key(params)[:16]}"
    if (root / "cohort.json").is_file():
        return root, False
    root.parent.mkdir(parents=True, exist_ok=True)
    # a shared cache: a second run that needs the same cohort waits for the first to finish making it, then reuses it
    with RunLock(root.parent / f".{root.name}.lockdir", wait=COHORT_WAIT_S, what="cohort"):
        if (root / "cohort.json").is_file():
            return root, False
        _make_cohort_atomically(root, params)
    return root, True


def _make_cohort_atomically(root: Path, params: dict[str, Any]) -> None:
    from mammobench.cohort import CohortComposition, make_cohort

    if root.exists() and any(root.iterdir()):
        raise DataError(f"{root}: exists and is not a finished cohort (no cohort.json); remove it or pick "
                        "another --cohort folder")
    for stale in remove_stale_temp_dirs(root.parent, f".{root.name}.", keep=(f".{root.name}.lockdir",)):
        logger.warning(f"removed {stale} (left by a cohort maker that was killed)")
    tmp = owned_temp_dir(root.parent, prefix=f".{root.name}.")
    try:
        logger.info(f"making virtual cohort: {params['n_patients']} patients, seed {params['seed']} → {root}")
        make_cohort(tmp, n_patients=params["n_patients"], seed=params["seed"], size=params["size"],
                    composition=CohortComposition(**params["composition"]), workers=default_workers())
        (tmp / OWNER_FILE).unlink()  # the owner record belongs to the temp folder, not to the cohort
        if root.exists():
            root.rmdir()
        os.replace(tmp, root)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def ingest(task: TaskConfig, root: Path) -> tuple[pd.DataFrame, Any]:
    """Read the dataset through its adapter and assign patient-level splits.

    Returns:
        (manifest with ``split`` ∈ {train, val, test}, the adapter result)
    """
    from mammobench.data.ingest import load_dataset
    from mammobench.data.splits import assign_splits, check_no_patient_overlap, manifest_sha256

    result = load_dataset(task.dataset.adapter, root, require_labels=True, **dict(task.dataset.options))
    manifest = result.manifest
    if task.dataset.revision and f"sha256:{manifest_sha256(manifest)}" != task.dataset.revision:
        raise DataError(f"{task.source}: dataset.revision {task.dataset.revision} does not match the ingested "
                        f"manifest sha256:{manifest_sha256(manifest)}; the data changed or the revision is stale")
    manifest = assign_splits(manifest, seed=task.splits.seed, val_fraction=task.splits.val_fraction,
                             test_fraction=task.splits.test_fraction)
    check_no_patient_overlap(manifest)
    return manifest.reset_index(drop=True), result


def add_targets(manifest: pd.DataFrame, task: TaskConfig) -> pd.DataFrame:
    """Add ``y_true`` (0/1) from the task's positive/negative labels; drop rows that are neither.

    Raises:
        DataError: a split ends up without both classes.
    """
    labels = manifest["label"].astype(str)
    negative = task.target.negative or [x for x in ("normal", "benign", "malignant") if x not in task.target.positive]
    keep = labels.isin(task.target.positive) | labels.isin(negative)
    out = manifest.loc[keep].copy()
    out["y_true"] = out["label"].astype(str).isin(task.target.positive).astype(int)
    for split in ("train", "val", "test"):
        ys = out.loc[out["split"] == split, "y_true"]
        if ys.nunique() < 2:
            raise DataError(f"{task.source}: the {split} split has {len(ys)} images and only class(es) "
                            f"{sorted(ys.unique().tolist())}; use more patients (profile n_patients) or another split seed")
    return out.reset_index(drop=True)


def check_cached(manifest: pd.DataFrame, cache) -> pd.DataFrame:
    """The manifest after the image cache dropped the images it could not read; refuse a split left one-class.

    Raises:
        DataError: a split lost all its images or one of its classes in the cache (names the first reasons).

    Example:
        >>> class C: rejects = pd.DataFrame({"image_id": ["b"], "reason": ["b.dcm: file not found"]})
        >>> m = pd.DataFrame({"split": ["train", "train", "val", "val", "test", "test"], "y_true": [0, 1] * 3})
        >>> len(check_cached(m, C()))
        6
        >>> check_cached(m.iloc[:5], C())
        Traceback (most recent call last):
        ...
        mammobench.errors.DataError: after the image cache the test split has 1 images and only class(es) [0]: 1 image(s) could not be cached (first reasons: b.dcm: file not found)
    """
    for split in ("train", "val", "test"):
        ys = manifest.loc[manifest["split"] == split, "y_true"]
        if ys.nunique() < 2:
            rejects = getattr(cache, "rejects", pd.DataFrame())
            reasons = "; ".join(rejects["reason"].astype(str).head(3)) if len(rejects) else "none listed"
            raise DataError(f"after the image cache the {split} split has {len(ys)} images and only class(es) "
                            f"{sorted(ys.unique().tolist())}: {len(rejects)} image(s) could not be cached "
                            f"(first reasons: {reasons})")
    return manifest


def build_images(manifest: pd.DataFrame, root: Path, size: int, workers: int, patch: dict | None = None):
    """Build (or reuse) the memory-mapped image cache for this manifest, size and patch geometry.

    The cache lives in the shared cache home, so two runs may ask for the same one at once: the second
    waits (up to :data:`~mammobench.data.cache_build.SHARED_CACHE_WAIT_S`) for the first to finish, then reuses it.
    """
    from mammobench.data.cache import build_cache
    from mammobench.data.cache_build import SHARED_CACHE_WAIT_S
    from mammobench.data.preprocess import PREPROCESS_VERSION
    from mammobench.data.splits import manifest_sha256

    tag = f"-f{patch['field_mm']:g}j{patch['jitter']:g}" if patch else ""
    out = cache_home() / "images" / f"{manifest_sha256(manifest)[:16]}-{size}{tag}-p{PREPROCESS_VERSION}"
    return build_cache(manifest, root, out, size=size, workers=workers, progress=True, patch=patch,
                       wait=SHARED_CACHE_WAIT_S)


def train_view(manifest: pd.DataFrame, cache) -> TrainView:
    """The generators' only window on the data: training rows, their cached images and findings."""
    from mammobench.data.splits import manifest_sha256

    train = manifest[manifest["split"] == "train"].reset_index(drop=True)
    images = cache.images(train["image_id"])
    findings = [cache.findings(i) for i in train["image_id"]]
    return TrainView(train, images, findings, manifest_hash=manifest_sha256(train), patch=getattr(cache, "patch", None))


def holdout_images(manifest: pd.DataFrame, cache, split: str = "val") -> tuple[pd.DataFrame, np.ndarray]:
    """Rows and images of one non-training split (validation for audits)."""
    rows = manifest[manifest["split"] == split].reset_index(drop=True)
    return rows, cache.images(rows["image_id"])


def write_cell_inputs(run_dir: Path, manifest: pd.DataFrame, cache) -> dict[str, Any]:
    """Write ``data/cases.csv`` and ``data/images.npy`` (float32 [N, H, W]) for the cells; reuse if present."""
    cases = manifest.copy()
    cases["row"] = np.arange(len(cases))
    for col in SUBGROUP_COLUMNS:
        cases[col] = cases[col].fillna("").astype(str) if col in cases else ""
    csv = cases.loc[:, list(CASE_COLUMNS)].to_csv(index=False)
    data = Path(run_dir) / "data"
    fresh = (data / "images.npy").is_file() and (data / "cases.csv").is_file()
    if not fresh or (data / "cases.csv").read_text() != csv:
        import io

        buf = io.BytesIO()
        np.save(buf, cache.images(cases["image_id"]).astype(np.float32))
        atomic_write_bytes(data / "images.npy", buf.getvalue())
        atomic_write_text(data / "cases.csv", csv)
    counts = cases.groupby("split")["y_true"].agg(["size", "sum"])
    return {s: {"n": int(r["size"]), "n_pos": int(r["sum"])} for s, r in counts.iterrows()}

