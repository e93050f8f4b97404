"""The ``folder`` baseline: serves a folder of pre-generated images (samples-only submissions); see README.md.

Importing the package imports its generator (whoever imports a baseline wants it); the registry in
:mod:`mammobench.generators` names it lazily, so listing generators imports none.
"""
from mammobench.baselines.folder.generator import FolderGenerator

__all__ = ["FolderGenerator"]
