"""A report figure to PNG bytes in one draw: deterministic, cropped to what it shows.

``savefig(bbox_inches="tight")`` lays a figure out three times: a hidden draw, a tight-box pass (the
ticks and text extents of every axis), then the real draw. :func:`render_figure` draws once, on a canvas
:data:`MARGIN_IN` wider than the figure on every side (legends and labels placed outside the axes are
drawn too), straight into an RGBA buffer, and crops it to the drawn pixels and every axes' area plus
:data:`PAD_IN` — savefig's tight box, less the blank part of a text's extent. Only a figure that
reaches the edge of that canvas, or has an axes, legend or text beyond it, is laid out and drawn again
on a canvas that holds it.
:func:`figure_png` writes the pixels as PNG without metadata; ``palette=True`` quantises line art to
256 colours (a third of the bytes).

Example:
    >>> from mammobench.report.figures import cohort_flow
    >>> png = figure_png(cohort_flow([{"stage": "found", "n_patients": 10, "n_images": 40}]))
    >>> png[:4], png == figure_png(cohort_flow([{"stage": "found", "n_patients": 10, "n_images": 40}]))
    (b'\\x89PNG', True)
"""
from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.transforms import Bbox  # noqa: E402
from PIL import Image  # noqa: E402

PAD_IN = 0.1  #: blank margin kept around what is drawn (inches; savefig's default ``pad_inches``)
MARGIN_IN = 2.0  #: canvas beyond the figure on every side, for artists placed outside it (inches)


def _draw(fig: Figure, dpi: int, region: Bbox) -> np.ndarray:
    """``region`` (inches, figure coordinates) of ``fig`` drawn once at ``dpi``: ``[H, W]`` uint32 RGBA pixels."""
    buf = io.BytesIO()
    fig.savefig(buf, format="raw", dpi=dpi, bbox_inches=region)  # an explicit box: one draw, no pre-draw
    height, width = np.asarray(fig.canvas.renderer.buffer_rgba()).shape[:2]  # the canvas it drew on
    raw = buf.getvalue()
    if len(raw) != width * height * 4:
        raise RuntimeError(f"figure rendered to {len(raw)} bytes, not {width}x{height} RGBA pixels")
    return np.frombuffer(raw, np.uint32).reshape(height, width)


def _drawn(pixels: np.ndarray) -> tuple[int, int, int, int] | None:
    """``(top, bottom, left, right)`` (end-exclusive) of the pixels unlike the corner (background) one."""
    drawn = pixels != pixels[0, 0]
    rows = np.flatnonzero(drawn.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(drawn[rows[0]:rows[-1] + 1].any(axis=0))
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def _axes_boxes(fig: Figure, region: Bbox, dpi: int) -> list[tuple[int, int, int, int]]:
    """Every visible axes' area in canvas pixels (savefig's tight box counts an axes even with its axis off)."""
    width_in, height_in = fig.get_size_inches()
    boxes = []
    for ax in fig.axes:
        if ax.get_visible():
            pos = ax.get_position()  # after the draw: where the axes' aspect put it
            top, bottom = ((region.y1 - y * height_in) * dpi for y in (pos.y1, pos.y0))
            left, right = ((x * width_in - region.x0) * dpi for x in (pos.x0, pos.x1))
            boxes.append((int(top), int(np.ceil(bottom)), int(left), int(np.ceil(right))))
    return boxes


def _beyond(fig: Figure, region: Bbox, dpi: int) -> bool:
    """Whether an axes, legend or text of ``fig`` reaches outside ``region`` (checked after the draw: their
    extents are then cheap; ticks and titles sit by their axes, well inside the margin)."""
    renderer = fig.canvas.get_renderer()
    limit = Bbox(region.get_points() * dpi)  # figure pixels
    extents = [ax.get_window_extent(renderer) for ax in fig.axes if ax.get_visible()]
    legends = [leg for ax in fig.axes if (leg := ax.get_legend()) is not None
               and leg.get_bbox_to_anchor() is not ax.bbox]  # a legend placed inside its axes stays inside it
    for artist in [*fig.legends, *fig.texts, *legends, *(t for ax in fig.axes for t in ax.texts)]:
        if artist.get_visible():
            extents.append(artist.get_window_extent(renderer))
    return any(e.x0 < limit.x0 or e.y0 < limit.y0 or e.x1 > limit.x1 or e.y1 > limit.y1 for e in extents)


def render_figure(fig: Figure, dpi: int = 80) -> Image.Image:
    """``fig`` drawn once at ``dpi`` and cropped to what it shows plus :data:`PAD_IN`, as an RGBA image;
    ``fig`` is closed.

    Raises:
        TypeError: ``fig`` is not a matplotlib ``Figure``.

    Example:
        >>> from mammobench.report.figures import cohort_flow
        >>> render_figure(cohort_flow([{"stage": "found", "n_patients": 1}])).mode
        'RGBA'
    """
    if not isinstance(fig, Figure):
        raise TypeError(f"render_figure needs a matplotlib Figure, not {type(fig).__name__}")
    try:
        fig.set_layout_engine(None)  # a finished tight_layout() leaves a placeholder engine: savefig would pre-draw
        fig.set_dpi(dpi)
        if not isinstance(fig.canvas, FigureCanvasAgg):
            FigureCanvasAgg(fig)
        width_in, height_in = fig.get_size_inches()
        region = Bbox([[-MARGIN_IN, -MARGIN_IN], [width_in + MARGIN_IN, height_in + MARGIN_IN]])
        pixels = _draw(fig, dpi, region)
        drawn = _drawn(pixels)
        if (drawn is not None and (drawn[0] == 0 or drawn[2] == 0 or drawn[1] == pixels.shape[0]
                                   or drawn[3] == pixels.shape[1])) or _beyond(fig, region, dpi):
            # something beyond the margin: lay the figure out, draw it again on a canvas that holds it
            region = Bbox.union([region, fig.get_tightbbox(fig.canvas.get_renderer()).padded(MARGIN_IN)])
            pixels = _draw(fig, dpi, region)
            drawn = _drawn(pixels)
        boxes = [drawn] * (drawn is not None) + _axes_boxes(fig, region, dpi)
    finally:
        plt.close(fig)
    pad = round(PAD_IN * dpi)
    top, left = (max(min(b[i] for b in boxes) - pad, 0) if boxes else 0 for i in (0, 2))
    bottom, right = (min(max(b[i] for b in boxes) + pad, n) if boxes else n for i, n in ((1, pixels.shape[0]),
                                                                                       (3, pixels.shape[1])))
    rgba = np.ascontiguousarray(pixels[top:bottom, left:right]).view(np.uint8).reshape(bottom - top, right - left, 4)
    return Image.fromarray(rgba, "RGBA")


def figure_png(fig: Figure, dpi: int = 80, *, palette: bool = False) -> bytes:
    """PNG bytes of ``fig`` (:func:`render_figure`), without creation-time metadata (byte-deterministic).

    ``palette``: colours quantised to a 256-colour palette (maximum coverage, no dithering) — about a third
    of the bytes; on the report's charts every pixel within 5 of 255 levels of its drawn colour (median cut
    moved rare marker colours by up to 57, and is slower); not for images judged by texture. An opaque
    figure is written as RGB (its alpha channel would be 255 everywhere).

    Example:
        >>> from mammobench.report.figures import cohort_flow
        >>> figure_png(cohort_flow([{"stage": "found", "n_patients": 1}]), palette=True)[:4]
        b'\\x89PNG'
    """
    image = render_figure(fig, dpi)
    if image.getextrema()[3] == (255, 255):
        image = image.convert("RGB")
    buf = io.BytesIO()
    if palette:
        image.convert("RGB").quantize(colors=256, method=Image.Quantize.MAXCOVERAGE, dither=Image.Dither.NONE).save(
            buf, format="PNG", compress_level=6)  # optimize=True: 7 % fewer bytes for twice the time
    else:
        image.save(buf, format="PNG", dpi=(dpi, dpi))
    return buf.getvalue()


__all__ = ["MARGIN_IN", "PAD_IN", "figure_png", "render_figure"]
