"""The control arm: a generator that adds no samples.

``sample`` returns an empty batch at the training resolution, so the "real only" arm runs through
exactly the same code path as every other arm.

Example:
    >>> from mammobench.generators.fixtures import make_tiny_train_view
    >>> gen = NoneGenerator().fit(make_tiny_train_view(n=4, size=16), seed=0)
    >>> gen.sample(8, seed=0).images.shape
    (0, 1, 16, 16)
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from mammobench.generators.base import GeneratorMixin
from mammobench.generators.conditions import LABEL_COLUMNS, validate_conditions
from mammobench.protocols import GeneratorTags, SyntheticBatch, TrainView
from mammobench.resources import resource_path

CARD_PATH = resource_path(__package__, "card.yaml")


class NoneGenerator(GeneratorMixin):
    """Adds nothing; fitting only records the training resolution."""

    tags = GeneratorTags(requires_fit=True, adds_samples=False, produces_boxes=False)
    card_path = CARD_PATH

    def __init__(self) -> None:
        pass

    @classmethod
    def tiny_config(cls) -> dict:
        return {}

    def fit(self, data: TrainView, *, seed: int) -> "NoneGenerator":
        self.record_training_data(data)
        self.image_size_ = list(data.image_size)
        return self

    def sample(self, n: int, *, conditions: pd.DataFrame | None = None, seed: int) -> SyntheticBatch:
        validate_conditions(n, conditions)
        h, w = self.image_size_
        return SyntheticBatch(np.zeros((0, 1, h, w), np.float32), pd.DataFrame(columns=list(LABEL_COLUMNS)),
                              {"generator": "none", "seed": seed, "requested": n})
