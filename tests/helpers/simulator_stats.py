"""Per-image summary statistics of the phantom simulator, to compare two versions of it.

The simulator's speed work changes how random fields are drawn (not what they are), so images from
the same seed differ pixel by pixel between versions; what must not change is the distribution of
what the images show. :func:`image_statistics` renders a fixed, seeded set of cases and returns one
row of statistics per image; ``tests/fixtures/simulator_reference.json`` holds the rows produced by
the version before the speed work (regenerate with ``python -m tests.helpers.simulator_stats OUT``
on that commit, recorded in the file).

Example:
    >>> rows = image_statistics(n_images=2, size=64)
    >>> sorted(rows[0])[:3]
    ['breast_fraction', 'density', 'hf_std']
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
from scipy import ndimage

LESIONS = ("none", "mass", "calcification", "architectural_distortion", "asymmetry")


def _case(i: int):
    from mammobench.simulator import sample_case

    rng = np.random.default_rng(np.random.SeedSequence([2024, i]))
    lesion = LESIONS[i % len(LESIONS)]
    return sample_case(rng, density="ABCD"[(i // len(LESIONS)) % 4], lesion_type=lesion,
                       view=("CC", "MLO")[(i // 20) % 2], laterality=("L", "R")[(i // 40) % 2],
                       pathology="normal" if lesion == "none" else None)


def _one(spec, size: int, seed: int) -> dict:
    from mammobench.simulator import simulate_image

    img = simulate_image(spec, size=size, seed=seed)
    px, breast = img.pixels, img.breast_mask
    core = ndimage.binary_erosion(breast, iterations=max(size // 32, 1))
    high = px - ndimage.gaussian_filter(px, 2.0)
    row = {"density": spec.density, "lesion_type": spec.lesion_type, "view": spec.view,
           "breast_fraction": float(breast.mean()), "mean_in_breast": float(px[breast].mean()),
           "std_in_breast": float(px[breast].std()), "hf_std": float(high[core].std()) if core.any() else 0.0,
           "vbd": float(img.meta["vbd"]), "pd": float(img.meta["pd"]), "lesion_contrast": None, "box_side": None}
    if img.findings:
        mask = img.findings[0]["mask"]
        ring = ndimage.binary_dilation(mask, iterations=max(size // 64, 2)) & ~mask & breast
        if ring.any():
            row["lesion_contrast"] = float(px[mask].mean() - px[ring].mean())
        x0, y0, x1, y1 = img.findings[0]["box"]
        row["box_side"] = float(max(x1 - x0, y1 - y0))
    return row


def image_statistics(n_images: int = 120, size: int = 128) -> list[dict]:
    """Statistics of ``n_images`` seeded cases (densities × lesion types × views × sides, balanced)."""
    return [_one(_case(i), size, seed=1000 + i) for i in range(n_images)]


def main(out: str) -> None:
    """Write the reference file for the checked-out simulator version."""
    sha = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=False).stdout.strip()
    payload = {"schema_version": "1", "generated_by": "python -m tests.helpers.simulator_stats", "git_sha": sha,
               "size": 128, "rows": image_statistics(120, 128)}
    head = json.dumps({k: v for k, v in payload.items() if k != "rows"})[:-1]
    rows = ",\n".join(json.dumps(r) for r in payload["rows"])
    Path(out).write_text(f'{head}, "rows": [\n{rows}\n]}}\n')


if __name__ == "__main__":
    main(sys.argv[1])
