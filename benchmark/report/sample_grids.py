"""Sample grids a radiologist would look at: per condition, real images above synthetic ones, lesion boxes drawn.

Reads the run's ``samples/<arm>.npz`` (written by :func:`mammobench.pipeline.augment.write_samples`):
``real__<attr>=<value>`` / ``synthetic__<attr>=<value>`` image stacks ``[k, H, W]`` in [0, 1] and,
when the producer recorded them, ``boxes_real__…`` / ``boxes_synthetic__…`` ``[k, m, 4]`` lesion boxes
(``x0, y0, x1, y1`` in image pixels, NaN rows = no box). One figure per arm and attribute; each image
is drawn at an integer upscale of its own pixels (no smoothing), so texture is judged on the pixels
the detector saw. Conditions without ``=`` (older runs) are grouped under ``condition``.

Example:
    >>> import numpy as np
    >>> arrays = {"real__density=A": np.zeros((2, 16, 16)), "synthetic__density=A": np.ones((2, 16, 16)),
    ...           "boxes_real__density=A": np.array([[[2, 2, 6, 6]], [[np.nan] * 4]])}
    >>> sorted(grid_panels(arrays))
    ['density']
    >>> grid_panels(arrays)["density"][0]["boxes"]["real"][0].tolist()
    [[2.0, 2.0, 6.0, 6.0]]
"""
from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

KINDS = ("real", "synthetic")
BOX_COLOUR = "#ff7f0e"
GRID_DPI = 100
MIN_CELL_PX = 144  # each image at least this many screen pixels wide (integer upscale of its own pixels)
ATTRIBUTE_ORDER = ("density", "lesion_type", "label", "age_band", "condition")


def _split_condition(cond: str) -> tuple[str, str]:
    return tuple(cond.split("=", 1)) if "=" in cond else ("condition", cond)  # type: ignore[return-value]


def _boxes(arrays: dict, kind: str, cond: str, k: int) -> list[np.ndarray] | None:
    raw = arrays.get(f"boxes_{kind}__{cond}")
    if raw is None:
        return None
    raw = np.asarray(raw, dtype=float).reshape(len(raw), -1, 4)
    return [raw[i][~np.isnan(raw[i]).any(axis=1)] for i in range(min(k, len(raw)))]


def grid_panels(arrays: dict[str, np.ndarray]) -> dict[str, list[dict]]:
    """``{attribute: [{value, images: {kind: [k, H, W]}, boxes: {kind: [per-image [m, 4]] | None}}]}``."""
    conds = sorted({key.split("__", 1)[1] for key in arrays if key.split("__", 1)[0] in KINDS})
    panels: dict[str, list[dict]] = {}
    for cond in conds:
        attr, value = _split_condition(cond)
        images = {kind: np.asarray(arrays[f"{kind}__{cond}"], dtype=float) for kind in KINDS
                  if f"{kind}__{cond}" in arrays}
        boxes = {kind: _boxes(arrays, kind, cond, len(images[kind])) for kind in images}
        panels.setdefault(attr, []).append({"value": value, "images": images, "boxes": boxes})
    order = {a: i for i, a in enumerate(ATTRIBUTE_ORDER)}
    return dict(sorted(panels.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0])))


def _cell(ax, image: np.ndarray | None, boxes: np.ndarray | None) -> None:
    ax.set_xticks([])
    ax.set_yticks([])
    if image is None:
        ax.axis("off")
        return
    ax.imshow(np.asarray(image, dtype=float).reshape(image.shape[-2:]), cmap="gray", vmin=0, vmax=1,
              interpolation="nearest")
    for x0, y0, x1, y1 in boxes if boxes is not None else []:
        ax.add_patch(Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0 + 1, y1 - y0 + 1, fill=False, lw=1.3, ec=BOX_COLOUR))


def upscale(size: int) -> int:
    """The integer factor each image of ``size`` pixels is drawn at (at least MIN_CELL_PX on screen)."""
    return max(1, math.ceil(MIN_CELL_PX / max(size, 1)))


def sample_grid(panel: list[dict], title: str) -> Figure:
    """Rows ``<value> · real`` then ``<value> · synthetic`` for every value of one attribute."""
    rows = [(p["value"], kind, p["images"].get(kind), p["boxes"].get(kind)) for p in panel for kind in KINDS]
    n_cols = max([len(imgs) for _, _, imgs, _ in rows if imgs is not None] + [1])
    size = max([imgs.shape[-1] for _, _, imgs, _ in rows if imgs is not None] + [64])
    cell = upscale(size) * size / GRID_DPI
    fig, axes = plt.subplots(len(rows), n_cols, figsize=(cell * n_cols + 1.4, cell * len(rows) + 0.5),
                             squeeze=False, dpi=GRID_DPI)
    for r, (value, kind, images, boxes) in enumerate(rows):
        for c in range(n_cols):
            has = images is not None and c < len(images)
            _cell(axes[r][c], images[c] if has else None, boxes[c] if has and boxes is not None else None)
        label = f"{value}\n{kind}" + ("" if images is not None else "\n(none)")
        axes[r][0].axis("on")
        axes[r][0].set_ylabel(label, fontsize=10, rotation=0, ha="right", va="center",
                              color="#1f4e79" if kind == "real" else "#7f3f00")
    fig.subplots_adjust(left=1.3 / fig.get_figwidth(), right=0.995, bottom=0.02, top=1 - 0.45 / fig.get_figheight(),
                        wspace=0.03, hspace=0.06)
    fig.suptitle(title, fontsize=11, y=1 - 0.1 / fig.get_figheight())
    return fig


def sample_figures(samples: dict[str, dict[str, np.ndarray]]) -> dict[str, tuple[Figure, str]]:
    """``samples_<arm>_<attribute>`` → (figure, caption) for every arm's npz and attribute in it."""
    out = {}
    for arm, arrays in samples.items():
        for attr, panel in grid_panels(arrays).items():
            k = {kind: max((len(p["images"][kind]) for p in panel if kind in p["images"]), default=0)
                 for kind in KINDS}
            size = max(imgs.shape[-1] for p in panel for imgs in p["images"].values())
            has_boxes = any(p["boxes"].get(kind) is not None for p in panel for kind in KINDS)
            out[f"samples_{arm}_{attr}"] = (
                sample_grid(panel, f"{arm}: real (upper row) vs synthetic (lower row) per {attr}"),
                f"{arm}, per {attr}: up to {k['real']} real training images above {k['synthetic']} synthetic ones "
                f"for each value, each drawn at {upscale(size)}× its own {size}-pixel grid (click for full size); "
                + ("lesion boxes in orange on both." if has_boxes else
                   "this run's samples file records no lesion boxes (older run: re-run to add them)."))
    return out
