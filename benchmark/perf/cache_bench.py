"""Measure what the image cache buys: decode-every-epoch vs memory-mapped cache reads.

Example:
    >>> # benchmark_cache("/tmp/cb", n_images=200, source_size=256, cache_size=128)
    >>> # {'decode_images_per_s': 180.0, 'cache_images_per_s': 40000.0, 'speedup': 220.0, ...}
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

from mammobench.data.adapters.base import IngestLog
from mammobench.data.cache import build_cache
from mammobench.data.dicom import read_dicom
from mammobench.data.dicom_write import phantom, write_dicom
from mammobench.data.preprocess import preprocess_image


def _write_dataset(root: Path, n: int, size: int, seed: int, syntax: str) -> pd.DataFrame:
    log = IngestLog("cache_benchmark")
    for i in range(n):
        side = "L" if i % 2 == 0 else "R"
        rel = f"images/p{i:05d}.dcm"
        path = root / rel
        if not path.is_file():
            write_dicom(path, phantom(seed + i, (size, size * 3 // 4), side=side, dense=(i % 4) / 3),
                        syntax=syntax, laterality=side, patient_id=f"p{i:05d}")
        log.add({"patient_id": f"p{i:05d}", "exam_id": f"e{i:05d}", "image_id": f"i{i:05d}",
                 "image_path": rel, "laterality": side, "view": "CC"})
    return log.finish(root, verify="exists").manifest


def benchmark_cache(workdir: str | os.PathLike, *, n_images: int = 200, source_size: int = 256,
                    cache_size: int = 128, workers: int = 2, epochs: int = 3, batch_size: int = 32,
                    seed: int = 0, syntax: str = "native", repeats: int = 1, best_epoch: bool = False) -> dict:
    """Time an epoch of DICOM decode + preprocess against an epoch of cache reads.

    Args:
        workdir: scratch folder (DICOMs and the cache are written here; re-used if present).
        n_images: images in the synthetic dataset.
        source_size: DICOM height in pixels (width is 3/4 of it).
        cache_size: cache resolution.
        workers: processes used to build the cache.
        epochs: cache epochs timed (random order, ``batch_size`` images per read).
        seed: seeds the phantoms and the epoch order.
        syntax: DICOM transfer syntax (``native``, ``rle``, ``jpegls``, ``j2k``).
        repeats: decode passes timed; the fastest is kept (tiny sizes, where one pass is milliseconds).
        best_epoch: keep the fastest cache epoch instead of the mean (tiny sizes, same reason).

    Returns:
        ``decode_images_per_s`` (single process, read + preprocess), ``cache_images_per_s``,
        ``speedup`` and ``build_seconds`` (first-epoch cost with ``workers`` processes).
    """
    root = Path(workdir)
    manifest = _write_dataset(root / "dicom", n_images, source_size, seed, syntax)
    decode_s = float("inf")
    for _ in range(max(1, repeats)):
        t0 = time.perf_counter()
        for row in manifest.itertuples(index=False):
            preprocess_image(read_dicom(root / "dicom" / row.image_path).pixels, laterality=row.laterality,
                             size=cache_size)
        decode_s = min(decode_s, time.perf_counter() - t0)
    t0 = time.perf_counter()
    cache = build_cache(manifest, root / "dicom", root / f"cache_{cache_size}", size=cache_size,
                        workers=workers, progress=False)
    build_s = time.perf_counter() - t0
    rng = np.random.default_rng(seed)
    ids = cache.index["image_id"].to_numpy()
    epoch_s = []
    for _ in range(epochs):
        order = rng.permutation(len(ids))
        t0 = time.perf_counter()
        for start in range(0, len(ids), batch_size):
            cache.images(ids[order[start:start + batch_size]])
        epoch_s.append(time.perf_counter() - t0)
    read_s = min(epoch_s) if best_epoch else float(np.mean(epoch_s))
    decode_rate, read_rate = n_images / decode_s, len(ids) / max(read_s, 1e-9)
    return {"n_images": n_images, "source_size": [source_size, source_size * 3 // 4], "cache_size": cache_size,
            "syntax": syntax, "decode_images_per_s": round(decode_rate, 1),
            "cache_images_per_s": round(read_rate, 1), "speedup": round(read_rate / decode_rate, 1),
            "build_seconds": round(build_s, 2), "workers": workers}
