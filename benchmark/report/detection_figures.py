"""The detection section's figures, each a pure function of the run's records and files.

* ``froc``: the test FROC curve of every arm overlaid, with the pointwise patient-bootstrap 95% bands
  (``froc_sensitivity`` records on the FPI grid), markers at the reported FPI points, dotted beyond the
  FPI every seed reached, and the task's operating FPI as a dashed line;
* ``det_sens_forest``: lesion sensitivity at the task's FPI overall and per lesion type, density, age
  band and vendor, every arm dodged, with n lesions and the 95% CI (``lesion_sensitivity`` records);
* ``det_false_marks``: false marks per image at the same threshold, overall and per density;
* ``det_gallery_<arm>``: for the control and each arm (first training seed), true positives, misses and
  the highest-scoring false marks on test images, drawn on the cached images
  (:mod:`mammobench.report.detection_data`).

Example:
    >>> recs = [{"metric": "froc_sensitivity", "arm": "none", "fpi": f, "value": v, "ci_low": v - .1,
    ...          "ci_high": v + .1, "reached": True, "fpi_point": f == 1.0, "seed": None, "attribute": None}
    ...         for f, v in ((0.5, 0.4), (1.0, 0.6))]
    >>> sorted(froc_figure({"metrics": recs, "detection": {"fpi": 1.0}}))
    ['froc']
"""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from mammobench.report import figures as F  # noqa: E402
from mammobench.report.detection_data import ROWS, DetectionFiles, gallery_picks, image_marks, load_detection  # noqa: E402
from mammobench.report.forest import forest_rows, grouped_forest  # noqa: E402
from mammobench.report.sample_grids import display_size  # noqa: E402
from mammobench.stats.froc import BOX, match_image  # noqa: E402

SENSITIVITY_ATTRIBUTES = ("lesion_type", "density", "age_band", "vendor")
GALLERY_K = 4
PANEL_PX = 192  #: a gallery panel's width on screen (2.2 in at 110 dpi, less its margins), rounded up
LESION_COLOUR, HIT_COLOUR, FALSE_COLOUR = "#00e000", "#ffd000", "#ff3030"


def control_of(result: dict) -> str:
    """The control arm the comparisons name, else ``none`` when there is such an arm, else the first arm."""
    named = sorted({str(c["control"]) for c in result.get("comparisons", []) if c.get("control")})
    arms = [str(a.get("arm")) for a in result.get("arms", [])]
    return named[0] if named else "none" if "none" in arms or not arms else arms[0]


def _pooled(result: dict, metric: str) -> list[dict]:
    return [m for m in result["metrics"] if m["metric"] == metric and m.get("seed") is None
            and m.get("split", "test") == "test"]


def arm_order(result: dict, control: str) -> list[str]:
    """The arms of the result, the control first."""
    arms = [str(a["arm"]) for a in result.get("arms", [])] or sorted({str(m["arm"]) for m in result["metrics"]})
    return sorted(arms, key=lambda a: a != control)


def froc_figure(result: dict, control: str | None = None) -> dict:
    """``{"froc": (Figure, caption)}`` from the ``froc_sensitivity`` records (empty without them)."""
    recs = sorted((m for m in _pooled(result, "froc_sensitivity") if "fpi" in m and m.get("attribute") is None),
                  key=lambda r: (str(r["arm"]), r["fpi"]))
    if not recs:
        return {}
    arms = [a for a in arm_order(result, control or "") if any(r["arm"] == a for r in recs)]
    curves, bands, reached, points = {}, {}, {}, sorted({r["fpi"] for r in recs if r.get("fpi_point")})
    for arm in arms:
        rows = [r for r in recs if r["arm"] == arm]
        curves[arm] = ([r["fpi"] for r in rows], [r["value"] for r in rows])
        if all(r.get("ci_low") is not None and r.get("ci_high") is not None for r in rows):
            bands[arm] = ([r["ci_low"] for r in rows], [r["ci_high"] for r in rows])
        within = [r["fpi"] for r in rows if r.get("reached", True)]
        reached[arm] = max(within) if within else 0.0
    fpi = (result.get("detection") or {}).get("fpi")
    caption = ("FROC on the test split: lesion sensitivity against false marks per image, every arm (seed-averaged "
               "curves), shaded: pointwise 95% patient-bootstrap bands; dots: the reported FPI points"
               + (f"; dashed line: the task's operating point ({fpi:g} FPI)" if fpi is not None else "")
               + "; dotted: beyond the FPI every training seed's curve reached.")
    return {"froc": (F.froc_curves(curves, "FROC (test split), 95% patient-bootstrap bands", bands=bands,
                                   points=points, reached=reached, operating_fpi=fpi), caption)}


def _relabelled(rows: list[dict], unit: str) -> list[dict]:
    for row in rows:
        first = next(iter(row["points"].values()))
        base = "overall" if row["attribute"] is None else f"{row['attribute']} = {row['group']}"
        status = sorted({p["status"].replace("_", " ") for p in row["points"].values() if p["status"] not in ("", "ok")})
        row["label"] = f"{base} ({first['n']} {unit})" + (f" — {', '.join(status)}" if status else "")
    return rows


def _nan_free(recs: list[dict]) -> list[dict]:
    """Records with NaN values/CIs given as None, so the forest draws no point for them."""
    clean = lambda v: None if v is None or (isinstance(v, float) and v != v) else v  # noqa: E731
    return [{**r, "value": clean(r.get("value")), "ci_low": clean(r.get("ci_low")), "ci_high": clean(r.get("ci_high"))}
            for r in recs]


def subgroup_figures(result: dict, control: str | None = None) -> dict:
    """``det_sens_forest`` and ``det_false_marks`` (each only when the run has its records)."""
    arms = arm_order(result, control or "")
    colours = {a: F.ARM_COLOURS[i % len(F.ARM_COLOURS)] for i, a in enumerate(arms)}
    fpi = (result.get("detection") or {}).get("fpi")
    at = f" at the {fpi:g}-FPI threshold" if fpi is not None else ""
    out = {}
    sens = _nan_free(_pooled(result, "lesion_sensitivity"))
    if sens:
        rows = _relabelled(forest_rows(sens, value_key="value", attributes=SENSITIVITY_ATTRIBUTES), "lesions")
        out["det_sens_forest"] = (
            grouped_forest(rows, [a for a in arms if any(a in r["points"] for r in rows)], colours=colours,
                           title=f"Lesion sensitivity{at} (test split, 95% CI)", value_label="lesion sensitivity"),
            f"Lesion sensitivity{at} (score threshold chosen per arm and seed on validation), overall and by lesion "
            "type, density, age band and vendor, every arm; n = test lesions in the group; 95% patient-bootstrap CI.")
    marks = _nan_free([m for m in _pooled(result, "false_marks_per_image") if m.get("attribute") in (None, "density")])
    if marks:
        rows = _relabelled(forest_rows(marks, value_key="value", attributes=["density"]), "images")
        out["det_false_marks"] = (
            grouped_forest(rows, [a for a in arms if any(a in r["points"] for r in rows)], colours=colours,
                           title=f"False marks per image{at}, by density (test split, 95% CI)",
                           value_label="false marks per image"),
            f"False marks per test image at the same thresholds, overall and per breast density (dense breasts "
            "are expected to draw more), every arm; n = test images; 95% patient-bootstrap CI.")
    return out


def _draw_panel(ax, image: np.ndarray, marks, lesions: np.ndarray, threshold: float, pick, rule: dict) -> None:
    """The image (block-averaged to about the panel's display size when much larger), its lesion boxes and the
    marks above the threshold (hit or false by the task's rule), all in the image's own pixel coordinates."""
    shown = display_size(image, PANEL_PX)
    factor = image.shape[1] // shown.shape[1]
    ax.imshow(shown, cmap="gray", vmin=0, vmax=1, interpolation="nearest",
              extent=(-0.5, shown.shape[1] * factor - 0.5, shown.shape[0] * factor - 0.5, -0.5))
    for x0, y0, x1, y1 in lesions:
        ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, ec=LESION_COLOUR, lw=1.0, ls="--"))
    boxes = marks[list(BOX)].to_numpy(float)
    _, is_fp = match_image(boxes, marks["score"].to_numpy(float), lesions, **rule)
    for box, score, false in zip(boxes, marks["score"].to_numpy(float), is_fp):
        featured = tuple(box) == pick.box or (pick.kind == ROWS[1] and not false and score == pick.score)
        if score <= threshold and not featured:
            continue
        colour = FALSE_COLOUR if false else HIT_COLOUR
        ax.add_patch(Rectangle(box[:2], box[2] - box[0], box[3] - box[1], fill=False, lw=1.8 if featured else 0.9,
                               ec=colour, ls=":" if score <= threshold else "-"))
        ax.text(box[0], box[1] - 1, f"{score:.2g}", color=colour, fontsize=5.5, va="bottom")
    ax.set_xticks([])
    ax.set_yticks([])


def gallery_figure(files: DetectionFiles, arm: str, seed: int, threshold: float, k: int = GALLERY_K) -> Figure | None:
    """True positives, misses and highest false marks of one detector, one row each (``None``: nothing to show)."""
    rule = {"criterion": str(files.summary.get("hit_criterion", "centre")),
            "iou_threshold": float(files.summary.get("iou_threshold", 0.1))}
    picks = gallery_picks(files.marks, files.lesions, arm, seed, threshold=threshold, k=k, **rule)
    shown = {row: [p for p in picks[row] if files.image(p.image_id) is not None] for row in ROWS}
    if not any(shown.values()):
        return None
    n_cols = max(len(v) for v in shown.values())
    fig, axes = plt.subplots(len(ROWS), n_cols, figsize=(2.2 * n_cols, 2.5 * len(ROWS)), squeeze=False)
    lesions = {str(i): g[["x0", "y0", "x1", "y1"]].to_numpy(float) for i, g in files.lesions.groupby("image_id")}
    for r, row in enumerate(ROWS):
        for c in range(n_cols):
            ax = axes[r][c]
            if c >= len(shown[row]):
                ax.axis("off")
                if c == 0:
                    ax.text(0.02, 0.5, f"{row}: none at this threshold", ha="left", va="center", fontsize=8,
                            transform=ax.transAxes)
                continue
            pick = shown[row][c]
            _draw_panel(ax, files.image(pick.image_id), image_marks(files.marks, pick.image_id, arm, seed),
                        lesions.get(pick.image_id, np.zeros((0, 4))), threshold, pick, rule)
            attrs = files.attributes(pick.image_id)
            score = "no mark on it" if not np.isfinite(pick.score) else f"score {pick.score:.2g}"
            kind = attrs.get("lesion_type") if attrs.get("lesion_type") not in (None, "", "none") else None
            ax.set_title(f"{score}\ndensity {attrs.get('density', '?')}" + (f" · {kind}".replace("_", " ") if kind else ""),
                         fontsize=6.5, y=F.TITLE_Y)
            if c == 0:
                ax.set_ylabel(f"{row} ({len(shown[row])})", fontsize=8)
    fig.suptitle(f"{arm} (seed {seed}), threshold {threshold:.3g}\ngreen dashed: lesion box · yellow: mark on a lesion · "
                 "red: false mark\n(marks above the threshold; the featured one thicker; a miss's best mark dotted)", fontsize=7.5)
    fig.tight_layout()
    return fig


def gallery_figures(result: dict, files: DetectionFiles | None, control: str | None = None) -> dict:
    """``det_gallery_<arm>`` for the control and each arm (first seed with a validation threshold)."""
    if files is None or files.images is None:
        return {}
    out, thresholds = {}, files.summary.get("thresholds") or {}
    for arm in arm_order(result, control or ""):
        seeds = sorted(int(s) for s in thresholds.get(arm, {}))
        if not seeds:
            continue
        seed, tau = seeds[0], float(thresholds[arm][str(seeds[0])])
        fig = gallery_figure(files, arm, seed, tau)
        if fig is not None:
            out[f"det_gallery_{arm}"] = (
                fig, f"What the {arm} detector (training seed {seed}) finds on test images at the task's operating "
                     f"point (threshold {tau:.3g}, chosen on validation for {files.summary.get('fpi', 1):g} false marks "
                     "per image): top row the highest-scoring true positives, middle row missed lesions, bottom row "
                     "the highest-scoring false marks (one per image).")
    return out


def detection_figures(data, metric: str) -> dict:
    """Figure builder (``figure_set.FIGURE_BUILDERS``): FROC overlay, sensitivity forest, false marks by density."""
    control = control_of(data.result)
    return {**froc_figure(data.result, control), **subgroup_figures(data.result, control)}


def detection_gallery(data, metric: str) -> dict:
    """Gallery builder: true positives / misses / false marks per arm (needs the run's cached test images)."""
    return gallery_figures(data.result, load_detection(data.run_dir, data.result), control_of(data.result))


__all__ = ["SENSITIVITY_ATTRIBUTES", "arm_order", "control_of", "detection_figures", "detection_gallery", "froc_figure", "gallery_figure", "gallery_figures",
           "subgroup_figures"]
