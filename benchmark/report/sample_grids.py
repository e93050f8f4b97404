"""Sample grids a radiologist would look at: per condition, real images above synthetic ones, lesion boxes drawn.

Reads the run's ``samples/<arm>.npz`` (written by :func:`mammobench.pipeline.augment.write_samples`):
``real__<attr>=<value>`` / ``synthetic__<attr>=<value>`` image stacks ``[k, H, W]`` in [0, 1] and,
when the producer recorded them, ``boxes_real__…`` / ``boxes_synthetic__…`` ``[k, m, 4]`` lesion boxes
(``x0, y0, x1, y1`` in image pixels, NaN rows = no box). One figure per arm and attribute; each image
is drawn at an integer upscale of its own pixels (no smoothing), so texture is judged on the pixels
the detector saw. Conditions without ``=`` (older runs) are grouped under ``condition``. The memorisation
audit's pairs (:func:`nn_pairs`) are drawn the same way. Each gallery is one mosaic drawn as its own pixels
(:class:`MosaicPixels`), not one ``imshow`` per image.

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

import functools
import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.artist import Artist  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

KINDS = ("real", "synthetic")
BOX_COLOUR = "#ff7f0e"
GRID_DPI = 100
MIN_CELL_PX = 144  # each image at least this many screen pixels wide (integer upscale of its own pixels)
NN_CELL_PX = 112  # memorisation pairs: each image at least this many screen pixels wide
ATTRIBUTE_ORDER = ("density", "lesion_type", "label", "age_band", "condition")


def _split_condition(cond: str) -> tuple[str, str]:
    return tuple(cond.split("=", 1)) if "=" in cond else ("condition", cond)  # type: ignore[return-value]


def _boxes(arrays: dict, kind: str, cond: str, k: int) -> list[np.ndarray] | None:
    raw = arrays.get(f"boxes_{kind}__{cond}")
    if raw is None:
        return None
    if len(raw) == 0:  # a condition with no images drawn (e.g. a smoke run): no boxes, not a reshape error
        return []
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


GAP_PX, GROUP_GAP_PX, LABEL_IN = 4, 14, 1.2


def upscale(size: int) -> int:
    """The integer factor each image of ``size`` pixels is drawn at (at least MIN_CELL_PX on screen)."""
    return max(1, math.ceil(MIN_CELL_PX / max(size, 1)))


def grey_levels(image: np.ndarray) -> np.ndarray:
    """Values in [0, 1] as the 8-bit grey levels ``imshow(cmap="gray", vmin=0, vmax=1)`` shows them.

    Example:
        >>> grey_levels(np.array([0.0, 0.5, 1.0, 2.0])).tolist()
        [0, 128, 255, 255]
    """
    index = np.clip((np.asarray(image, dtype=float) * 256).astype(int), 0, 255)  # the colormap's 256 bins
    return _grey_lut()[index]


@functools.lru_cache(maxsize=1)
def _grey_lut() -> np.ndarray:
    return plt.get_cmap("gray")(np.arange(256), bytes=True)[:, 0]


def _mosaic(rows: list[tuple], n_cols: int, size: int, scale: int) -> tuple[np.ndarray, list[tuple], list[float]]:
    """All images in one uint8 array of grey levels (upscaled ``scale``× by pixel repetition, white gaps, a wider
    gap between values), boxes in mosaic pixels, and each row's centre line."""
    cell = size * scale
    tops, y = [], 0
    for r in range(len(rows)):
        y += GROUP_GAP_PX if r and r % len(KINDS) == 0 else (GAP_PX if r else 0)
        tops.append(y)
        y += cell
    mosaic = np.full((y, n_cols * cell + (n_cols - 1) * GAP_PX), 255, dtype=np.uint8)
    boxes = []
    for r, (_, _, images, image_boxes) in enumerate(rows):
        for c in range(min(n_cols, 0 if images is None else len(images))):
            x0 = c * (cell + GAP_PX)
            tile = grey_levels(np.asarray(images[c]).reshape(images.shape[-2:])[:size, :size])
            mosaic[tops[r]:tops[r] + tile.shape[0] * scale, x0:x0 + tile.shape[1] * scale] = tile.repeat(
                scale, axis=0).repeat(scale, axis=1)
            for bx0, by0, bx1, by1 in (image_boxes[c] if image_boxes is not None else []):
                boxes.append((x0 + bx0 * scale, tops[r] + by0 * scale, (bx1 - bx0) * scale, (by1 - by0) * scale))
    return mosaic, boxes, [t + cell / 2 for t in tops]


class MosaicPixels(Artist):
    """A mosaic of grey levels (uint8, e.g. :func:`grey_levels`) drawn as its own pixels on its axes' area:
    ``imshow(cmap="gray", interpolation="nearest")`` at one image pixel per screen pixel gives the same
    pixels, after resampling the image onto itself.

    At another dpi than :data:`GRID_DPI` the mosaic is scaled to the axes' size by pixel repetition.

    Example:
        >>> fig = plt.figure(figsize=(1, 1), dpi=GRID_DPI)
        >>> art = MosaicPixels(fig.add_axes((0, 0, 1, 1)), np.zeros((100, 100), np.uint8))
        >>> art.rgba.shape, art.rgba[0, 0].tolist()
        ((100, 100, 4), [0, 0, 0, 255])
        >>> plt.close(fig)
    """

    def __init__(self, ax, mosaic: np.ndarray) -> None:
        super().__init__()
        if mosaic.dtype != np.uint8 or mosaic.ndim != 2:
            raise ValueError(f"a mosaic is a 2-D array of uint8 grey levels, not {mosaic.dtype} {mosaic.shape}")
        self.rgba = np.empty((*mosaic.shape, 4), np.uint8)
        self.rgba[..., :3] = mosaic[..., None]
        self.rgba[..., 3] = 255
        self._ax = ax
        self.set_zorder(0)  # under the lesion boxes
        ax.set_xlim(-0.5, mosaic.shape[1] - 0.5)  # imshow's data coordinates: pixel centres at integers, y down
        ax.set_ylim(mosaic.shape[0] - 0.5, -0.5)
        ax.set_aspect("equal")
        ax.add_artist(self)

    def draw(self, renderer) -> None:
        box = self._ax.bbox
        height, width = round(box.height), round(box.width)
        rgba = self.rgba
        if rgba.shape[:2] != (height, width):
            rgba = rgba[np.arange(height) * rgba.shape[0] // height][:, np.arange(width) * rgba.shape[1] // width]
        gc = renderer.new_gc()
        renderer.draw_image(gc, round(box.x0), round(box.y0), np.ascontiguousarray(rgba[::-1]))  # bottom row first
        gc.restore()


def mosaic_figure(mosaic: np.ndarray, top_in: float) -> tuple[Figure, object]:
    """A figure holding ``mosaic`` (uint8 grey levels) at one pixel per screen pixel at :data:`GRID_DPI`, with
    :data:`LABEL_IN` on the left for row labels and ``top_in`` above for titles; returns ``(figure, axes)``
    (axes in the mosaic's pixel coordinates, y down, axis off).

    Example:
        >>> fig, ax = mosaic_figure(np.zeros((50, 100), np.uint8), top_in=0.5)
        >>> fig.get_size_inches().round(2).tolist(), [float(v) for v in ax.get_ylim()]
        ([2.2, 1.0], [49.5, -0.5])
        >>> plt.close(fig)
    """
    height_px, width_px = mosaic.shape
    fig = plt.figure(figsize=(width_px / GRID_DPI + LABEL_IN, height_px / GRID_DPI + top_in), dpi=GRID_DPI)
    ax = fig.add_axes((LABEL_IN / fig.get_figwidth(), 0, width_px / GRID_DPI / fig.get_figwidth(),
                       height_px / GRID_DPI / fig.get_figheight()))
    MosaicPixels(ax, mosaic)
    ax.axis("off")
    return fig, ax


def display_size(image: np.ndarray, cell_px: int) -> np.ndarray:
    """``image`` block-averaged by the largest integer factor that keeps it at least ``cell_px`` pixels wide:
    the detail a ``cell_px``-wide display can show (an image under twice that width is returned unchanged).

    Example:
        >>> display_size(np.arange(16.0).reshape(4, 4), 2).tolist()
        [[2.5, 4.5], [10.5, 12.5]]
    """
    factor = image.shape[-1] // max(cell_px, 1)
    if factor < 2:
        return image
    height, width = image.shape[0] // factor * factor, image.shape[1] // factor * factor
    return image[:height, :width].reshape(height // factor, factor, width // factor, factor).mean(axis=(1, 3))


def nn_pairs(synthetic: np.ndarray, nearest: np.ndarray, similarity, max_pairs: int = 6,
             label: str = "sim") -> Figure:
    """Synthetic images (top row) above their nearest training images (bottom row), each column titled with
    the pair's similarity or distance; every image at an integer multiple of its own pixels (at least
    :data:`NN_CELL_PX` on screen; a larger image first block-averaged to about that size, :func:`display_size`).

    Example:
        >>> fig = nn_pairs(np.zeros((3, 8, 8)), np.ones((3, 8, 8)), [0.9, 0.8, 0.7], max_pairs=2)
        >>> [t.get_text() for t in fig.axes[0].texts]
        ['sim 0.900', 'sim 0.800', 'synthetic', 'nearest train']
        >>> plt.close(fig)
    """
    k = max(1, min(max_pairs, len(synthetic), len(nearest), len(similarity)))
    stacks = [np.stack([display_size(np.asarray(arr[j], dtype=float).reshape(arr.shape[-2:]), NN_CELL_PX)
                        for j in range(k)]) for arr in (synthetic, nearest)]
    size = max(stack.shape[-1] for stack in stacks)
    scale = max(1, math.ceil(NN_CELL_PX / size))
    rows = [(None, "synthetic", stacks[0], None), (None, "nearest train", stacks[1], None)]
    mosaic, _, centres = _mosaic(rows, k, size, scale)
    fig, ax = mosaic_figure(mosaic, top_in=0.3)
    for j in range(k):
        ax.text(j * (size * scale + GAP_PX) + size * scale / 2, -6, f"{label} {float(similarity[j]):.3f}",
                ha="center", va="bottom", fontsize=8)
    for (_, name, _, _), centre in zip(rows, centres):
        ax.text(-10, centre, name, ha="right", va="center", fontsize=8)
    return fig


def sample_grid(panel: list[dict], title: str) -> Figure:
    """Rows ``<value> · real`` then ``<value> · synthetic`` for every value of one attribute, one pixel of the
    figure per pixel of the upscaled mosaic (drawn as a single image: fast, and no resampling).

    Example:
        >>> panel = grid_panels({"real__density=A": np.zeros((2, 16, 16)),
        ...                      "synthetic__density=A": np.ones((2, 16, 16))})
        >>> fig = sample_grid(panel["density"], "t")
        >>> [t.get_text() for t in fig.axes[0].texts]
        ['A\\nreal', 'A\\nsynthetic']
        >>> plt.close(fig)
    """
    rows = [(p["value"], kind, p["images"].get(kind), p["boxes"].get(kind)) for p in panel for kind in KINDS]
    n_cols = max([len(imgs) for _, _, imgs, _ in rows if imgs is not None] + [1])
    size = max((imgs.shape[-1] for _, _, imgs, _ in rows if imgs is not None), default=64)
    mosaic, boxes, centres = _mosaic(rows, n_cols, size, upscale(size))
    fig, ax = mosaic_figure(mosaic, top_in=0.4)
    for x, y, w, h in boxes:
        ax.add_patch(Rectangle((x - 0.5, y - 0.5), w, h, fill=False, lw=1.3, ec=BOX_COLOUR))
    for (value, kind, images, _), yc in zip(rows, centres):
        ax.text(-10, yc, f"{value}\n{kind}" + ("" if images is not None else "\n(none)"), ha="right", va="center",
                fontsize=10, color="#1f4e79" if kind == "real" else "#7f3f00")
    fig.suptitle(title, fontsize=11, y=1 - 0.12 / fig.get_figheight())
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
