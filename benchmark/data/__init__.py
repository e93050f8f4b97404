"""Data layer: canonical manifest, DICOM reading, dataset adapters, splits and the image cache (Contract 2).

Example:
    >>> from mammobench.data import age_band, harmonise_density
    >>> age_band(54), harmonise_density("DENSITY C")
    ('50-59', 'C')
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from mammobench._lazy import lazy_exports

_EXPORTS = {
    "load_dataset": "mammobench.data.ingest",
    "get_adapter": "mammobench.data.ingest",
    "MANIFEST_COLUMNS": "mammobench.data.manifest",
    "validate_manifest": "mammobench.data.manifest",
    "age_band": "mammobench.data.manifest",
    "harmonise_density": "mammobench.data.manifest",
    "assign_splits": "mammobench.data.splits",
    "manifest_sha256": "mammobench.data.splits",
    "read_dicom": "mammobench.data.dicom",
    "read_dicom_meta": "mammobench.data.dicom",
    "preprocess_image": "mammobench.data.preprocess",
    "preprocess_patch": "mammobench.data.patches",
    "ImageCache": "mammobench.data.cache",
    "build_cache": "mammobench.data.cache",
}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from mammobench.data.cache import ImageCache, build_cache
    from mammobench.data.dicom import read_dicom, read_dicom_meta
    from mammobench.data.ingest import get_adapter, load_dataset
    from mammobench.data.manifest import MANIFEST_COLUMNS, age_band, harmonise_density, validate_manifest
    from mammobench.data.patches import preprocess_patch
    from mammobench.data.preprocess import preprocess_image
    from mammobench.data.splits import assign_splits, manifest_sha256
