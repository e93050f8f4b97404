"""Detector recipes and the seeded training loop.

Built-in recipes are registered here (lazily, by ``module:attr`` string) in
:data:`benchmark.registry.DETECTORS`; add a recipe with one more ``register`` line.

Example:
    >>> from benchmark.registry import DETECTORS
    >>> "timm_classifier" in DETECTORS
    True
"""
from __future__ import annotations

from benchmark.registry import DETECTORS

DETECTORS.register("timm_classifier", "benchmark.training.detectors:TimmClassifier")
