"""The ``none`` baseline: the no-augmentation control (adds no images); see README.md.

Importing the package imports its generator (whoever imports a baseline wants it); the registry in
:mod:`mammobench.generators` names it lazily, so listing generators imports none.
"""
from mammobench.baselines.none.generator import NoneGenerator

__all__ = ["NoneGenerator"]
