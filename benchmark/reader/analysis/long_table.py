"""The *long table* every ratings reader returns, its column names as people write them, and its checks.

One row per read: ``reader, treatment, case, truth, rating`` (ids as stripped strings, ``truth`` 0/1,
``rating`` float) plus any other columns of the source and, when read from a file,
``source_line`` (the 1-based line the read came from, header = line 1) so later errors can point at
it.

Column names are matched case- and punctuation-insensitively, with the spellings of the common
tools: iMRMC (``readerID, caseID, modalityID, score``, ``truth``), RJafroc's sheets
(``ReaderID, ModalityID, CaseID``), MRMCaov and OR-DBM MRMC (``reader, treatment, case, truth,
rating``). Ratings may be ``-Inf``: RJafroc writes it for a case the reader did not mark, and it
ranks below every other rating (ties with other ``-Inf``); ``+Inf``, NaN and empty ratings are errors.

Example:
    >>> canonical_columns(["readerID", "modalityID", "caseID", "Truth", "score"], "x.csv")
    {'readerID': 'reader', 'modalityID': 'treatment', 'caseID': 'case', 'Truth': 'truth', 'score': 'rating'}
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from mammobench.errors import DataError
from mammobench.stats.delimited import decimal_commas_to_points

LONG_COLUMNS = ("reader", "treatment", "case", "truth", "rating")
LINE_COLUMN = "source_line"
#: accepted spellings, compared after lower-casing and dropping everything but letters and digits
COLUMN_ALIASES = {
    "reader": ("reader", "readerid", "readername", "rdr", "observer", "observerid"),
    "treatment": ("treatment", "treatmentid", "modality", "modalityid", "modalityname", "test", "testid", "trt"),
    "case": ("case", "caseid", "casename", "caseno"),
    "truth": ("truth", "truthstate", "disease", "diseased", "diseasestatus", "abnormal"),
    "rating": ("rating", "score", "ratingvalue", "scorevalue"),
}


def _squash(name: Any) -> str:
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def open_text(path_or_buf: str | os.PathLike | IO[str]) -> tuple[str, str]:
    """The text of a file (or buffer) and the name to use in messages.

    Raises:
        DataError: a missing file or one that is not UTF-8 text.
    """
    if hasattr(path_or_buf, "read"):
        return path_or_buf.read(), "<buffer>"  # type: ignore[union-attr]
    path = Path(path_or_buf)
    try:
        return path.read_text(encoding="utf-8-sig"), str(path)
    except FileNotFoundError as err:
        raise DataError(f"{path}: file not found; give the path of a long CSV, app export, .imrmc or .lrc file") from err
    except IsADirectoryError as err:
        raise DataError(f"{path}: is a folder; give a ratings file (or a study folder to 'reader analyze')") from err
    except UnicodeDecodeError as err:
        raise DataError(f"{path}: not a UTF-8 text file ({err}); export the ratings as CSV") from err


def canonical_columns(columns: list[Any], source: str) -> dict[Any, str]:
    """Rename map ``{column: canonical}`` for the columns that spell a :data:`LONG_COLUMNS` name.

    The canonical spelling wins when a file has it; two other spellings of one name are an error.

    Raises:
        DataError: naming the competing columns.
    """
    rename: dict[Any, str] = {}
    for canon, spellings in COLUMN_ALIASES.items():
        hits = [c for c in columns if _squash(c) in spellings]
        exact = [c for c in hits if _squash(c) == canon]
        if len(exact) > 1 or (not exact and len(hits) > 1):
            raise DataError(f"{source}: columns {hits} all look like '{canon}'; keep one (or rename the others)")
        if hits:
            rename[(exact or hits)[0]] = canon
    return rename


def _line(lines: np.ndarray | None, row: int) -> str:
    return f"line {int(lines[row])}" if lines is not None else f"row {row + 1}"


def _numeric(df: pd.DataFrame, col: str, source: str, lines: np.ndarray | None, *, allow_neg_inf: bool,
             decimal_comma: bool) -> pd.Series:
    raw = df[col].astype(str).str.strip()
    if decimal_comma:
        raw = decimal_commas_to_points(raw)
    values = pd.to_numeric(raw.where(raw != "", "nan"), errors="coerce")
    ok = np.isfinite(values) | (allow_neg_inf & np.isneginf(values))
    if not ok.all():
        row = int(np.flatnonzero(~ok.to_numpy())[0])
        hint = "; -Inf (not marked) is the only infinity accepted" if allow_neg_inf and np.isinf(values.iloc[row]) else ""
        raise DataError(f"{source}: {_line(lines, row)}, column '{col}' is {df[col].iloc[row]!r}; expected a "
                        f"finite number{hint}")
    return values.astype(float)


def clean_long(df: pd.DataFrame, source: str, lines: np.ndarray | None = None, *,
               decimal_comma: bool = False) -> pd.DataFrame:
    """Validate and normalise a long table (column names, types, 0/1 truth, ratings, one truth per case).

    Args:
        df: the table as read (cells may be strings).
        source: file name for messages.
        lines: 1-based file line of each row (kept as ``source_line``); None for in-memory tables.
        decimal_comma: read ``0,85`` in ``truth``/``rating`` as 0.85 (files not separated by commas).

    Raises:
        DataError: naming the file, the line and the column at fault.
    """
    df = df.rename(columns=canonical_columns(list(df.columns), source)).reset_index(drop=True)
    missing = [c for c in LONG_COLUMNS if c not in df.columns]
    if missing:
        raise DataError(f"{source}: missing column(s) {missing}; a reader-study table needs "
                        f"{list(LONG_COLUMNS)} (or readerID, modalityID, caseID, truth, score; found {list(df.columns)})")
    if df.empty:
        raise DataError(f"{source}: no rows; the table holds no reads")
    if lines is not None:
        df[LINE_COLUMN] = np.asarray(lines, dtype=int)
    for col in ("reader", "treatment", "case"):
        df[col] = df[col].astype(str).str.strip()
        empty = df[col].isin(["", "nan", "None", "<NA>"]).to_numpy()
        if empty.any():
            row = int(np.flatnonzero(empty)[0])
            raise DataError(f"{source}: {_line(lines, row)}, column '{col}' is empty; fill it in or drop the row")
    df["truth"] = _numeric(df, "truth", source, lines, allow_neg_inf=False, decimal_comma=decimal_comma)
    bad = ~df["truth"].isin([0, 1])
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(f"{source}: {_line(lines, row)}, column 'truth' is {df['truth'].iloc[row]:g}; truth must be "
                        "0 (normal) or 1 (abnormal)")
    df["truth"] = df["truth"].astype(int)
    df["rating"] = _numeric(df, "rating", source, lines, allow_neg_inf=True, decimal_comma=decimal_comma)
    _check_one_truth_per_case(df, source, lines)
    return df


def _check_one_truth_per_case(df: pd.DataFrame, source: str, lines: np.ndarray | None) -> None:
    per_case = df.groupby("case")["truth"].nunique()
    if (per_case > 1).any():
        case = per_case[per_case > 1].index[0]
        rows = df.index[df["case"] == case]
        first = rows[0]
        other = next(k for k in rows if df.at[k, "truth"] != df.at[first, "truth"])
        raise DataError(f"{source}: case {case!r} has conflicting truth values ({df.at[first, 'truth']} on "
                        f"{_line(lines, first)}, {df.at[other, 'truth']} on {_line(lines, other)}); each case "
                        "needs one truth")
