"""The ``folder`` baseline: serves a folder of pre-generated images (samples-only submissions); see README.md.

Example:
    >>> from mammobench.baselines.folder import FolderGenerator
    >>> FolderGenerator.__name__
    'FolderGenerator'
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from mammobench._lazy import lazy_exports

_EXPORTS = {"FolderGenerator": "mammobench.baselines.folder.generator"}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from mammobench.baselines.folder.generator import FolderGenerator
