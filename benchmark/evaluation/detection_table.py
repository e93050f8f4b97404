"""Marks and lesions of one split matched into arrays: the input of every detection statistic.

``marks.csv`` (one row per mark: ``image_id, patient_id, split, arm, generator, ratio, seed, rank, x, y,
x0, y0, x1, y1, score``) and ``data/lesions.csv`` (one row per lesion of a positive image: ``image_id,
lesion, x0, y0, x1, y1, lesion_type``) are matched per (arm, seed) with the task's hit rule
(:func:`mammobench.stats.froc.match_image`): each lesion gets the score of the highest mark that hits it
(``-inf`` = missed) and each mark that hits no lesion is a false mark. Images come from the
predictions table (one row per image of the split, with its subgroup columns); an image whose label
is positive but which has no lesion box cannot be scored for localisation and is left out (counted in
``excluded``), so that its marks are never mistaken for false marks on a normal image.

Example:
    >>> imgs = pd.DataFrame({"image_id": ["a", "b"], "patient_id": ["p", "q"], "y_true": [1, 0]})
    >>> les = pd.DataFrame({"image_id": ["a"], "lesion": [0], "x0": [0], "y0": [0], "x1": [4], "y1": [4],
    ...                     "lesion_type": ["mass"]})
    >>> mk = pd.DataFrame({"image_id": ["a", "b"], "arm": "none", "seed": 0, "score": [0.9, 0.4],
    ...                    "x0": [1, 1], "y0": [1, 1], "x1": [3, 3], "y1": [3, 3]})
    >>> cube = detection_cube(mk, les, imgs)
    >>> cube.runs["none"][0].lesion_scores.tolist(), cube.runs["none"][0].fp_scores.tolist()
    ([0.9], [0.4])
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mammobench.errors import StatisticsError
from mammobench.stats.froc import BOX, match_image

MARK_COLUMNS = ("image_id", "patient_id", "split", "arm", "generator", "ratio", "seed", "rank", "x", "y",
                *BOX, "score")
LESION_COLUMNS = ("image_id", "lesion", *BOX, "lesion_type")


@dataclass
class SeedRun:
    """One trained detector (arm, seed) on the split's images."""

    seed: int
    lesion_scores: np.ndarray   # [L] highest score of a mark hitting each lesion (-inf = missed)
    image_fp_max: np.ndarray    # [N] highest false mark on each image (-inf = none)
    fp_scores: np.ndarray       # [F] every false mark's score
    fp_image: np.ndarray        # [F] index of its image


@dataclass
class DetectionCube:
    """The split's images (one row each), its lesions (``img`` = image index) and the matched runs."""

    images: pd.DataFrame
    lesions: pd.DataFrame
    runs: dict[str, list[SeedRun]] = field(default_factory=dict)
    excluded: int = 0

    @property
    def arms(self) -> list[str]:
        return sorted(self.runs)

    @property
    def normal(self) -> np.ndarray:
        """Images without a lesion (the wAFROC normal cases)."""
        return ~np.isin(np.arange(len(self.images)), self.lesions["img"].to_numpy())

    def lesion_weights(self, keep: np.ndarray | None = None) -> np.ndarray:
        """Equal wAFROC weights of the kept lesions, summing to 1 on each image that keeps any."""
        keep = np.ones(len(self.lesions), bool) if keep is None else keep
        img = self.lesions["img"].to_numpy()
        counts = np.bincount(img[keep], minlength=len(self.images))
        return np.where(keep, 1.0 / np.maximum(counts[img], 1), 0.0)


def _match_run(marks: pd.DataFrame, lesions: pd.DataFrame, n_images: int, criterion: str,
               iou_threshold: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    lesion_scores = np.full(len(lesions), -np.inf)
    fp_mask = np.ones(len(marks), bool)
    lesion_rows = lesions.groupby("img", sort=False).indices
    boxes, scores, img = marks[BOX].to_numpy(float), marks["score"].to_numpy(float), marks["img"].to_numpy()
    gt = lesions[BOX].to_numpy(float)
    for i, rows in marks.groupby("img", sort=False).indices.items():
        idx = lesion_rows.get(i)
        if idx is not None:
            lesion_scores[idx], fp_mask[rows] = match_image(boxes[rows], scores[rows], gt[idx], criterion=criterion,
                                                            iou_threshold=iou_threshold)
    fp_max = np.full(n_images, -np.inf)
    np.maximum.at(fp_max, img[fp_mask], scores[fp_mask])
    return lesion_scores, fp_max, scores[fp_mask], img[fp_mask]


def detection_cube(marks: pd.DataFrame, lesions: pd.DataFrame, images: pd.DataFrame, *, criterion: str = "centre",
                   iou_threshold: float = 0.1) -> DetectionCube:
    """Match every (arm, seed)'s marks on ``images`` (one row per image, with ``y_true``) to the lesions.

    Raises:
        StatisticsError: missing columns, NaN scores or boxes, or marks on images not in ``images``.
    """
    for name, frame, cols in (("marks", marks, ["image_id", "arm", "seed", "score", *BOX]),
                              ("lesions", lesions, ["image_id", *BOX, "lesion_type"])):
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise StatisticsError(f"{name} lack column(s) {missing}; needed: {cols}")
    if marks[["score", *BOX]].isna().to_numpy().any():
        raise StatisticsError("marks.csv has NaN scores or boxes; re-run the cells that wrote them")
    boxed = set(lesions["image_id"].astype(str))
    ids = images["image_id"].astype(str)
    positive_unboxed = (images["y_true"].astype(int) == 1) & ~ids.isin(boxed)
    images = images[~positive_unboxed.to_numpy()].reset_index(drop=True)
    index = pd.Series(np.arange(len(images)), index=images["image_id"].astype(str))
    lesions = lesions[lesions["image_id"].astype(str).isin(index.index)].reset_index(drop=True)
    lesions = lesions.assign(img=index.loc[lesions["image_id"].astype(str)].to_numpy())
    marks = marks[~marks["image_id"].astype(str).isin(set(ids[positive_unboxed]))]
    unknown = ~marks["image_id"].astype(str).isin(index.index)
    if unknown.any():
        raise StatisticsError(f"marks on images {marks.loc[unknown, 'image_id'].unique()[:5].tolist()} that are not "
                              "in the split's predictions")
    marks = marks.assign(img=index.loc[marks["image_id"].astype(str)].to_numpy())
    cube = DetectionCube(images, lesions, excluded=int(positive_unboxed.sum()))
    for (arm, seed), group in marks.groupby(["arm", "seed"], sort=True):
        cube.runs.setdefault(str(arm), []).append(
            SeedRun(int(seed), *_match_run(group, lesions, len(images), criterion, iou_threshold)))
    return cube


def fpi_threshold(run: SeedRun, n_images: int, fpi: float) -> float:
    """Score threshold τ (a mark counts when its score > τ) giving at most ``fpi`` false marks per image.

    Chosen on the validation split and applied to test. ``-inf`` when every false mark fits the budget.

    Example:
        >>> r = SeedRun(0, np.zeros(0), np.zeros(2), np.array([0.9, 0.5, 0.2]), np.array([0, 1, 1]))
        >>> fpi_threshold(r, 2, 1.0), fpi_threshold(r, 2, 2.0)
        (0.2, -inf)
    """
    allowed = int(np.floor(fpi * n_images + 1e-9))
    ranked = np.sort(run.fp_scores)[::-1]
    return float(ranked[allowed]) if allowed < ranked.size else float("-inf")


__all__ = ["DetectionCube", "LESION_COLUMNS", "MARK_COLUMNS", "SeedRun", "detection_cube", "fpi_threshold"]
