"""The study folder layout and each reader's reading order.

```
STUDY/
  study.json          public: design, treatments, rating scales, opaque case ids (+ AI scores)
  images/<case>.png   8-bit PNG exports, no metadata
  README.md           reader instructions;  power.json / power.md: sample-size statement
  key/key.csv         truth and provenance per case  (analyst only: never served, never packaged)
  answers.sqlite      the app's answers (default --db)
```

The reading order is a per-reader permutation derived from the study seed and the reader id, so a
restarted server resumes every reader at the same next case. Diagnostic studies read the
treatments in blocks (unaided first, then aided: sequential reading).

Example:
    >>> study = {"seed": 1, "treatments": ["turing"], "cases": [{"case_id": "a"}, {"case_id": "b"}]}
    >>> sorted(reading_order(study, "R1"))
    [('a', 'turing'), ('b', 'turing')]
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mammobench.errors import DataError
from mammobench.io import read_json

STUDY_FILE = "study.json"
IMAGES_DIR = "images"
KEY_DIR = "key"
KEY_FILE = "key/key.csv"
DEFAULT_DB = "answers.sqlite"
KEY_COLUMNS = ("case_id", "truth", "source", "origin_id", "label", "density", "lesion_type", "findings")


def load_study(study_dir: str | os.PathLike) -> dict[str, Any]:
    """Read and check ``STUDY/study.json``."""
    path = Path(study_dir) / STUDY_FILE
    if not path.is_file():
        raise DataError(f"{study_dir}: no {STUDY_FILE}; build the study with 'mammobench reader build'")
    study = read_json(path)
    for key in ("design", "treatments", "cases", "seed"):
        if key not in study:
            raise DataError(f"{path}: missing key '{key}'; rebuild the study")
    return study


def load_key(study_dir: str | os.PathLike) -> pd.DataFrame:
    """Read the truth key (analyst side only)."""
    path = Path(study_dir) / KEY_FILE
    if not path.is_file():
        raise DataError(f"{path}: key file not found; the analyst's copy of the study holds key/key.csv")
    key = pd.read_csv(path, dtype={"case_id": str})
    missing = [c for c in ("case_id", "truth") if c not in key.columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {missing}")
    return key


def _reader_seed(seed: int, reader: str, treatment: str) -> int:
    digest = hashlib.sha256(f"{seed}|{reader}|{treatment}".encode()).digest()
    return int.from_bytes(digest[:8], "little")


def reading_order(study: dict[str, Any], reader: str) -> list[tuple[str, str]]:
    """The (case_id, treatment) sequence ``reader`` reads, deterministic across restarts."""
    ids = [c["case_id"] for c in study["cases"]]
    order: list[tuple[str, str]] = []
    for treatment in study["treatments"]:
        rng = np.random.default_rng(_reader_seed(int(study["seed"]), reader, treatment))
        order += [(ids[k], treatment) for k in rng.permutation(len(ids))]
    return order
