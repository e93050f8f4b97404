"""The ``none`` baseline: the no-augmentation control (adds no images); see README.md.

Example:
    >>> from mammobench.baselines.none import NoneGenerator
    >>> NoneGenerator.__name__
    'NoneGenerator'
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from mammobench._lazy import lazy_exports

_EXPORTS = {"NoneGenerator": "mammobench.baselines.none.generator"}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from mammobench.baselines.none.generator import NoneGenerator
