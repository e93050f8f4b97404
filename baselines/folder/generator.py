"""``folder``: serve pre-generated samples from ``DIR/manifest.csv`` + ``DIR/card.yaml``.

For submitters who send images, not code. ``fit`` validates the folder (count, dtype, size equal
to the training resolution, intensity range, manifest/vocabulary/box consistency; errors name the
file and row) and loads it; ``sample`` serves rows matching the requested conditions, chosen with
the seed. The card is the folder's own ``card.yaml``.

Example:
    >>> import tempfile
    >>> from mammobench.generators.fixtures import make_tiny_train_view, write_tiny_folder_submission
    >>> d = write_tiny_folder_submission(tempfile.mkdtemp(), n=6, size=32)
    >>> gen = FolderGenerator(path=str(d)).fit(make_tiny_train_view(n=4, size=32), seed=0)
    >>> gen.sample(3, seed=0).images.shape
    (3, 1, 32, 32)
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from mammobench.baselines.folder.validate import load_folder
from mammobench.cards import GeneratorCard
from mammobench.errors import ConfigError
from mammobench.generators.base import GeneratorMixin
from mammobench.generators.conditions import labels_frame, resolve_conditions
from mammobench.protocols import CONDITION_COLUMNS, GeneratorTags, SyntheticBatch, TrainView


class FolderGenerator(GeneratorMixin):
    """Pre-generated images with labels; conditions are met by choosing matching rows."""

    def __init__(self, path: str = ""):
        self.path = path

    @property
    def tags(self) -> GeneratorTags:
        """Conditional on what the folder's card declares (rows are chosen by those columns)."""
        conditional = tuple(self.card.conditioning) if self.path else ()
        return GeneratorTags(requires_fit=False, conditional_on=conditional, produces_boxes=True)

    @property
    def card(self) -> GeneratorCard:
        if not self.path:
            raise ConfigError("folder generator: set path=DIR (a folder with manifest.csv and card.yaml)")
        return GeneratorCard.from_yaml(Path(self.path) / "card.yaml")

    def fit(self, data: TrainView, *, seed: int) -> "FolderGenerator":
        self._load(tuple(data.image_size))
        return self

    def _load(self, size: tuple[int, int] | None = None) -> None:
        if not self.path:
            raise ConfigError("folder generator: set path=DIR (a folder with manifest.csv and card.yaml)")
        self.card  # validate card.yaml early  # noqa: B018
        table, images = load_folder(self.path, expected_size=size)
        self.images_ = np.round(images * 65535).astype(np.uint16)
        self.labels_ = {c: table[c].tolist() for c in CONDITION_COLUMNS}
        self.findings_ = table["findings"].tolist()

    def sample(self, n: int, *, conditions: pd.DataFrame | None = None, seed: int) -> SyntheticBatch:
        if not hasattr(self, "images_"):
            self._load()
        rng = np.random.default_rng(seed)
        table = pd.DataFrame(self.labels_)
        rows = resolve_conditions(n, conditions, table, rng)
        src = rows["source_row"].astype(int).to_numpy()
        images = (self.images_[src].astype(np.float32) / 65535.0)[:, None]
        rows.loc[:, list(CONDITION_COLUMNS)] = table.iloc[src].reset_index(drop=True).to_numpy()
        findings = [[dict(f) for f in self.findings_[i]] for i in src]
        return SyntheticBatch(images, labels_frame(rows, findings), {"generator": "folder", "seed": seed,
                                                                     "rows": src.tolist()})
