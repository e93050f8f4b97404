"""Export a study: the analyst's long CSV (answers joined with the key) and a key-free package.

* :func:`export_ratings` / :func:`write_ratings_csv`: ``reader, treatment, case, truth, rating``
  plus ``design, call, confidence, malignancy, click_x, click_y, duration_ms, answered_at``; this
  file contains the truth and is for the analyst only.
* :func:`export_package`: the study as readers see it (``study.json``, ``images/``, ``README.md``,
  ``power.*``) for sharing with other sites; never the key, the answers database or patient
  identifiers. :func:`check_package` re-checks a package and is run on every export.

Example:
    >>> # write_ratings_csv("study", "study/export/ratings.csv"); export_package("study", "share/study")
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pandas as pd

from mammobench.errors import DataError, IntegrityError
from mammobench.io import atomic_write_text
from mammobench.reader.deid import png_metadata_chunks
from mammobench.reader.store import AnswerStore
from mammobench.reader.study import DEFAULT_DB, IMAGES_DIR, STUDY_FILE, load_key, load_study

PACKAGE_FILES = (STUDY_FILE, "README.md", "power.json", "power.md")


def export_ratings(study_dir: str | os.PathLike, *, db_path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Answers of every reader joined with the truth key, as a long table."""
    study_dir = Path(study_dir)
    study, key = load_study(study_dir), load_key(study_dir)
    db = Path(db_path) if db_path else study_dir / DEFAULT_DB
    if not db.is_file():
        raise DataError(f"{db}: no answers database; readers have not started (or pass --db)")
    store = AnswerStore(db)
    try:
        answers = store.all_answers()
    finally:
        store.close()
    if answers.empty:
        raise DataError(f"{db}: no answers recorded yet")
    table = answers.merge(key[["case_id", "truth"]], on="case_id", how="left")
    if table["truth"].isna().any():
        raise DataError(f"{db}: answers for case {table.loc[table['truth'].isna(), 'case_id'].iloc[0]!r} "
                        f"are not in {study_dir}/key/key.csv; wrong --db for this study?")
    table = table.rename(columns={"case_id": "case"})
    table["design"] = study["design"]
    table["call"] = (table["call"] == "synthetic").astype(int) if study["design"] == "turing" else pd.NA
    cols = ["reader", "treatment", "case", "truth", "rating", "design", "call", "confidence", "malignancy",
            "click_x", "click_y", "duration_ms", "answered_at"]
    out = table[cols].astype({"truth": int})
    for col in ("reader", "treatment", "case"):
        out[col] = out[col].astype(str)
    return out.reset_index(drop=True)


def write_ratings_csv(study_dir: str | os.PathLike, out: str | os.PathLike, *,
                      db_path: str | os.PathLike | None = None) -> int:
    """Write :func:`export_ratings` to ``out`` atomically; returns the number of reads."""
    table = export_ratings(study_dir, db_path=db_path)
    atomic_write_text(out, table.to_csv(index=False))
    return len(table)


def export_package(study_dir: str | os.PathLike, out: str | os.PathLike) -> list[str]:
    """Copy the reader-facing study (no key, no answers) to ``out``; returns the files written."""
    study_dir, out = Path(study_dir), Path(out)
    study = load_study(study_dir)
    if out.exists() and any(out.iterdir()):
        raise DataError(f"{out}: folder exists and is not empty; choose a new package folder")
    if out.resolve().is_relative_to(study_dir.resolve()):
        raise DataError(f"{out}: the package must be outside the study folder {study_dir}")
    written = []
    for name in PACKAGE_FILES:
        if (study_dir / name).is_file():
            (out / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(study_dir / name, out / name)
            written.append(name)
    for case in study["cases"]:
        rel = f"{IMAGES_DIR}/{case['case_id']}.png"
        (out / IMAGES_DIR).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(study_dir / rel, out / rel)
        written.append(rel)
    check_package(out, load_key(study_dir))
    return written


def check_package(package: str | os.PathLike, key: pd.DataFrame) -> None:
    """Fail if a package holds a key, a database, image metadata or any key-only value (origin ids).

    Raises:
        IntegrityError: naming the offending file and what it contains.
    """
    package = Path(package)
    secrets = {str(v) for v in key.get("origin_id", pd.Series(dtype=str)).dropna() if len(str(v)) >= 4}
    for path in sorted(p for p in package.rglob("*") if p.is_file()):
        rel = path.relative_to(package).as_posix()
        if rel.startswith("key/") or path.suffix in (".sqlite", ".db", ".csv") or "-wal" in path.name:
            raise IntegrityError(f"{path}: key, answers or table file in a shareable package")
        if path.suffix == ".png":
            if png_metadata_chunks(path):
                raise IntegrityError(f"{path}: PNG carries metadata chunks {png_metadata_chunks(path)}")
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        leaked = sorted(s for s in secrets if s in text)
        if leaked or '"truth"' in text or '"source"' in text:
            raise IntegrityError(f"{path}: contains key information ({leaked[:3] or 'truth/source fields'})")
