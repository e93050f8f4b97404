"""Building the image cache: parallel, resumable, crash-safe (see :mod:`mammobench.data.cache`).

Decoding workers die with the process that builds the cache (:class:`mammobench.lifetime.WorkerInit`).

Example:
    >>> # cache = build_cache(result.manifest, result.root, "cache/vc_128", size=128, workers=2)
"""
from __future__ import annotations

import json
import os
import zlib
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd

from mammobench.data.cache_store import ImageCache, cache_key
from mammobench.data.cache_worker import decode_row
from mammobench.data.preprocess import _as_size
from mammobench.data.splits import manifest_sha256
from mammobench.errors import DataError
from mammobench.lifetime import WorkerInit, stop_pool
from mammobench.io import RunLock, atomic_write_json, atomic_write_text, read_json
from mammobench.progress import progress as progress_of

CHUNK = 32
#: how long a builder of a *shared* cache (the pipeline's cache home, the conformance check view) waits for
#: another process building the same folder before giving up; a user's own folder fails at once (``wait=0``)
SHARED_CACHE_WAIT_S = 3600.0
INDEX_COLUMNS = ("image_id", "row", "patient_id", "split", "findings", "transform")


def _prepare_dir(out: Path, key: dict, n: int, shape: tuple[int, int]) -> dict:
    info_path = out / "cache.json"
    if info_path.is_file():
        info = read_json(info_path)
        if info.get("key") != key or info.get("shape") != [n, *shape]:
            raise DataError(f"{out}: holds a cache for another manifest/size/preprocessing ({info.get('key')}); "
                            f"use another --out or delete the folder (wanted {key})")
        missing = [name for name in ("images.u16", "done.u8", "crc.u32") if not (out / name).is_file()]
        if missing:
            raise DataError(f"{out}: cache folder is incomplete ({missing} missing); delete the folder and re-run")
        return info
    out.mkdir(parents=True, exist_ok=True)
    (out / "parts").mkdir(exist_ok=True)
    for name, dtype, count in (("images.u16", np.uint16, n * shape[0] * shape[1]), ("done.u8", np.uint8, n),
                               ("crc.u32", np.uint32, n)):
        with open(out / name, "wb") as fh:
            fh.truncate(count * np.dtype(dtype).itemsize)
    info = {"key": key, "shape": [n, *shape], "dtype": "uint16", "scale": 65535, "complete": False}
    atomic_write_json(info_path, info)
    return info


def _tasks(manifest: pd.DataFrame, root: Path, size: tuple[int, int], rows: list[int],
           patch: dict | None = None) -> Iterator[dict]:
    for r in rows:
        m = manifest.iloc[r]
        spacing = pd.to_numeric(m.get("pixel_spacing_mm", np.nan), errors="coerce")
        yield {"row": r, "image_id": str(m["image_id"]), "path": str(m["image_path"]),
               "laterality": str(m["laterality"]), "findings": m.get("findings", "[]"), "size": list(size),
               "root": str(root), "patch": patch, "pixel_spacing_mm": float(spacing)}


def _run_chunks(tasks: list[dict], workers: int) -> Iterator[list[dict]]:
    chunks = [tasks[i:i + CHUNK] for i in range(0, len(tasks), CHUNK)]
    if workers <= 1:
        for chunk in chunks:
            yield [decode_row(t) for t in chunk]
        return
    import multiprocessing as mp

    pool = ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"), initializer=WorkerInit())
    try:
        for chunk in chunks:
            yield list(pool.map(decode_row, chunk, chunksize=max(1, len(chunk) // (2 * workers))))
    except BaseException:  # Ctrl-C, an error, or the consumer closing the generator early
        stop_pool(pool)
        raise
    pool.shutdown(wait=True)


def _commit_chunk(out: Path, results: list[dict], images: np.memmap, done: np.memmap, crc: np.memmap) -> None:
    """Pixels → flush → chunk metadata (atomic) → done bits → flush: a kill leaves rows undone, never torn."""
    for res in results:
        if res["pixels"] is not None:
            images[res["row"]] = res["pixels"]
            crc[res["row"]] = zlib.crc32(res["pixels"].tobytes())
    images.flush()
    crc.flush()
    meta = [{k: v for k, v in res.items() if k != "pixels"} for res in results]
    atomic_write_json(out / "parts" / f"chunk_{results[0]['row']:08d}.json", meta)
    for res in results:
        done[res["row"]] = 1 if res["pixels"] is not None else 2
    done.flush()


def _assemble(out: Path, manifest: pd.DataFrame, info: dict) -> None:
    metas: dict[int, dict] = {}
    for part in sorted((out / "parts").glob("chunk_*.json")):
        for item in json.loads(part.read_text(encoding="utf-8")):
            metas[int(item["row"])] = item
    index, rejects = [], []
    for r, item in sorted(metas.items()):
        m = manifest.iloc[r]
        if item["reason"]:
            rejects.append({"path": m["image_path"], "image_id": item["image_id"], "reason": item["reason"]})
        else:
            index.append({"image_id": item["image_id"], "row": r, "patient_id": m["patient_id"],
                          "split": m.get("split", ""), "findings": item["findings"],
                          "transform": json.dumps(item["transform"], sort_keys=True)})
    atomic_write_text(out / "index.csv", pd.DataFrame(index, columns=list(INDEX_COLUMNS)).to_csv(index=False))
    atomic_write_text(out / "rejects.csv",
                      pd.DataFrame(rejects, columns=["path", "image_id", "reason"]).to_csv(index=False))
    atomic_write_json(out / "cache.json", {**info, "complete": True, "n_cached": len(index), "n_rejected": len(rejects)})


def build_cache(manifest: pd.DataFrame, root: str | os.PathLike, out_dir: str | os.PathLike, *,
                size: int | tuple[int, int], workers: int = 2, progress: bool = True,
                patch: dict | None = None, wait: float = 0.0) -> ImageCache:
    """Decode and preprocess every manifest image once into a memory-mapped cache (resumable).

    Args:
        manifest: canonical manifest (``image_path`` relative to ``root``).
        root: dataset root.
        out_dir: cache folder (created; an existing cache with the same key is resumed/reused).
        size: output size ``N`` or ``(H, W)``.
        workers: decoding processes (``<= 1`` decodes in this process).
        progress: report progress (a bar on a terminal, else a line per tenth; :mod:`mammobench.progress`).
        patch: ``{"field_mm": ..., "jitter": ...}`` to cache one window per image
            (:mod:`mammobench.data.patches`) instead of the whole breast.
        wait: seconds to wait when another process is building the same folder (0, the default: fail at
            once; the pipeline's shared cache waits, then reuses what the other process built).

    Returns:
        The opened :class:`ImageCache`; images that cannot be decoded are in ``cache.rejects``.

    Raises:
        DataError: empty manifest, or ``out_dir`` holds a cache with a different key.
        RunLockedError: another process holds the folder (longer than ``wait``).
    """
    if manifest.empty:
        raise DataError("build_cache: the manifest has no rows; nothing to cache")
    out, shape = Path(out_dir), _as_size(size)
    manifest = manifest.reset_index(drop=True)
    out.mkdir(parents=True, exist_ok=True)
    # a second builder of the same folder fails fast (or waits, then reuses) instead of interleaving writes
    with RunLock(out, wait=wait, what="image cache"):
        info = _prepare_dir(out, cache_key(manifest_sha256(manifest), shape, patch), len(manifest), shape)
        _fill(out, manifest, Path(root), shape, workers, progress, patch)
        _assemble(out, manifest, info)
    return ImageCache.open(out)


def _fill(out: Path, manifest: pd.DataFrame, root: Path, shape: tuple[int, int], workers: int,
          show: bool, patch: dict | None = None) -> None:
    """Decode every row whose done byte is 0, chunk by chunk."""
    n = len(manifest)
    images = np.memmap(out / "images.u16", dtype=np.uint16, mode="r+", shape=(n, *shape))
    done = np.memmap(out / "done.u8", dtype=np.uint8, mode="r+", shape=(n,))
    crc = np.memmap(out / "crc.u32", dtype=np.uint32, mode="r+", shape=(n,))
    todo = [int(r) for r in np.nonzero(done == 0)[0]]
    with progress_of(n, "cache", unit="image", done=n - len(todo), enabled=show) as bar:
        for results in _run_chunks(list(_tasks(manifest, root, shape, todo, patch)), workers):
            _commit_chunk(out, results, images, done, crc)
            bar.update(len(results))
    del images, done, crc
