"""Detector recipes and the seeded training loop.

Built-in recipes are registered here (lazily, by ``module:attr`` string) in
:data:`mammobench.registry.DETECTORS`; add a recipe with one more ``register`` line.

Example:
    >>> from mammobench.registry import DETECTORS
    >>> "timm_classifier" in DETECTORS
    True
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from mammobench._lazy import lazy_exports
from mammobench.registry import DETECTORS

DETECTORS.register("timm_classifier", "mammobench.training.detectors:TimmClassifier")
DETECTORS.register("timm_centernet", "mammobench.training.detection_model:HeatmapDetector")

_EXPORTS = {
    "train_detector": "mammobench.training.train",
    "predict_scores": "mammobench.training.train",
    "TrainConfig": "mammobench.training.train",
    "TrainResult": "mammobench.training.train",
    "TimmClassifier": "mammobench.training.detectors",
}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from mammobench.training.detectors import TimmClassifier
    from mammobench.training.train import TrainConfig, TrainResult, predict_scores, train_detector
