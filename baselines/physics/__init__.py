"""The ``physics`` baseline: renders cases with the built-in physics phantom simulator; see README.md.

Importing the package imports its generator (whoever imports a baseline wants it); the registry in
:mod:`mammobench.generators` names it lazily, so listing generators imports none.
"""
from mammobench.baselines.physics.generator import PhysicsGenerator

__all__ = ["PhysicsGenerator"]
