"""Lesion patches: cut them from training images, and blend generated ones into normal images.

Patch geometry is fixed so that boxes stay exact: a training patch is the square window of side
``CONTEXT × max(box width, box height)`` centred on the finding's box, resized to ``patch_size``.
A generated patch therefore holds a lesion occupying its central ``1 / CONTEXT`` — when it is
resized back to a window of side ``CONTEXT × s`` and blended into a normal image, the inserted
lesion's box is the central square of side ``s`` (clipped to the image), by construction.

Blending uses a soft disk mask and matches the patch's border intensity to the background ring,
so no seam or brightness step is introduced.

Example:
    >>> import numpy as np
    >>> bg = np.full((32, 32), 0.4, np.float32)
    >>> patch = np.full((16, 16), 0.4, np.float32); patch[6:10, 6:10] = 0.9
    >>> img, box = insert_patch(bg, patch, center=(16.0, 12.0), side=12.0)
    >>> box
    [9.0, 13.0, 15.0, 19.0]
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from mammobench.protocols import TrainView
from mammobench.torchutil import resize_images

CONTEXT = 2.0
MIN_LESION_SIDE = 4.0


def resize(image: np.ndarray, side: int) -> np.ndarray:
    """Bilinear (antialiased) resize of a square ``[h, w]`` array to ``side × side``."""
    return resize_images(np.asarray(image, dtype=np.float32)[None], (side, side))[0, 0].numpy()


def lesion_window(box: list[float], lesion_side: float | None = None) -> tuple[float, float, float]:
    """(centre_y, centre_x, window side) of the patch window around ``box`` (x0, y0, x1, y1)."""
    x0, y0, x1, y1 = box
    side = lesion_side if lesion_side is not None else max(x1 - x0, y1 - y0, MIN_LESION_SIDE)
    return (y0 + y1) / 2, (x0 + x1) / 2, CONTEXT * side


def crop_window(image: np.ndarray, center: tuple[float, float], side: float, out_size: int) -> np.ndarray:
    """Crop the square window (reflect-padded at borders) and resize it to ``out_size``."""
    half = int(np.ceil(side / 2))
    cy, cx = int(round(center[0])), int(round(center[1]))
    padded = np.pad(image, half + 1, mode="reflect")
    y0, x0 = cy - half + half + 1, cx - half + half + 1
    return resize(padded[y0:y0 + 2 * half, x0:x0 + 2 * half], out_size)


def crop_lesion(image: np.ndarray, box: list[float], out_size: int) -> np.ndarray:
    """The training-patch window around a finding's ``box`` (side ``CONTEXT`` × box), resized to ``out_size``."""
    cy, cx, side = lesion_window(box)
    return crop_window(image, (cy, cx), side, out_size)


def soft_disk(side: int, radius: float = 0.42, softness: float = 0.1) -> np.ndarray:
    """A radial mask 1 inside ``radius × side`` fading to 0 over ``softness × side``."""
    yy, xx = (np.mgrid[0:side, 0:side] + 0.5) / side - 0.5
    dist = np.hypot(yy, xx)
    return np.clip((radius + softness / 2 - dist) / softness, 0, 1).astype(np.float32)


def tissue_centers(background: np.ndarray, side: float, threshold: float = 0.08) -> np.ndarray:
    """(y, x) pixel centres where a window of ``side`` fits inside the image over breast tissue."""
    h, w = background.shape
    half = int(np.ceil(side / 2))
    ys, xs = np.nonzero(background > threshold)
    keep = (ys >= half) & (ys < h - half) & (xs >= half) & (xs < w - half)
    if not keep.any():
        keep = (ys >= 0)
    return np.stack([ys[keep], xs[keep]], axis=1) if len(ys) else np.array([[h // 2, w // 2]])


def insert_patch(background: np.ndarray, patch: np.ndarray, *, center: tuple[float, float],
                 side: float, reference: np.ndarray | None = None) -> tuple[np.ndarray, list[float]]:
    """Add the lesion of ``patch`` (lesion in its central half) to ``background``; return (image, box).

    The lesion is inserted as an *excess density*, added to the real background under a soft disk
    slightly larger than the lesion, so the tissue texture stays everywhere (replacing the whole
    window left a smooth disk with a halo). The excess is the generated patch minus ``reference``
    — the tissue it was generated over, for inpainting generators — or else minus the mean of the
    patch's own outer ring, and it is never negative: a lesion adds attenuating tissue, it does not
    remove any (without the floor a patch whose ring was brighter than its centre was inserted as a
    dark hole). The lesion box is the central square of side ``side / CONTEXT`` around ``center``,
    clipped.
    """
    h, w = background.shape
    win = max(int(round(side)), 2)
    tile = resize(patch, win)
    mask = soft_disk(win)
    y0, x0 = int(round(center[0] - win / 2)), int(round(center[1] - win / 2))
    ys, xs = slice(max(y0, 0), min(y0 + win, h)), slice(max(x0, 0), min(x0 + win, w))
    ty, tx = slice(ys.start - y0, ys.stop - y0), slice(xs.start - x0, xs.stop - x0)
    region = background[ys, xs]
    if reference is not None:
        excess = tile - resize(reference, win)
    else:
        outer = mask < 0.5
        excess = tile - (float(tile[outer].mean()) if outer.any() else float(tile.mean()))
    excess = np.maximum(excess, 0.0)
    lesion_mask = soft_disk(win, radius=0.5 / CONTEXT + 0.05, softness=0.12)
    out = background.copy()
    inside = region > 0  # never paint lesions onto the background outside the breast
    out[ys, xs] = np.where(inside, region + lesion_mask[ty, tx] * excess[ty, tx], region)
    lesion = side / CONTEXT
    cy, cx = y0 + win / 2, x0 + win / 2
    box = [max(cx - lesion / 2, 0.0), max(cy - lesion / 2, 0.0), min(cx + lesion / 2, float(w)),
           min(cy + lesion / 2, float(h))]
    return np.clip(out, 0, 1).astype(np.float32), [float(round(v, 2)) for v in box]


def extract_patches(view: TrainView, patch_size: int, rng: np.random.Generator,
                    normals_per_image: int = 1) -> tuple[np.ndarray, pd.DataFrame]:
    """Cut lesion patches around every finding, plus random tissue patches from normal images.

    Returns ``patches [M, patch_size, patch_size]`` and a table with ``lesion_type, label,
    density, lesion_side`` per patch (``lesion_type='none'`` for normal tissue patches).
    """
    manifest = view.manifest
    sides = [max(f["box"][2] - f["box"][0], f["box"][3] - f["box"][1]) for fs in view.findings for f in fs]
    typical = float(np.median(sides)) if sides else max(view.image_size[0] / 10, MIN_LESION_SIDE)
    patches, rows = [], []
    for i, fs in enumerate(view.findings):
        img, density = view.images[i], str(manifest["density"].iloc[i])
        for f in fs:
            patches.append(crop_lesion(img, f["box"], patch_size))
            rows.append({"lesion_type": f["lesion_type"], "label": f.get("pathology", "malignant"),
                         "density": density, "lesion_side": lesion_window(f["box"])[2] / CONTEXT})
        if not fs:
            centers = tissue_centers(img, CONTEXT * typical)
            for _ in range(normals_per_image):
                cy, cx = centers[rng.integers(len(centers))]
                patches.append(crop_window(img, (cy, cx), CONTEXT * typical, patch_size))
                rows.append({"lesion_type": "none", "label": "normal", "density": density,
                             "lesion_side": typical})
    stack = np.stack(patches).astype(np.float32) if patches else np.zeros((0, patch_size, patch_size), np.float32)
    return stack, pd.DataFrame(rows, columns=["lesion_type", "label", "density", "lesion_side"])


__all__ = ["CONTEXT", "crop_lesion", "crop_window", "extract_patches", "insert_patch", "lesion_window", "resize",
           "soft_disk", "tissue_centers"]
