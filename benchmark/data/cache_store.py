"""Read side of the preprocessed image cache (:class:`ImageCache`) and its key.

The cache: decode every DICOM once, read memory-mapped arrays every epoch after.

Layout of a cache folder::

    cache.json        key (manifest sha256, size, preprocessing version), n, shape, dtype
    images.u16        np.memmap uint16 [n, H, W] (value / 65535 = intensity in [0, 1])
    done.u8           one byte per row: 0 = to do, 1 = done, 2 = rejected (set only after the row's
                      pixels are flushed and its metadata chunk is written, so a kill never leaves a
                      row marked done with torn pixels)
    crc.u32           CRC-32 of each finished row (``ImageCache.verify`` re-checks them)
    parts/chunk_*.json per-chunk row metadata (transform, findings in cache pixels, reject reason)
    index.csv, rejects.csv   assembled atomically when the build completes

Re-running :func:`build_cache` after a kill decodes only the rows not yet done.

Example:
    >>> key = cache_key("0" * 64, 128)
    >>> key["size"], key["preprocess_version"] == PREPROCESS_VERSION
    ([128, 128], True)
"""
from __future__ import annotations

import json
import os
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from mammobench.data.preprocess import PREPROCESS_VERSION, _as_size
from mammobench.errors import DataError
from mammobench.io import read_json

_SCALE = 65535.0


def cache_key(manifest_hash: str, size: int | tuple[int, int], patch: dict | None = None) -> dict:
    """The identity of a cache: same key ⇒ same pixels (``patch``: window geometry, absent for whole images)."""
    key = {"manifest_sha256": manifest_hash, "size": list(_as_size(size)), "preprocess_version": PREPROCESS_VERSION}
    if patch:
        key["patch"] = {"field_mm": float(patch["field_mm"]), "jitter": float(patch["jitter"])}
    return key


class ImageCache:
    """Read side of a finished cache folder.

    Example:
        >>> # cache = ImageCache.open("runs/cache/vc_128"); x = cache.images(cache.index["image_id"][:8])
    """

    def __init__(self, directory: Path, info: dict, index: pd.DataFrame, rejects: pd.DataFrame):
        self.directory = directory
        self.info = info
        self.index = index
        self.rejects = rejects
        n, h, w = info["shape"]
        self._array = np.memmap(directory / "images.u16", dtype=np.uint16, mode="r", shape=(n, h, w))
        self._rows = dict(zip(index["image_id"].astype(str), index["row"].astype(int)))
        self._findings = dict(zip(index["image_id"].astype(str), index["findings"].astype(str)))

    @classmethod
    def open(cls, directory: str | os.PathLike) -> "ImageCache":
        """Open a completed cache; raises :class:`DataError` when it is missing or unfinished."""
        directory = Path(directory)
        if not (directory / "cache.json").is_file():
            raise DataError(f"{directory}: no image cache here (cache.json missing); run `mammobench data prepare`")
        info = read_json(directory / "cache.json")
        if not info.get("complete"):
            raise DataError(f"{directory}: the cache build did not finish; re-run build_cache / "
                            "`mammobench data prepare` to resume it")
        index = pd.read_csv(directory / "index.csv", dtype={"image_id": str}, keep_default_na=False)
        rejects = pd.read_csv(directory / "rejects.csv", dtype=str, keep_default_na=False)
        return cls(directory, info, index, rejects)

    def __contains__(self, image_id: object) -> bool:
        return str(image_id) in self._rows

    def __len__(self) -> int:
        return len(self._rows)

    @property
    def patch(self) -> dict | None:
        """The window geometry of a patch cache (``{"field_mm", "jitter"}``), ``None`` for whole images."""
        return self.info.get("key", {}).get("patch")

    @property
    def size(self) -> tuple[int, int]:
        """Image size (H, W)."""
        return tuple(self.info["shape"][1:])  # type: ignore[return-value]

    def images(self, image_ids) -> np.ndarray:
        """float32 ``[n, H, W]`` in ``[0, 1]`` for the given ids (order kept).

        Raises:
            DataError: an id not in the cache (e.g. rejected), naming it.
        """
        ids = [str(i) for i in image_ids]
        try:
            rows = np.fromiter((self._rows[i] for i in ids), dtype=np.int64, count=len(ids))
        except KeyError as err:
            raise DataError(f"image_id {err.args[0]!r} is not in the cache {self.directory} "
                            "(rejected or not in the manifest; see cache.rejects)") from err
        order = np.argsort(rows, kind="stable")
        out = np.empty((len(ids), *self.size), np.float32)
        out[order] = self._array[rows[order]]
        out *= 1.0 / _SCALE
        return out

    def findings(self, image_id: str) -> list[dict]:
        """Findings of one image with boxes in cache pixels."""
        text = self._findings.get(str(image_id))
        return json.loads(text) if text else []

    def verify(self) -> list[str]:
        """Image ids whose stored CRC no longer matches the pixels (empty list = intact)."""
        crc = np.fromfile(self.directory / "crc.u32", dtype=np.uint32)
        return [i for i, r in self._rows.items() if zlib.crc32(self._array[r].tobytes()) != int(crc[r])]

