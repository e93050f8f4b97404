"""Figure rendering: one draw, cropped to what is drawn; mosaics drawn as their own pixels."""
from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from mammobench.report import png as P  # noqa: E402
from mammobench.report.detection_figures import PANEL_PX, _draw_panel  # noqa: E402
from mammobench.report.sample_grids import MosaicPixels, display_size, grey_levels, nn_pairs  # noqa: E402


def _chart(legend_x: float = 1.02):
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1], [0, 1], label="a rather long legend label")
    ax.legend(loc="upper left", bbox_to_anchor=(legend_x, 1.0))
    return fig


def _savefig_tight(fig, dpi: int) -> np.ndarray:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return np.asarray(Image.open(buf).convert("RGB"))


@pytest.mark.parametrize("legend_x", [1.02, 3.5])  # inside the 2-inch margin; far beyond it (laid out, drawn again)
def test_render_matches_savefig_tight_up_to_blank_text_extent(legend_x):
    new = np.asarray(P.render_figure(_chart(legend_x), dpi=80).convert("RGB"))
    old = _savefig_tight(_chart(legend_x), dpi=80)
    assert abs(new.shape[0] - old.shape[0]) <= 4 and abs(new.shape[1] - old.shape[1]) <= 4, (new.shape, old.shape)
    # the legend text is drawn in both: the right edge of what is drawn is the same within a few pixels
    drawn_cols = [np.flatnonzero((img != 255).any(axis=(0, 2))) for img in (new, old)]
    assert abs((drawn_cols[0][-1] - drawn_cols[0][0]) - (drawn_cols[1][-1] - drawn_cols[1][0])) <= 3
    pad = round(P.PAD_IN * 80)
    assert (new[:, :pad - 1] == 255).all() and (new[:, -(pad - 1):] == 255).all()  # blank pad, nothing cut off


def test_png_is_deterministic_and_palette_is_faithful():
    assert P.figure_png(_chart()) == P.figure_png(_chart())
    rgb = np.asarray(P.render_figure(_chart(), dpi=80).convert("RGB")).astype(int)
    pal = np.asarray(Image.open(io.BytesIO(P.figure_png(_chart(), palette=True))).convert("RGB")).astype(int)
    assert pal.shape == rgb.shape and np.abs(pal - rgb).max() <= 8
    with pytest.raises(TypeError, match="matplotlib Figure"):
        P.render_figure("not a figure")


def test_mosaic_pixels_are_imshow_nearest_pixels():
    rng = np.random.default_rng(0)
    image = rng.random((30, 40))
    figs = []
    for kind in ("imshow", "mosaic"):
        fig = plt.figure(figsize=(1.4, 1.3), dpi=100)
        ax = fig.add_axes((0.5 / 1.4, 0.5 / 1.3, 0.4 / 1.4, 0.3 / 1.3))
        ax.axis("off")
        if kind == "imshow":
            ax.imshow(image, cmap="gray", vmin=0, vmax=1, interpolation="nearest", aspect="equal")
        else:
            MosaicPixels(ax, grey_levels(image))
        fig.canvas.draw()
        figs.append(np.asarray(fig.canvas.buffer_rgba()).copy())
        plt.close(fig)
    assert np.array_equal(*figs)
    with pytest.raises(ValueError, match="uint8 grey levels"):
        MosaicPixels(plt.figure().add_subplot(), image)
    plt.close("all")


def test_nn_pairs_show_every_pair_at_an_integer_upscale():
    rng = np.random.default_rng(1)
    synthetic, nearest = rng.random((5, 64, 64)), rng.random((5, 64, 64))
    fig = nn_pairs(synthetic, nearest, [0.99, 0.98, 0.97, 0.96, 0.95], max_pairs=4)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.texts] == ["sim 0.990", "sim 0.980", "sim 0.970", "sim 0.960", "synthetic",
                                                 "nearest train"]
    mosaic = ax.artists[0].rgba[..., 0]
    first = mosaic[:128, :128]  # 64 px at 2x: each source pixel a 2x2 block of its grey level
    assert np.array_equal(first, np.kron(grey_levels(synthetic[0]), np.ones((2, 2), np.uint8)))
    plt.close(fig)


def test_display_size_and_large_gallery_panels_keep_boxes_in_image_pixels():
    big = np.zeros((4 * PANEL_PX, 4 * PANEL_PX))
    assert display_size(big, PANEL_PX).shape == (PANEL_PX, PANEL_PX)
    assert display_size(np.zeros((PANEL_PX + 10, PANEL_PX + 10)), PANEL_PX).shape == (PANEL_PX + 10,) * 2
    import pandas as pd

    from mammobench.report.detection_data import ROWS

    class Pick:
        box, kind, score = (0.0, 0.0, 0.0, 0.0), ROWS[0], 0.0

    fig, ax = plt.subplots()
    marks = pd.DataFrame({"x0": [100.0], "y0": [200.0], "x1": [140.0], "y1": [260.0], "score": [0.9]})
    _draw_panel(ax, big, marks, np.array([[100.0, 200.0, 140.0, 260.0]]), 0.5, Pick(), {"criterion": "centre",
                                                                                        "iou_threshold": 0.1})
    assert ax.images[0].get_array().shape == (PANEL_PX, PANEL_PX)  # drawn at display size …
    assert [float(v) for v in ax.images[0].get_extent()] == [-0.5, 4 * PANEL_PX - 0.5, 4 * PANEL_PX - 0.5, -0.5]
    assert (ax.patches[0].get_x(), ax.patches[0].get_y()) == (100.0, 200.0)  # … boxes in the image's own pixels
    plt.close(fig)
