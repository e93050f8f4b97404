"""Loading a dataset by adapter name: the one entry point of the CLI and the pipeline.

Example:
    >>> # res = load_dataset("virtual_cohort", "cohorts/default", split_seed=0)
    >>> # res.manifest, res.rejects, res.flow
"""
from __future__ import annotations

import os

from mammobench.data.adapters import register_builtin
from mammobench.data.adapters.base import AdapterResult
from mammobench.data.splits import assign_splits, check_no_patient_overlap
from mammobench.registry import ADAPTERS


def get_adapter(name: str, **options):
    """Instantiate the adapter registered as ``name`` (or given as ``package.module:Class``)."""
    register_builtin()
    cls = ADAPTERS.get(name)
    return cls(**options) if isinstance(cls, type) else cls


def load_dataset(adapter_name: str, root: str | os.PathLike, *, split_seed: int | None = None,
                 val_fraction: float = 0.15, test_fraction: float = 0.2, verify: str = "header",
                 **options) -> AdapterResult:
    """Read the dataset at ``root`` with the named adapter; optionally assign patient-level splits.

    Args:
        adapter_name: registered adapter name (``mammobench data adapters`` lists them).
        root: dataset root folder in the dataset's native layout.
        split_seed: when given, :func:`assign_splits` is applied (official test split kept).
        val_fraction: see :func:`assign_splits`.
        test_fraction: see :func:`assign_splits`.
        verify: per-file check: ``none``, ``exists`` or ``header`` (complete DICOM with pixel data).
        **options: adapter options (e.g. ``mapping=`` for the generic manifest adapter).

    Returns:
        :class:`AdapterResult` with ``manifest``, ``rejects`` (path, image_id, reason) and ``flow``.

    Raises:
        RegistryError: unknown adapter. DataError: missing tables/columns (names file and column).
    """
    adapter = get_adapter(adapter_name, verify=verify, **options)
    result = adapter.load(root)
    if split_seed is not None and len(result.manifest):
        result.manifest = assign_splits(result.manifest, seed=split_seed, val_fraction=val_fraction,
                                        test_fraction=test_fraction)
        check_no_patient_overlap(result.manifest)
    return result
