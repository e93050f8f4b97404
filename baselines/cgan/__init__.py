"""The ``cgan`` baseline: a conditional GAN on lesion patches, blended into normal tissue; see README.md.

Example:
    >>> from mammobench.baselines.cgan import ConditionalGAN
    >>> ConditionalGAN.__name__
    'ConditionalGAN'
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from mammobench._lazy import lazy_exports

_EXPORTS = {"ConditionalGAN": "mammobench.baselines.cgan.generator"}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from mammobench.baselines.cgan.generator import ConditionalGAN
