"""Image sources for study building: an image cache folder or a folder submission.

* Image cache (``cache.json`` present): :meth:`mammobench.data.cache.ImageCache.open`; the
  per-image ``label``, ``density``, ``lesion_type`` are joined on ``image_id`` from the canonical
  manifest CSV given (``--real-manifest``) or found in the cache folder.
* Folder submission (``manifest.csv`` present, ``card.yaml`` optional for real data): columns
  ``file`` (16-bit or 8-bit PNG, or ``.npy`` float array in [0, 1]) and ``label, lesion_type,
  density, findings`` (see ``docs/architecture.md``, contract 3).

Example:
    >>> # src = open_source("runs/cache/vc_128"); img = src.load(src.table["origin_id"][0])
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
from PIL import Image

from mammobench.errors import DataError

STRATUM_COLUMNS = ("label", "density", "lesion_type", "findings")


@dataclass
class ImageSource:
    """A table of images (``origin_id`` + stratum columns) and a loader returning float32 [H, W] in [0, 1]."""

    name: str
    table: pd.DataFrame
    load: Callable[[str], np.ndarray]


def _normalise_table(table: pd.DataFrame, id_column: str, source: str) -> pd.DataFrame:
    out = pd.DataFrame({"origin_id": table[id_column].astype(str)})
    for col in STRATUM_COLUMNS:
        default = "[]" if col == "findings" else "unknown"
        values = table[col] if col in table.columns else pd.Series(default, index=table.index)
        out[col] = values.fillna(default).astype(str).replace("", default if col != "density" else "unknown")
    if out["origin_id"].duplicated().any():
        raise DataError(f"{source}: duplicate image '{out['origin_id'][out['origin_id'].duplicated()].iloc[0]}'")
    return out.reset_index(drop=True)


def _read_image_file(path: Path) -> np.ndarray:
    if not path.is_file():
        raise DataError(f"{path}: image listed in manifest.csv not found")
    if path.suffix.lower() == ".npy":
        arr = np.load(path, allow_pickle=False).astype(np.float32)
        return np.clip(arr.squeeze(), 0.0, 1.0)
    try:
        with Image.open(path) as img:
            arr = np.asarray(img)
    except OSError as err:
        raise DataError(f"{path}: cannot read image ({err})") from err
    if arr.ndim == 3:
        arr = arr[..., :3].mean(axis=2)
    scale = 65535.0 if arr.dtype in (np.uint16, np.int32) and arr.max() > 255 else 255.0
    return (arr.astype(np.float32) / scale).clip(0.0, 1.0)


def _folder_source(root: Path) -> ImageSource:
    manifest = root / "manifest.csv"
    try:
        table = pd.read_csv(manifest, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise DataError(f"{manifest}: not a readable CSV ({err})") from err
    if "file" not in table.columns:
        raise DataError(f"{manifest}: missing column 'file' (relative image path); found {list(table.columns)}")
    norm = _normalise_table(table, "file", str(manifest))
    return ImageSource(root.name, norm, lambda origin: _read_image_file(root / origin))


def _cache_source(root: Path, manifest: Path | None) -> ImageSource:
    from mammobench.data.cache import ImageCache

    cache = ImageCache.open(root)
    index = cache.index.copy()
    manifest = manifest or (root / "manifest.csv" if (root / "manifest.csv").is_file() else None)
    if manifest is not None:
        meta = pd.read_csv(manifest, dtype={"image_id": str}, keep_default_na=False)
        if "image_id" not in meta.columns:
            raise DataError(f"{manifest}: missing column 'image_id' to join with the cache index")
        extra = [c for c in ("label", "density", "lesion_type") if c in meta.columns]
        index = index.merge(meta[["image_id", *extra]].drop_duplicates("image_id"), on="image_id", how="left")
    norm = _normalise_table(index, "image_id", str(root / "index.csv"))
    return ImageSource(root.name, norm, lambda origin: cache.images([origin])[0])


def open_source(path: str | os.PathLike, manifest: str | os.PathLike | None = None) -> ImageSource:
    """Open an image cache folder or a folder submission.

    Args:
        path: cache folder (``cache.json``) or folder submission (``manifest.csv``).
        manifest: for a cache, the canonical manifest CSV giving ``label, density, lesion_type`` per
            ``image_id`` (default: ``manifest.csv`` inside the cache folder, else strata 'unknown').
    """
    root = Path(path)
    if (root / "cache.json").is_file():
        return _cache_source(root, Path(manifest) if manifest else None)
    if (root / "manifest.csv").is_file():
        return _folder_source(root)
    raise DataError(f"{root}: neither an image cache (cache.json) nor a folder submission (manifest.csv); "
                    "give a folder built by 'mammobench data prepare' or one with manifest.csv + images")
