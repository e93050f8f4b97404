"""The ``classic`` baseline: classic augmentation of real training images (the non-generative control); see README.md.

Importing the package imports its generator (whoever imports a baseline wants it); the registry in
:mod:`mammobench.generators` names it lazily, so listing generators imports none.
"""
from mammobench.baselines.classic.generator import ClassicAugmentation

__all__ = ["ClassicAugmentation"]
