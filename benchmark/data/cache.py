"""The preprocessed image cache: decode every DICOM once, read memory-mapped arrays every epoch after.

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
    >>> from mammobench.data.preprocess import PREPROCESS_VERSION
    >>> key = cache_key("0" * 64, 128)
    >>> key["size"], key["preprocess_version"] == PREPROCESS_VERSION
    ([128, 128], True)
"""
from __future__ import annotations

from mammobench.data.cache_build import build_cache
from mammobench.data.cache_store import ImageCache, cache_key

__all__ = ["ImageCache", "build_cache", "cache_key"]
