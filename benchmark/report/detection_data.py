"""What the report's detection section reads from a detection run's folder, and the gallery's picks.

A lesion-detection run (``result.json`` with a ``detection`` summary) writes ``marks.csv`` (every
cell's marks on the validation and test images), ``data/lesions.csv`` (lesion boxes, cache pixels),
``data/cases.csv`` (one row per image: its row in the image cache, split, subgroups) and
``data/images.npy`` (the cached images the detectors saw). :func:`load_detection` reads them;
the images are memory-mapped, so a gallery of a dozen panels reads a dozen images. Without the cache
files (a bundle that left them out) the section still has its figures and tables, only no gallery.

:func:`gallery_picks` chooses, for one (arm, seed), the test images a reviewer should look at, at the
operating point the task pre-specified (the score threshold chosen on validation for the task's FPI,
``result["detection"]["thresholds"]``): true positives (lesions hit by a mark above it, highest score
first), misses (lesions no mark above it hits, lowest best score first) and the highest-scoring
false marks (one per image). Hits are judged by the task's hit rule (:func:`mammobench.stats.froc.match_image`).

Example:
    >>> marks = pd.DataFrame({"image_id": ["a", "a", "b"], "split": "test", "arm": "none", "seed": 0,
    ...                       "score": [0.9, 0.8, 0.7], "x0": [1, 10, 1], "y0": [1, 10, 1], "x1": [3, 12, 3],
    ...                       "y1": [3, 12, 3]})
    >>> lesions = pd.DataFrame({"image_id": ["a", "b"], "lesion": [0, 0], "x0": [0, 20], "y0": [0, 20],
    ...                         "x1": [4, 24], "y1": [4, 24], "lesion_type": ["mass", "mass"]})
    >>> picks = gallery_picks(marks, lesions, "none", 0, threshold=0.5)
    >>> [(p.image_id, round(p.score, 2)) for p in picks["true positives"]], [p.image_id for p in picks["misses"]]
    ([('a', 0.9)], ['b'])
    >>> [(p.image_id, p.score) for p in picks["false marks"]]
    [('a', 0.8), ('b', 0.7)]
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from mammobench.errors import DataError
from mammobench.stats.froc import BOX, match_image

ROWS = ("true positives", "misses", "false marks")


@dataclass
class DetectionFiles:
    """A detection run's marks, lesion boxes, hit rule and (when present) its cached images."""

    marks: pd.DataFrame
    lesions: pd.DataFrame
    summary: dict
    cases: pd.DataFrame | None = None
    images: np.ndarray | None = None   # memory-mapped [N, H, W], rows as in ``cases["row"]``

    def image(self, image_id: str) -> np.ndarray | None:
        """The cached image of ``image_id`` (``None`` without the cache or for an unknown image)."""
        if self.images is None or self.cases is None:
            return None
        rows = self.cases.loc[self.cases["image_id"] == str(image_id), "row"]
        return None if rows.empty else np.asarray(self.images[int(rows.iloc[0])], dtype=np.float32)

    def attributes(self, image_id: str) -> dict:
        """The image's subgroup columns (density, lesion type …) from ``cases.csv`` (empty without it)."""
        if self.cases is None:
            return {}
        rows = self.cases[self.cases["image_id"] == str(image_id)]
        return {} if rows.empty else rows.iloc[0].to_dict()


def _csv(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path, dtype={"image_id": str, "patient_id": str}, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as err:
        raise DataError(f"{path}: cannot read ({err}); re-run the run's evaluation stage") from err


def load_detection(run_dir: str | Path, result: dict) -> DetectionFiles | None:
    """The detection files of ``run_dir``, or ``None`` when the run is not a detection run.

    Raises:
        DataError: ``marks.csv`` or ``data/lesions.csv`` missing or unreadable although the result says
            the run is a detection run, or an image cache that does not match ``data/cases.csv``.
    """
    if not isinstance(result.get("detection"), dict):
        return None
    run_dir = Path(run_dir)
    for rel in ("marks.csv", "data/lesions.csv"):
        if not (run_dir / rel).is_file():
            raise DataError(f"{run_dir}: result.json describes a detection run but {rel} is missing; "
                            "re-run the task (its cells write it)")
    files = DetectionFiles(_csv(run_dir / "marks.csv"), _csv(run_dir / "data" / "lesions.csv"), result["detection"])
    cases, images = run_dir / "data" / "cases.csv", run_dir / "data" / "images.npy"
    if cases.is_file() and images.is_file():
        files.cases = _csv(cases)
        try:
            files.images = np.load(images, mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError) as err:
            raise DataError(f"{images}: not a readable image cache ({err})") from err
        if files.images.ndim != 3 or len(files.images) <= int(files.cases["row"].max() if len(files.cases) else -1):
            raise DataError(f"{images}: shape {files.images.shape} does not hold the rows data/cases.csv names")
    return files


@dataclass(frozen=True)
class Pick:
    """One gallery panel: the image, the lesion or mark it shows, and that item's score."""

    image_id: str
    kind: str            # a key of ROWS
    score: float         # the lesion's best mark score (−inf: no mark), or the false mark's score
    box: tuple           # the featured lesion or mark box (x0, y0, x1, y1)


def gallery_picks(marks: pd.DataFrame, lesions: pd.DataFrame, arm: str, seed: int, *, threshold: float,
                  criterion: str = "centre", iou_threshold: float = 0.1, k: int = 4) -> dict[str, list[Pick]]:
    """Up to ``k`` test images per gallery row (:data:`ROWS`) for one trained detector (see the module docstring).

    Ties are broken by image id, so the picks are a deterministic function of the files.
    """
    sel = marks[(marks["split"] == "test") & (marks["arm"].astype(str) == arm) & (marks["seed"] == seed)]
    by_image = {str(i): g for i, g in sel.groupby("image_id", sort=True)}
    boxes = {str(i): g for i, g in lesions.groupby("image_id", sort=True)}
    tp, miss, fp = [], [], []
    for image_id in sorted(set(by_image) | (set(boxes) & set(marks.loc[marks["split"] == "test", "image_id"]))):
        m = by_image.get(image_id, sel.iloc[:0])
        gt = boxes.get(image_id)
        gt_boxes = gt[BOX].to_numpy(float) if gt is not None else np.zeros((0, 4))
        scores = m["score"].to_numpy(float)
        lesion_scores, is_fp = match_image(m[BOX].to_numpy(float), scores, gt_boxes, criterion=criterion,
                                           iou_threshold=iou_threshold)
        for box, s in zip(gt_boxes, lesion_scores):
            (tp if s > threshold else miss).append(Pick(image_id, ROWS[0] if s > threshold else ROWS[1], float(s),
                                                        tuple(box)))
        if is_fp.any():
            j = int(np.argmax(np.where(is_fp, scores, -np.inf)))
            fp.append(Pick(image_id, ROWS[2], float(scores[j]), tuple(m[BOX].to_numpy(float)[j])))

    def first(picks: list[Pick], key) -> list[Pick]:
        seen, out = set(), []
        for p in sorted(picks, key=key):
            if p.image_id not in seen:
                seen.add(p.image_id)
                out.append(p)
        return out[:k]

    return {ROWS[0]: first(tp, lambda p: (-p.score, p.image_id)), ROWS[1]: first(miss, lambda p: (p.score, p.image_id)),
            ROWS[2]: first(fp, lambda p: (-p.score, p.image_id))}


def image_marks(marks: pd.DataFrame, image_id: str, arm: str, seed: int) -> pd.DataFrame:
    """The marks one detector put on one test image, highest score first."""
    sel = marks[(marks["image_id"].astype(str) == str(image_id)) & (marks["arm"].astype(str) == arm)
                & (marks["seed"] == seed) & (marks["split"] == "test")]
    return sel.sort_values("score", ascending=False, kind="stable")


__all__ = ["DetectionFiles", "Pick", "ROWS", "gallery_picks", "image_marks", "load_detection"]
