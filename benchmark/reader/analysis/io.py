"""Read reader-study ratings: the app's export, iMRMC input files and long CSVs.

Every reader returns the same *long table*: one row per read with columns ``reader, treatment,
case, truth, rating`` (ids as strings, ``truth`` 0/1, ``rating`` float) plus any optional columns
the source has (``call``, ``design``, …). :func:`to_mrmc_data` turns a long table into the fully
crossed rating cube the OR analysis needs.

* Long CSV: a header with at least ``reader, treatment, case, truth, rating``.
* App export (``mammobench reader export``): a long CSV with extra columns (``design``, ``call``,
  ``confidence``, ``malignancy``, ``click_x``, ``click_y``, ``answered_at``).
* iMRMC (``reference/statistics.md`` B-6.8): optional free-text header, a ``BEGIN DATA:`` line, then
  rows ``readerID, caseID, modalityID, score``; truth rows have readerID ``-1`` (or ``truth``).

Example:
    >>> import io as _io
    >>> text = "reader,treatment,case,truth,rating\\n1,A,c1,0,1\\n1,A,c2,1,3\\n"
    >>> read_long_csv(_io.StringIO(text), source="demo.csv")["rating"].tolist()
    [1.0, 3.0]
"""
from __future__ import annotations

import io
import os
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from mammobench.errors import DataError
from mammobench.io import atomic_write_text
from mammobench.stats.mrmc import MRMCData

LONG_COLUMNS = ("reader", "treatment", "case", "truth", "rating")


def _open_text(path_or_buf: str | os.PathLike | IO[str]) -> tuple[str, str]:
    if hasattr(path_or_buf, "read"):
        return path_or_buf.read(), "<buffer>"  # type: ignore[union-attr]
    path = Path(path_or_buf)
    try:
        return path.read_text(encoding="utf-8"), str(path)
    except FileNotFoundError as err:
        raise DataError(f"{path}: file not found; give the path of a long CSV, app export or .imrmc file") from err
    except UnicodeDecodeError as err:
        raise DataError(f"{path}: not a UTF-8 text file ({err}); export the ratings as CSV") from err


def _clean_long(df: pd.DataFrame, source: str) -> pd.DataFrame:
    """Validate and normalise a long table (types, 0/1 truth, finite ratings, one truth per case)."""
    df = df.rename(columns={c: str(c).strip().lower() for c in df.columns})
    missing = [c for c in LONG_COLUMNS if c not in df.columns]
    if missing:
        raise DataError(f"{source}: missing column(s) {missing}; a reader-study table needs "
                        f"{list(LONG_COLUMNS)} (found {list(df.columns)})")
    if df.empty:
        raise DataError(f"{source}: no rows; the table holds no reads")
    for col in ("reader", "treatment", "case"):
        if df[col].isna().any():
            row = int(np.flatnonzero(df[col].isna().to_numpy())[0])  # positional: the index may be text
            raise DataError(f"{source}: column '{col}' has an empty value in row {row}; fill it in or drop the row")
        df[col] = df[col].astype(str).str.strip()
    df["truth"] = _numeric(df, "truth", source)
    bad = ~df["truth"].isin([0, 1])
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(f"{source}: column 'truth' row {row} is {df['truth'].iloc[row]!r}; truth must be 0 or 1")
    df["truth"] = df["truth"].astype(int)
    df["rating"] = _numeric(df, "rating", source)
    per_case = df.groupby("case")["truth"].nunique()
    if (per_case > 1).any():
        raise DataError(f"{source}: case {per_case[per_case > 1].index[0]!r} has conflicting truth values; "
                        "each case needs one truth")
    return df.reset_index(drop=True)


def _numeric(df: pd.DataFrame, col: str, source: str) -> pd.Series:
    values = pd.to_numeric(df[col], errors="coerce")
    bad = values.isna() | ~np.isfinite(values.fillna(0))
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(f"{source}: column '{col}' row {row} is {df[col].iloc[row]!r}; expected a finite number")
    return values.astype(float)


def read_long_csv(path_or_buf: str | os.PathLike | IO[str], *, source: str | None = None) -> pd.DataFrame:
    """Read a long CSV (``reader, treatment, case, truth, rating`` [+ extras]); also reads app exports.

    Raises:
        DataError: naming the file and the column/row at fault.
    """
    text, name = _open_text(path_or_buf)
    source = source or name
    try:
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_values=[""])
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise DataError(f"{source}: not a readable CSV ({err})") from err
    return _clean_long(df, source)


def read_imrmc(path_or_buf: str | os.PathLike | IO[str], *, source: str | None = None) -> pd.DataFrame:
    """Read an iMRMC input file (``BEGIN DATA:`` then ``readerID, caseID, modalityID, score``)."""
    text, name = _open_text(path_or_buf)
    source = source or name
    lines = text.splitlines()
    start = next((k for k, line in enumerate(lines) if line.strip().upper().startswith("BEGIN DATA")), None)
    if start is None:
        raise DataError(f"{source}: no 'BEGIN DATA:' line; an iMRMC file has a header, 'BEGIN DATA:', then data rows")
    rows = []
    for k, line in enumerate(lines[start + 1:], start=start + 2):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split(",")]
        if len(parts) != 4:
            raise DataError(f"{source}: line {k} has {len(parts)} fields; iMRMC rows are "
                            "'readerID, caseID, modalityID, score'")
        rows.append(parts)
    table = pd.DataFrame(rows, columns=["reader", "case", "treatment", "rating"])
    is_truth = table["reader"].isin(["-1", "truth"])
    truth = table[is_truth].drop_duplicates("case").set_index("case")["rating"]
    reads = table[~is_truth].copy()
    unknown = sorted(set(reads["case"]) - set(truth.index))
    if unknown:
        raise DataError(f"{source}: case(s) {unknown[:5]} have reads but no truth row (readerID -1)")
    reads["truth"] = reads["case"].map(truth)
    return _clean_long(reads[list(LONG_COLUMNS)], source)


def read_ratings(path: str | os.PathLike) -> pd.DataFrame:
    """Read any supported ratings file, detecting the format (iMRMC by its ``BEGIN DATA:`` line)."""
    text, name = _open_text(path)
    if any(line.strip().upper().startswith("BEGIN DATA") for line in text.splitlines()):
        return read_imrmc(io.StringIO(text), source=name)
    return read_long_csv(io.StringIO(text), source=name)


def write_imrmc(table: pd.DataFrame, path: str | os.PathLike, *, header: str = "MammoBench reader study") -> None:
    """Write a long table as an iMRMC input file (truth rows with readerID -1, modality 'truth')."""
    lines = [header, "BEGIN DATA:"]
    cases = table.drop_duplicates("case")[["case", "truth"]]
    lines += [f"-1,{c},truth,{int(t)}" for c, t in zip(cases["case"], cases["truth"])]
    lines += [f"{r},{c},{m},{s:g}" for r, c, m, s in
              zip(table["reader"], table["case"], table["treatment"], table["rating"])]
    atomic_write_text(path, "\n".join(lines) + "\n")


def to_mrmc_data(table: pd.DataFrame, *, source: str = "ratings") -> MRMCData:
    """Pivot a long table into a fully crossed cube; error naming what is missing or duplicated."""
    dup = table.duplicated(["treatment", "reader", "case"])
    if dup.any():
        row = table[dup].iloc[0]
        raise DataError(f"{source}: reader {row['reader']!r} rated case {row['case']!r} in treatment "
                        f"{row['treatment']!r} more than once")
    treatments, readers = _sorted_ids(table["treatment"]), _sorted_ids(table["reader"])
    cases = _sorted_ids(table["case"])
    full = pd.MultiIndex.from_product([treatments, readers, cases], names=["treatment", "reader", "case"])
    cube = table.set_index(["treatment", "reader", "case"])["rating"].reindex(full)
    if cube.isna().any():
        t, r, c = cube[cube.isna()].index[0]
        raise DataError(f"{source}: the design is not fully crossed: no rating for reader {r!r}, case {c!r}, "
                        f"treatment {t!r} ({int(cube.isna().sum())} missing); OR analysis needs every reader "
                        "to read every case in every treatment")
    truth = table.drop_duplicates("case").set_index("case")["truth"].reindex(cases).to_numpy(int)
    ratings = cube.to_numpy(float).reshape(len(treatments), len(readers), len(cases))
    return MRMCData(ratings, truth, treatments, readers, cases)


def _sorted_ids(values: Any) -> list[str]:
    """Unique ids, numeric order when all are integers (so reader 10 follows reader 9)."""
    unique = list(dict.fromkeys(values))
    if all(str(v).lstrip("-").isdigit() for v in unique):
        return sorted(unique, key=lambda v: int(v))
    return sorted(unique)
