"""The ``classic`` baseline: classic augmentation of real training images (the non-generative control); see README.md.

Example:
    >>> from mammobench.baselines.classic import ClassicAugmentation
    >>> ClassicAugmentation.__name__
    'ClassicAugmentation'
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from mammobench._lazy import lazy_exports

_EXPORTS = {"ClassicAugmentation": "mammobench.baselines.classic.generator"}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from mammobench.baselines.classic.generator import ClassicAugmentation
