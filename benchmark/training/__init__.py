"""Detector recipes and the seeded training loop.

Built-in recipes are registered here (lazily, by ``module:attr`` string) in
:data:`mammobench.registry.DETECTORS`; add a recipe with one more ``register`` line.

Example:
    >>> from mammobench.registry import DETECTORS
    >>> "timm_classifier" in DETECTORS
    True
"""
from __future__ import annotations

from mammobench.registry import DETECTORS

DETECTORS.register("timm_classifier", "mammobench.training.detectors:TimmClassifier")
DETECTORS.register("timm_centernet", "mammobench.training.detection_model:HeatmapDetector")
