"""Validation of a folder submission (``DIR/manifest.csv`` + ``DIR/card.yaml`` + image files).

Every problem raises :class:`~mammobench.errors.DataError` naming the file and the manifest row,
before any sample is served. Image sizes are read from the file headers (PNG ``IHDR``, NPY header)
and checked against a per-image and a per-submission pixel budget **before anything is decoded**,
so a small file that declares a huge image cannot exhaust memory.

Example:
    >>> import tempfile
    >>> from mammobench.generators.fixtures import write_tiny_folder_submission
    >>> d = write_tiny_folder_submission(tempfile.mkdtemp(), n=4, size=16)
    >>> labels, images = load_folder(d)
    >>> images.shape, images.dtype.name
    ((4, 16, 16), 'float32')
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from mammobench.data.manifest import parse_findings
from mammobench.errors import ConfigError, DataError
from mammobench.generators.conditions import validate_conditions
from mammobench.protocols import CONDITION_COLUMNS

FOLDER_COLUMNS: tuple[str, ...] = ("file",) + CONDITION_COLUMNS + ("findings",)
#: largest image a submission may hold (the largest training resolution a task allows, 4096 × 4096)
MAX_IMAGE_PIXELS = 4096 * 4096
#: all images of a submission together (2**28 pixels = 1 GiB as float32)
MAX_SUBMISSION_PIXELS = 2 ** 28
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def header_shape(path: Path, row: int) -> tuple[int, int]:
    """(height, width) declared by a PNG's IHDR chunk or an NPY header — nothing is decoded.

    Raises:
        DataError: missing file, unsupported type, or a header that cannot be read.
    """
    where = f"{path} (manifest row {row})"
    if not path.is_file():
        raise DataError(f"{where}: file not found")
    suffix = path.suffix.lower()
    try:
        with open(path, "rb") as fh:
            if suffix == ".png":
                head = fh.read(24)
                if len(head) < 24 or head[:8] != _PNG_SIGNATURE or head[12:16] != b"IHDR":
                    raise DataError(f"{where}: not a PNG file (no PNG signature / IHDR chunk); re-export it as a "
                                    "16-bit greyscale PNG")
                return int.from_bytes(head[20:24], "big"), int.from_bytes(head[16:20], "big")
            if suffix == ".npy":
                version = np.lib.format.read_magic(fh)
                read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
                shape, _, _ = read(fh, max_header_size=10_000)
                if len(shape) != 2:
                    raise DataError(f"{where}: the .npy header declares shape {tuple(shape)}; expected a 2-D image")
                return int(shape[0]), int(shape[1])
    except DataError:
        raise
    except (OSError, ValueError, TypeError, EOFError) as err:
        raise DataError(f"{where}: unreadable {suffix} header ({err}); re-save the image") from err
    raise DataError(f"{where}: unsupported file type {path.suffix!r}; use a 16-bit .png or a float .npy")


def check_pixel_budget(root: Path, files: pd.Series, *, max_image_pixels: int = MAX_IMAGE_PIXELS,
                       max_total_pixels: int = MAX_SUBMISSION_PIXELS) -> list[tuple[int, int]]:
    """Header sizes of every image, refused (one sentence naming the file and the limit) past either budget.

    Example:
        >>> import tempfile
        >>> d = Path(tempfile.mkdtemp())
        >>> np.save(d / "a.npy", np.zeros((4, 3), np.float32))
        >>> check_pixel_budget(d, pd.Series(["a.npy"]))
        [(4, 3)]
    """
    shapes, total = [], 0
    for i, name in enumerate(files):
        h, w = header_shape(root / str(name), i)
        if h <= 0 or w <= 0 or h * w > max_image_pixels:
            raise DataError(f"{root / str(name)} (manifest row {i}): the header declares a {h}×{w} image, over the "
                            f"per-image limit of {max_image_pixels:,} pixels; refused before decoding")
        total += h * w
        if total > max_total_pixels:
            raise DataError(f"{root / 'manifest.csv'}: the first {i + 1} images declare {total:,} pixels in all "
                            f"(row {i}: {root / str(name)}), over the per-submission limit of {max_total_pixels:,} "
                            "pixels; refused before decoding — submit fewer or smaller images")
        shapes.append((h, w))
    return shapes


def read_image(path: Path, row: int) -> np.ndarray:
    """A 16-bit PNG (scaled by 1/65535) or a float ``.npy`` in [0, 1], as float32 ``[H, W]``."""
    where = f"{path} (manifest row {row})"
    if not path.is_file():
        raise DataError(f"{where}: file not found")
    if path.suffix.lower() == ".npy":
        try:
            arr = np.load(path, allow_pickle=False)
        except (OSError, ValueError, EOFError) as err:
            raise DataError(f"{where}: not a readable .npy array ({err}); re-save it with numpy.save") from err
        if arr.dtype.kind != "f":
            raise DataError(f"{where}: .npy dtype is {arr.dtype}; expected float32/float64 in [0, 1]")
        if arr.ndim != 2 or not np.isfinite(arr).all() or arr.min() < 0 or arr.max() > 1:
            raise DataError(f"{where}: expected a finite 2-D array in [0, 1], got shape {arr.shape}, "
                            f"range [{np.nanmin(arr):.3g}, {np.nanmax(arr):.3g}]")
        return arr.astype(np.float32)
    if path.suffix.lower() == ".png":
        from PIL import Image

        try:
            with Image.open(path) as im:
                if im.mode not in ("I;16", "I;16B", "I"):
                    raise DataError(f"{where}: PNG mode is {im.mode!r}; expected a 16-bit greyscale PNG")
                arr = np.asarray(im)
        except (OSError, ValueError, Image.DecompressionBombError) as err:
            raise DataError(f"{where}: not a readable PNG ({type(err).__name__}: {err}); re-export the image "
                            "as a 16-bit greyscale PNG") from err
        if arr.ndim != 2 or arr.min() < 0 or arr.max() > 65535:
            raise DataError(f"{where}: 16-bit greyscale PNG expected, got shape {arr.shape}")
        return (arr.astype(np.float32) / 65535.0)
    raise DataError(f"{where}: unsupported file type {path.suffix!r}; use a 16-bit .png or a float .npy")


def _check_findings(text: object, row: pd.Series, i: int, size: tuple[int, int], source: str) -> list[dict]:
    try:
        findings = parse_findings(text)
    except DataError as err:
        raise DataError(f"{source} row {i}: {err}") from err
    h, w = size
    if (row["label"] == "normal") != (len(findings) == 0):
        raise DataError(f"{source} row {i}: label {row['label']!r} with {len(findings)} finding(s); "
                        "normal images have none, lesion images at least one")
    for f in findings:
        box = f.get("box") if isinstance(f, dict) else None
        if not (isinstance(box, list) and len(box) == 4 and 0 <= box[0] < box[2] <= w and 0 <= box[1] < box[3] <= h):
            raise DataError(f"{source} row {i}: box {box!r} is not [x0, y0, x1, y1] inside the {w}×{h} image")
        if f.get("lesion_type") != row["lesion_type"]:
            raise DataError(f"{source} row {i}: finding lesion_type {f.get('lesion_type')!r} differs from the "
                            f"row's {row['lesion_type']!r}")
    return findings


def _check_inside(root: Path, files: pd.Series, source: str) -> None:
    """Untrusted submissions may only name files inside their own folder (no '..', no absolute paths)."""
    base = root.resolve()
    for i, name in enumerate(files):
        target = (root / str(name)).resolve()
        if not str(name).strip() or (target != base and base not in target.parents):
            raise DataError(f"{source} row {i}: file {name!r} is outside the submission folder; use a path "
                            "relative to the folder, without '..'")


def load_folder(path: str | Path, *, expected_size: tuple[int, int] | None = None) -> tuple[pd.DataFrame, np.ndarray]:
    """Validate and load a folder submission: (labels table with parsed findings, images ``[N, H, W]``)."""
    root = Path(path)
    source = str(root / "manifest.csv")
    if not (root / "manifest.csv").is_file():
        raise DataError(f"{source}: not found; a folder submission needs manifest.csv and card.yaml")
    try:
        table = pd.read_csv(root / "manifest.csv", dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise DataError(f"{source}: cannot parse CSV ({err}); it needs a header row {list(FOLDER_COLUMNS)}") from err
    missing = [c for c in FOLDER_COLUMNS if c not in table.columns]
    if missing:
        raise DataError(f"{source}: missing column(s) {missing}; required: {list(FOLDER_COLUMNS)}")
    if table.empty:
        raise DataError(f"{source}: no rows; a folder submission needs at least one image")
    try:
        validate_conditions(len(table), table.loc[:, list(CONDITION_COLUMNS)])
    except ConfigError as err:
        raise DataError(f"{source}: {str(err).replace('sample: condition', 'column')}") from err
    _check_inside(root, table["file"], source)
    shapes = check_pixel_budget(root, table["file"])
    size = tuple(expected_size or shapes[0])
    for i, shape in enumerate(shapes):
        if shape != size:
            raise DataError(f"{root / table['file'].iloc[i]} (manifest row {i}): size {shape} differs from "
                            f"{size}; every image must have the training resolution")
    images = [read_image(root / f, i) for i, f in enumerate(table["file"])]
    for i, img in enumerate(images):
        if img.shape != tuple(size):
            raise DataError(f"{root / table['file'].iloc[i]} (manifest row {i}): size {img.shape} differs from "
                            f"{tuple(size)}; every image must have the training resolution")
    table = table.loc[:, list(FOLDER_COLUMNS)].copy()
    table["findings"] = [_check_findings(t, table.iloc[i], i, tuple(size), source) for i, t in enumerate(table["findings"])]
    return table, np.stack(images).astype(np.float32)
