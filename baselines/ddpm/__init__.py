"""The ``ddpm`` baseline: a conditional DDPM on lesion patches, blended into normal tissue; see README.md.

Importing the package imports its generator (whoever imports a baseline wants it); the registry in
:mod:`mammobench.generators` names it lazily, so listing generators imports none.
"""
from mammobench.baselines.ddpm.generator import ConditionalDDPM

__all__ = ["ConditionalDDPM"]
