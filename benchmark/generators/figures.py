"""Generator report figures: sample grids per condition (real next to synthetic), training curves.

Functions return :class:`matplotlib.figure.Figure` objects (Agg backend, no display needed); the
report module decides where to save them.

Example:
    >>> from mammobench.generators.fixtures import make_tiny_train_view
    >>> view = make_tiny_train_view(n=16, size=32)
    >>> fig = sample_grid(view.images, view.manifest, view.images, view.manifest, by="lesion_type", per_condition=2)
    >>> len(fig.axes) > 0
    True
"""
from __future__ import annotations

from typing import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402


def _as_stack(images: np.ndarray) -> np.ndarray:
    arr = np.asarray(images, dtype=np.float32)
    return arr[:, 0] if arr.ndim == 4 else arr


def _show(ax, image: np.ndarray, findings: object, title: str) -> None:
    ax.imshow(image, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    for f in findings if isinstance(findings, list) else []:
        x0, y0, x1, y1 = f["box"]
        ax.add_patch(Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0, y1 - y0, fill=False, lw=0.8, ec="#ff6a00"))
    ax.set_title(title, fontsize=6)
    ax.set_xticks([])
    ax.set_yticks([])


def _findings_column(labels: pd.DataFrame) -> list:
    from mammobench.data.manifest import parse_findings

    if "findings" not in labels:
        return [[] for _ in range(len(labels))]
    return [f if isinstance(f, list) else parse_findings(f) for f in labels["findings"]]


def sample_grid(real_images: np.ndarray, real_labels: pd.DataFrame, synth_images: np.ndarray,
                synth_labels: pd.DataFrame, *, by: str = "lesion_type", per_condition: int = 4,
                conditions: Sequence[str] | None = None, title: str = "", seed: int = 0):
    """One row per condition value: ``per_condition`` real images, then as many synthetic ones.

    Boxes are drawn in orange. Values missing on one side leave blank cells.
    """
    real, synth = _as_stack(real_images), _as_stack(synth_images)
    rl, sl = real_labels.reset_index(drop=True), synth_labels.reset_index(drop=True)
    rf, sf = _findings_column(rl), _findings_column(sl)
    values = list(conditions) if conditions is not None else sorted(set(sl[by].astype(str)) | set(rl[by].astype(str)))
    rng = np.random.default_rng(seed)
    fig, axes = plt.subplots(len(values), 2 * per_condition, squeeze=False,
                             figsize=(1.3 * 2 * per_condition, 1.45 * len(values) + 0.4))
    for r, value in enumerate(values):
        for side, (imgs, labels, fnd, tag) in enumerate(((real, rl, rf, "real"), (synth, sl, sf, "synthetic"))):
            idx = np.flatnonzero(labels[by].astype(str).to_numpy() == value)
            idx = rng.permutation(idx)[:per_condition]
            for c in range(per_condition):
                ax = axes[r, side * per_condition + c]
                if c < len(idx):
                    _show(ax, imgs[idx[c]], fnd[idx[c]], f"{tag}: {value}")
                else:
                    ax.axis("off")
    fig.suptitle(title or f"real (left) vs synthetic (right) by {by}", fontsize=9)
    fig.tight_layout()
    return fig


def lesion_crops(images: np.ndarray, labels: pd.DataFrame, *, context: float = 3.0, size: int = 48) -> np.ndarray:
    """Zoomed crops around each image's first finding (for looking at lesions up close)."""
    from mammobench.generators.insertion import crop_window

    stack = _as_stack(images)
    out = []
    for img, fs in zip(stack, _findings_column(labels.reset_index(drop=True))):
        if fs:
            x0, y0, x1, y1 = fs[0]["box"]
            side = context * max(x1 - x0, y1 - y0, 4)
            out.append(crop_window(img, ((y0 + y1) / 2, (x0 + x1) / 2), side, size))
        else:
            out.append(np.zeros((size, size), np.float32))
    return np.stack(out) if out else np.zeros((0, size, size), np.float32)


def training_curves(histories: dict[str, dict[str, list[float]]], *, title: str = "generator training"):
    """Loss against step for each generator (every loss key of its ``history_``)."""
    fig, axes = plt.subplots(1, max(len(histories), 1), squeeze=False, figsize=(4 * max(len(histories), 1), 3))
    for ax, (name, hist) in zip(axes[0], histories.items()):
        for key, values in hist.items():
            if key not in ("step", "seconds") and len(values) == len(hist.get("step", [])):
                ax.plot(hist["step"], values, label=key, lw=1)
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("step")
        ax.set_ylabel("loss")
        ax.legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


__all__ = ["lesion_crops", "sample_grid", "training_curves"]
