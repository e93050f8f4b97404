"""The ``physics`` baseline: renders cases with the built-in physics phantom simulator; see README.md.

Example:
    >>> from mammobench.baselines.physics import PhysicsGenerator
    >>> PhysicsGenerator.__name__
    'PhysicsGenerator'
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from mammobench._lazy import lazy_exports

_EXPORTS = {"PhysicsGenerator": "mammobench.baselines.physics.generator"}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from mammobench.baselines.physics.generator import PhysicsGenerator
