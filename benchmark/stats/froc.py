"""FROC analysis for lesion detection (``reference/statistics.md`` B-5).

Hit criterion (configurable, always reported): ``"centre"`` (default) — the predicted box centre lies
inside the ground-truth box (edges included); ``"iou"`` — IoU ≥ ``iou_threshold`` (default 0.1).
Duplicates follow the DBTex/LUNA16 rule: several marks on one lesion count as one true positive and
the extra marks are ignored (not false positives); a mark that hits no lesion is a false positive.

Per threshold t: LLF(t) = lesions hit by ≥ 1 mark with score ≥ t / N_lesions and
FPI(t) = non-lesion marks with score ≥ t / N_images (ALL images, normals included). Sensitivity at
f FPs/image is ``np.interp(f, FPI, LLF)`` on the curve starting at (0, 0); when the curve stops
before f (max FPI < f) the last sensitivity is carried (LUNA16 convention) and the point is
flagged ``reached=False``. CPM = mean sensitivity over {1/8, 1/4, 1/2, 1, 2, 4, 8} FPs/image.

Example:
    >>> marks = pd.DataFrame({"image_id": ["a", "a", "b"], "score": [0.9, 0.4, 0.7],
    ...                       "x0": [0, 50, 0], "y0": [0, 50, 0], "x1": [10, 60, 10], "y1": [10, 60, 10]})
    >>> lesions = pd.DataFrame({"image_id": ["a"], "x0": [0], "y0": [0], "x1": [12], "y1": [12]})
    >>> froc_curve(marks, lesions, n_images=2)[["fpi", "sensitivity"]].values.tolist()
    [[0.0, 0.0], [0.0, 1.0], [0.5, 1.0], [1.0, 1.0]]
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from mammobench.errors import StatisticsError
from mammobench.stats.metrics import roc_auc

CPM_FPS = (0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
BOX = ["x0", "y0", "x1", "y1"]


def _need(frame: pd.DataFrame, cols: list[str], what: str) -> None:
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise StatisticsError(f"{what} lacks columns {missing}; needs {cols}")


def hits(marks: np.ndarray, boxes: np.ndarray, criterion: str, iou_threshold: float) -> np.ndarray:
    """Does each mark hit each box: the hit rule, broadcast over ``marks [..., 4]`` and ``boxes [..., 4]``
    (``x0, y0, x1, y1`` on the last axis; the leading axes broadcast as in NumPy).

    Raises:
        StatisticsError: an unknown criterion.

    Example:
        >>> hits(np.array([0., 0, 4, 4]), np.array([[1., 1, 3, 3], [9, 9, 10, 10]]), "centre", 0.1).tolist()
        [True, False]
    """
    if criterion == "centre":
        cx, cy = (marks[..., 0] + marks[..., 2]) / 2, (marks[..., 1] + marks[..., 3]) / 2
        return (boxes[..., 0] <= cx) & (cx <= boxes[..., 2]) & (boxes[..., 1] <= cy) & (cy <= boxes[..., 3])
    if criterion == "iou":
        ix = np.clip(np.minimum(marks[..., 2], boxes[..., 2]) - np.maximum(marks[..., 0], boxes[..., 0]), 0, None)
        iy = np.clip(np.minimum(marks[..., 3], boxes[..., 3]) - np.maximum(marks[..., 1], boxes[..., 1]), 0, None)
        inter = ix * iy
        area = lambda b: (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])  # noqa: E731
        union = area(marks) + area(boxes) - inter
        return np.where(union > 0, inter / np.where(union > 0, union, 1), 0) >= iou_threshold
    raise StatisticsError(f"hit criterion {criterion!r} unknown; use 'centre' or 'iou'")


def match_image(mark_boxes: np.ndarray, mark_scores: np.ndarray, lesion_boxes: np.ndarray, *,
                criterion: str = "centre", iou_threshold: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Match one image's marks to its lesions: ``(lesion_scores [l], mark_is_fp [m])``.

    A lesion's score is the highest score of the marks that hit it (``-inf`` when none does); a mark
    that hits no lesion is a false positive; a mark hitting several lesions counts for each of them.

    Example:
        >>> ls, fp = match_image(np.array([[0, 0, 4, 4], [20, 20, 24, 24]]), np.array([0.9, 0.4]),
        ...                      np.array([[1, 1, 3, 3]]))
        >>> ls.tolist(), fp.tolist()
        ([0.9], [False, True])
    """
    mark_boxes = np.asarray(mark_boxes, dtype=float).reshape(-1, 4)
    mark_scores = np.asarray(mark_scores, dtype=float).ravel()
    lesion_boxes = np.asarray(lesion_boxes, dtype=float).reshape(-1, 4)
    lesion_scores = np.full(len(lesion_boxes), -np.inf)
    mark_is_fp = np.ones(len(mark_boxes), dtype=bool)
    if len(lesion_boxes) == 0:
        return lesion_scores, mark_is_fp
    for i, box in enumerate(mark_boxes):
        hit = hits(box, lesion_boxes, criterion, iou_threshold)
        if hit.any():
            mark_is_fp[i] = False
            lesion_scores[hit] = np.maximum(lesion_scores[hit], mark_scores[i])
    return lesion_scores, mark_is_fp


def match_marks(marks: pd.DataFrame, lesions: pd.DataFrame, *, criterion: str = "centre",
                iou_threshold: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Score each lesion (max score of the marks hitting it, −inf if none) and flag false-positive marks.

    Returns:
        ``(lesion_scores [len(lesions)], mark_is_fp [len(marks)])``.

    Example:
        >>> m = pd.DataFrame({"image_id": ["a"], "score": [0.5], "x0": [0], "y0": [0], "x1": [4], "y1": [4]})
        >>> l = pd.DataFrame({"image_id": ["a"], "x0": [1], "y0": [1], "x1": [3], "y1": [3]})
        >>> match_marks(m, l)[0].tolist()
        [0.5]
    """
    _need(marks, ["image_id", "score", *BOX], "marks")
    _need(lesions, ["image_id", *BOX], "lesions")
    lesion_scores = np.full(len(lesions), -np.inf)
    mark_is_fp = np.ones(len(marks), dtype=bool)
    lesion_rows = lesions.groupby(lesions["image_id"].to_numpy(), sort=False).indices
    gt, boxes, scores = lesions[BOX].to_numpy(float), marks[BOX].to_numpy(float), marks["score"].to_numpy(float)
    for img, rows in marks.groupby(marks["image_id"].to_numpy(), sort=False).indices.items():
        idx = lesion_rows.get(img)
        if idx is None:
            continue
        lesion_scores[idx], mark_is_fp[rows] = match_image(boxes[rows], scores[rows], gt[idx], criterion=criterion,
                                                           iou_threshold=iou_threshold)
    return lesion_scores, mark_is_fp


def froc_curve(marks: pd.DataFrame, lesions: pd.DataFrame, *, n_images: int, criterion: str = "centre",
               iou_threshold: float = 0.1) -> pd.DataFrame:
    """FROC operating points (threshold, fpi, sensitivity) for every distinct mark score, from (0, 0).

    Example:
        >>> froc_curve(pd.DataFrame(columns=["image_id", "score", *BOX]),
        ...            pd.DataFrame({"image_id": ["a"], "x0": [0], "y0": [0], "x1": [1], "y1": [1]}), n_images=1).shape
        (1, 3)
    """
    if n_images < 1:
        raise StatisticsError(f"n_images must be ≥ 1 (all images, normals included); got {n_images}")
    if len(lesions) == 0:
        raise StatisticsError("FROC is undefined without lesions")
    lesion_scores, is_fp = match_marks(marks, lesions, criterion=criterion, iou_threshold=iou_threshold)
    thresholds = np.unique(marks["score"].to_numpy(float))[::-1]
    fp_scores = np.sort(marks["score"].to_numpy(float)[is_fp])
    sorted_lesions = np.sort(lesion_scores)
    fp_at = fp_scores.size - np.searchsorted(fp_scores, thresholds, side="left")
    tp_at = sorted_lesions.size - np.searchsorted(sorted_lesions, thresholds, side="left")
    return pd.DataFrame({"threshold": np.r_[np.inf, thresholds], "fpi": np.r_[0.0, fp_at / n_images],
                         "sensitivity": np.r_[0.0, tp_at / len(lesions)]})


def sensitivity_at_fps(curve: pd.DataFrame, fps: tuple[float, ...] = CPM_FPS) -> pd.DataFrame:
    """Interpolated sensitivity at each FP/image rate, with ``reached`` = curve got that far.

    Example:
        >>> c = pd.DataFrame({"fpi": [0.0, 1.0, 2.0], "sensitivity": [0.0, 0.5, 1.0]})
        >>> sensitivity_at_fps(c, (0.5, 4.0))["sensitivity"].tolist()
        [0.25, 1.0]
    """
    fpi, sens = curve["fpi"].to_numpy(float), curve["sensitivity"].to_numpy(float)
    values = np.interp(np.asarray(fps, float), fpi, sens)
    return pd.DataFrame({"fps_per_image": list(fps), "sensitivity": values, "reached": [f <= fpi.max() for f in fps]})


def cpm(curve: pd.DataFrame, fps: tuple[float, ...] = CPM_FPS) -> float:
    """Competition performance metric: mean sensitivity over ``fps`` (LUNA16: 1/8 … 8 FPs/image).

    Example:
        >>> cpm(pd.DataFrame({"fpi": [0.0, 8.0], "sensitivity": [0.0, 0.8]}), (4.0, 8.0))
        0.6000000000000001
    """
    return float(sensitivity_at_fps(curve, fps)["sensitivity"].mean())


def lesion_sensitivity(marks: pd.DataFrame, lesions: pd.DataFrame, threshold: float, *, by: str,
                       bins: list[float] | None = None, criterion: str = "centre") -> pd.DataFrame:
    """Fraction of lesions hit by a mark scoring ≥ ``threshold``, per lesion ``by`` column.

    ``bins`` (e.g. ``[0, 10, 20, inf]`` mm) groups a numeric column such as ``lesion_size_mm``.

    Example:
        >>> m = pd.DataFrame({"image_id": ["a"], "score": [0.5], "x0": [0], "y0": [0], "x1": [4], "y1": [4]})
        >>> l = pd.DataFrame({"image_id": ["a", "a"], "x0": [1, 9], "y0": [1, 9], "x1": [3, 12], "y1": [3, 12],
        ...                   "lesion_type": ["mass", "calc"]})
        >>> lesion_sensitivity(m, l, 0.3, by="lesion_type")["sensitivity"].tolist()
        [0.0, 1.0]
    """
    _need(lesions, [by], "lesions")
    lesion_scores, _ = match_marks(marks, lesions, criterion=criterion)
    key = pd.cut(lesions[by], bins=bins, right=False).astype(str) if bins is not None else lesions[by].astype(str)
    hit = pd.Series(lesion_scores >= threshold, index=lesions.index)
    table = hit.groupby(key.to_numpy()).agg(["size", "sum", "mean"]).reset_index()
    table.columns = [by, "n_lesions", "n_hit", "sensitivity"]
    return table


def image_level_auc(marks: pd.DataFrame, image_ids: list[str], positive_ids: set[str]) -> float:
    """ROC AUC of the image score = highest mark score (images without marks score below all marks).

    Example:
        >>> m = pd.DataFrame({"image_id": ["a", "b"], "score": [0.9, 0.2]})
        >>> image_level_auc(m, ["a", "b", "c"], {"a"})
        1.0
    """
    best = marks.groupby("image_id")["score"].max()
    floor = (best.min() - 1.0) if len(best) else 0.0
    scores = [float(best.get(i, floor)) for i in image_ids]
    return roc_auc([int(i in positive_ids) for i in image_ids], scores)


def froc_replicates(lesion_scores: np.ndarray, lesion_image: np.ndarray, fp_scores: np.ndarray, fp_image: np.ndarray,
                    weights: np.ndarray, fps: tuple[float, ...] | np.ndarray, chunk: int = 250) -> np.ndarray:
    """Sensitivity at each FPI in ``fps`` under each row of image weights (patient bootstrap), ``[B, len(fps)]``.

    The FROC curve of a replicate counts every lesion and false mark with its image's weight:
    ``LLF(t) = Σ w·[lesion score ≥ t] / Σ w (lesions)`` and ``FPI(t) = Σ w·[false mark ≥ t] / Σ w (images)``;
    sensitivity at f is read off it as :func:`sensitivity_at_fps` does (linear interpolation from (0, 0),
    the last sensitivity carried beyond the curve's end). With ``weights = np.ones((1, n_images))`` this is
    the test-set curve itself.

    Args:
        lesion_scores: ``[L]`` (``-inf`` = missed); lesion_image: ``[L]`` index of each lesion's image.
        fp_scores: ``[F]`` scores of the false marks; fp_image: ``[F]`` their images' indices.
        weights: ``[B, n_images]`` replicate weights (copies of each image).
        fps: false positives per image at which to read the sensitivity.

    Example:
        >>> froc_replicates(np.array([0.9, 0.3]), np.array([0, 1]), np.array([0.5]), np.array([1]),
        ...                 np.ones((1, 2)), (0.25, 0.5)).tolist()
        [[0.5, 1.0]]
    """
    ls, li = np.asarray(lesion_scores, float), np.asarray(lesion_image, int)
    fs, fi = np.asarray(fp_scores, float), np.asarray(fp_image, int)
    w = np.atleast_2d(np.asarray(weights, dtype=float))
    finite = np.isfinite(ls)
    scores = np.r_[ls[finite], fs]
    order = np.argsort(-scores, kind="mergesort")
    is_lesion = np.r_[np.ones(finite.sum(), bool), np.zeros(fs.size, bool)][order]
    image = np.r_[li[finite], fi][order]
    ends = np.flatnonzero(np.r_[scores[order][1:] != scores[order][:-1], True]) if scores.size else np.zeros(0, int)
    grid = np.asarray(fps, dtype=float)
    out = np.empty((w.shape[0], grid.size))
    for start in range(0, w.shape[0], chunk):
        wb = w[start:start + chunk]
        ev = wb[:, image]
        tp = np.cumsum(np.where(is_lesion, ev, 0.0), axis=1)[:, ends]
        fp = np.cumsum(np.where(is_lesion, 0.0, ev), axis=1)[:, ends]
        n_les, n_img = wb[:, li].sum(axis=1), wb.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            llf, fpi = tp / n_les[:, None], fp / n_img[:, None]
        for r in range(wb.shape[0]):
            out[start + r] = np.interp(grid, np.r_[0.0, fpi[r]], np.r_[0.0, llf[r]])
    return out
