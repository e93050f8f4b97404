"""Read reader-study ratings as people have them: long CSVs, the app's export, iMRMC and ``.lrc`` files.

Every reader returns the same *long table* (:mod:`mammobench.reader.analysis.long_table`): one row
per read with ``reader, treatment, case, truth, rating`` plus the source's other columns and the
``source_line`` each read came from. :func:`to_mrmc_data` turns it into the fully crossed rating
cube the OR analysis needs.

* Long CSV (MRMCaov, OR-DBM MRMC, iMRMC's R data frames, spreadsheets): a header row with the five
  columns under any common spelling (``readerID``, ``modalityID``, ``caseID``, ``score``, …), comma,
  semicolon, tab or ``|`` separated (sniffed; a decimal comma is read in ``;``/tab files).
* App export (``mammobench reader export``): a long CSV with extra columns (``design``, ``call``,
  ``confidence``, ``malignancy``, ``click_x``, ``click_y``, ``answered_at``).
* iMRMC ``BEGIN DATA:`` files and OR-DBM MRMC ``.lrc`` files: :mod:`mammobench.reader.analysis.formats`.

Errors name the file and the 1-based line (the header is line 1).

Example:
    >>> import io as _io
    >>> text = "readerID;modalityID;caseID;truth;score\\n1;A;c1;0;1,5\\n1;A;c2;1;-Inf\\n"
    >>> read_long_csv(_io.StringIO(text), source="demo.csv")["rating"].tolist()
    [1.5, -inf]
"""
from __future__ import annotations

import io
import os
from pathlib import Path
from typing import IO, Any

import pandas as pd

from mammobench.errors import DataError
from mammobench.io import atomic_write_text
from mammobench.reader.analysis.formats import read_imrmc, read_lrc
from mammobench.reader.analysis.long_table import LINE_COLUMN, LONG_COLUMNS, clean_long, open_text
from mammobench.stats.delimited import read_delimited
from mammobench.stats.mrmc import MRMCData

__all__ = ["LONG_COLUMNS", "MRMCData", "read_imrmc", "read_long_csv", "read_lrc", "read_ratings", "to_mrmc_data",
           "write_imrmc"]


def read_long_csv(path_or_buf: str | os.PathLike | IO[str], *, source: str | None = None) -> pd.DataFrame:
    """Read a long ratings table (any common column spelling and delimiter); also reads app exports.

    Raises:
        DataError: naming the file, the line and the column at fault.
    """
    text, name = open_text(path_or_buf)
    source = source or name
    table = read_delimited(text, source=source)
    return clean_long(table.frame, source, table.lines, decimal_comma=table.delimiter != ",")


def read_ratings(path: str | os.PathLike) -> pd.DataFrame:
    """Read any supported ratings file: ``.lrc`` by its suffix, iMRMC by its ``BEGIN DATA:`` line, else a long CSV.

    Example:
        >>> # read_ratings("study.imrmc"); read_ratings("Franken1.lrc"); read_ratings("ratings.csv")
    """
    text, name = open_text(path)
    if Path(path).suffix.lower() == ".lrc":
        return read_lrc(io.StringIO(text), source=name)
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
    """Pivot a long table into a fully crossed cube; error naming what is missing or duplicated.

    Raises:
        DataError: a read given twice (both lines named) or a reader × case × treatment without a rating.
    """
    keys = ["treatment", "reader", "case"]
    dup = table.duplicated(keys, keep=False)
    if dup.any():
        row_a = table[dup].iloc[0]
        same = (table[keys] == row_a[keys]).all(axis=1)
        row_b = table[same].iloc[1]
        where = f" (lines {row_a[LINE_COLUMN]} and {row_b[LINE_COLUMN]})" if LINE_COLUMN in table.columns else ""
        raise DataError(f"{source}: reader {row_a['reader']!r} rated case {row_a['case']!r} in treatment "
                        f"{row_a['treatment']!r} more than once{where}")
    treatments, readers = _sorted_ids(table["treatment"]), _sorted_ids(table["reader"])
    cases = _sorted_ids(table["case"])
    full = pd.MultiIndex.from_product([treatments, readers, cases], names=keys)
    cube = table.set_index(keys)["rating"].reindex(full)
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
