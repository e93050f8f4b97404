"""Picture grid of the simulator: the four densities × lesion types, ground-truth boxes drawn.

Example:
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "grid.png"
    >>> density_lesion_grid(out, size=64, seed=0).exists()
    True
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from mammobench.io import atomic_write_bytes
from mammobench.simulator import sample_case, simulate_image

GRID_LESIONS = ("none", "mass", "calcification", "architectural_distortion", "asymmetry")
_TITLES = {"none": "normal", "mass": "mass", "calcification": "calcification",
           "architectural_distortion": "distortion", "asymmetry": "asymmetry"}


def grid_images(size: int = 256, seed: int = 0) -> list[list]:
    """Rows A–D × columns of :data:`GRID_LESIONS`; views alternate MLO / CC by column."""
    rows = []
    for r, density in enumerate("ABCD"):
        row = []
        for c, lesion in enumerate(GRID_LESIONS):
            rng = np.random.default_rng(np.random.SeedSequence([seed, r, c]))
            spec = sample_case(rng, density=density, lesion_type=lesion, view="MLO" if c % 2 == 0 else "CC",
                               laterality="L" if (r + c) % 2 == 0 else "R",
                               pathology=None if lesion == "none" else "malignant" if c % 2 else "benign")
            row.append((spec, simulate_image(spec, size=size, seed=int(rng.integers(2**31)))))
        rows.append(row)
    return rows


def density_lesion_grid(out: str | Path, *, size: int = 256, seed: int = 0) -> Path:
    """Render the grid to a PNG (matplotlib, Agg backend) and return its path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    rows = grid_images(size, seed)
    fig, axes = plt.subplots(4, len(GRID_LESIONS), figsize=(2.3 * len(GRID_LESIONS), 2.45 * 4), dpi=110)
    for r, row in enumerate(rows):
        for c, (spec, img) in enumerate(row):
            ax = axes[r, c]
            ax.imshow(img.pixels, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            for f in img.findings:
                x0, y0, x1, y1 = f["box"]
                color = "#ff5050" if f["pathology"] == "malignant" else "#ffd040"
                ax.add_patch(Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0, y1 - y0, fill=False, lw=1.0, ec=color))
            ax.set_xticks([]), ax.set_yticks([])
            label = f"{spec.view}-{spec.laterality} VBD {img.meta['vbd'] * 100:.0f}%"
            ax.set_xlabel(label, fontsize=7)
            if r == 0:
                ax.set_title(_TITLES[spec.lesion_type], fontsize=9)
            if c == 0:
                ax.set_ylabel(f"density {spec.density}", fontsize=9)
    fig.suptitle("Virtual clinical trial: BI-RADS density × lesion type (simulated; red malignant, yellow benign)",
                 fontsize=9)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    out = Path(out)
    atomic_write_bytes(out, buf.getvalue())
    return out
