"""The ``ddpm`` baseline: a conditional DDPM on lesion patches, blended into normal tissue; see README.md.

Example:
    >>> from mammobench.baselines.ddpm import ConditionalDDPM
    >>> ConditionalDDPM.__name__
    'ConditionalDDPM'
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from mammobench._lazy import lazy_exports

_EXPORTS = {"ConditionalDDPM": "mammobench.baselines.ddpm.generator"}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from mammobench.baselines.ddpm.generator import ConditionalDDPM
