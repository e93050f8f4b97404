"""Render one simulated case the way the training view was made (whole breast or one patch).

Generators that draw on the phantom simulator (``physics``, the planted ``helpful`` one) must hand
back images in the same pixel domain as the cached real images: the same preprocessing function, the
same window rules in patch mode, and boxes mapped by the same transform. This is the one place that
does it.

Example:
    >>> import numpy as np
    >>> from mammobench.simulator import sample_case
    >>> spec = sample_case(np.random.default_rng(0), density="B", lesion_type="mass", pathology="benign")
    >>> image, findings = render_case(spec, image_size=(32, 32), patch={"field_mm": 60.0, "jitter": 0.25},
    ...                               rng=np.random.default_rng(1))
    >>> image.shape, len(findings)
    ((32, 32), 1)
"""
from __future__ import annotations

import numpy as np

from mammobench.simulator.phantom import FOV_MM


def simulation_size(image_size: tuple[int, int], patch: dict | None, sim_size: int | None = None) -> int:
    """Simulator grid: in patch mode, the size at which the window has about the view's pixel count.

    Example:
        >>> simulation_size((64, 64), {"field_mm": 60.0, "jitter": 0.25}), simulation_size((64, 64), None)
        (256, 128)
    """
    if sim_size:
        return int(sim_size)
    side = max(image_size)
    if patch:
        return int(np.clip(round(FOV_MM * side / float(patch["field_mm"])), 64, 1024))
    return int(min(max(64, 2 * side), 1024))


def _exact_box(box: np.ndarray, h: int, w: int) -> list[float]:
    """Round a mapped box outwards to whole pixels and keep it inside the image (≥ 1 px)."""
    x0, y0 = max(np.floor(box[0]), 0.0), max(np.floor(box[1]), 0.0)
    x1, y1 = min(max(np.ceil(box[2]), x0 + 1), float(w)), min(max(np.ceil(box[3]), y0 + 1), float(h))
    return [float(min(x0, w - 1)), float(min(y0, h - 1)), float(x1), float(y1)]


def render_case(spec, *, image_size: tuple[int, int], patch: dict | None, rng: np.random.Generator,
                sim_size: int | None = None) -> tuple[np.ndarray, list[dict]]:
    """Simulate ``spec`` and preprocess it like the view: ``(image [H, W] in [0, 1], findings with boxes)``.

    Findings whose box falls outside a patch window are dropped (their box would be empty).
    """
    from mammobench.data.patches import field_pixels, preprocess_patch
    from mammobench.data.preprocess import preprocess_image
    from mammobench.simulator import simulate_image

    h, w = int(image_size[0]), int(image_size[1])
    sim_seed = int(rng.integers(2**31))
    sim = simulate_image(spec, size=simulation_size((h, w), patch, sim_size), seed=sim_seed)
    if patch:
        field = field_pixels(patch["field_mm"], float(sim.meta["pixel_spacing_mm"]), where="simulator")
        image, transform = preprocess_patch(sim.pixels, laterality=spec.laterality, size=(h, w), field_px=field,
                                            boxes=[f["box"] for f in sim.findings], key=f"sim-{sim_seed}",
                                            jitter=float(patch["jitter"]))
    else:
        image, transform = preprocess_image(sim.pixels, laterality=spec.laterality, size=(h, w))
    findings = []
    if sim.findings:
        boxes = transform.apply_boxes(np.array([f["box"] for f in sim.findings], dtype=float))
        findings = [{"box": _exact_box(b, h, w), "lesion_type": f.get("lesion_type", spec.lesion_type),
                     "pathology": f.get("pathology", spec.pathology)}
                    for b, f in zip(boxes, sim.findings) if b[2] > b[0] and b[3] > b[1]]
    return image.astype(np.float32), findings
