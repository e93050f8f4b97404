"""Test fixture: a third-party generator package in < 50 lines, registered by entry point.

``write_plugin_package(tmp_path)`` writes ``noisy_plugin/generator.py`` plus a
``noisy_plugin-0.1.dist-info`` with ``entry_points.txt`` (group ``mammobench.generators``, name
``noisy_copies``); with ``tmp_path`` on ``sys.path`` (or ``PYTHONPATH``) ``importlib.metadata``
finds it, so ``mammobench check-generator noisy_copies`` and ``mammobench run`` can use it.
"""
from __future__ import annotations

from pathlib import Path

PLUGIN_NAME = "noisy_copies"

PLUGIN_SOURCE = '''"""A minimal MammoBench generator: noisy copies of training images (no base class needed)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from mammobench.cards import GeneratorCard
from mammobench.protocols import GeneratorTags, SyntheticBatch


class NoisyCopies:
    tags = GeneratorTags(conditional_on=("label",), produces_boxes=True)

    def __init__(self, noise: float = 0.02):
        self.noise = noise

    @property
    def card(self) -> GeneratorCard:
        return GeneratorCard(name="noisy_copies", version="0.1", kind="other", licence="MIT",
                             intended_use="plug-in demo", conditioning=("label",),
                             training_manifest_sha256=getattr(self, "manifest_hash_", ""))

    def fit(self, data, *, seed: int) -> "NoisyCopies":
        self.manifest_hash_ = data.manifest_hash
        self.images_ = np.asarray(data.images, np.float32)
        cols = ["label", "lesion_type", "density", "age_band", "view"]
        self.labels_ = data.manifest[cols].astype(str).to_dict("list")
        self.findings_ = [list(f) for f in data.findings]
        return self

    def sample(self, n: int, *, conditions: pd.DataFrame | None = None, seed: int) -> SyntheticBatch:
        rng = np.random.default_rng(seed)
        labels = pd.DataFrame(self.labels_)
        idx = []
        for i in range(n):
            ok = np.arange(len(labels))
            if conditions is not None and "label" in conditions:
                ok = np.flatnonzero(labels["label"] == conditions["label"].iloc[i]) if len(ok) else ok
            idx.append(int(rng.choice(ok if len(ok) else np.arange(len(labels)))))
        noise = rng.normal(0, self.noise, (n,) + self.images_.shape[1:])
        images = np.clip(self.images_[idx] + noise, 0, 1).astype(np.float32)[:, None]
        out = labels.iloc[idx].reset_index(drop=True)
        out["findings"] = [self.findings_[i] for i in idx]
        return SyntheticBatch(images, out)
'''


def write_plugin_package(root: str | Path) -> str:
    """Write the plug-in package and its dist-info under ``root``; returns the entry-point name."""
    root = Path(root)
    (root / "noisy_plugin").mkdir(parents=True, exist_ok=True)
    (root / "noisy_plugin" / "__init__.py").write_text("", encoding="utf-8")
    (root / "noisy_plugin" / "generator.py").write_text(PLUGIN_SOURCE, encoding="utf-8")
    info = root / "noisy_plugin-0.1.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: noisy-plugin\nVersion: 0.1\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(
        f"[mammobench.generators]\n{PLUGIN_NAME} = noisy_plugin.generator:NoisyCopies\n", encoding="utf-8")
    return PLUGIN_NAME
