"""Reference generators, one self-contained folder each (``generator.py``, ``card.yaml``, ``README.md``).

They are registered by name in :mod:`mammobench.generators`; build one with
``mammobench.get_generator(name)``. Each folder's ``__init__`` names its generator class.
"""
__all__: list[str] = []
