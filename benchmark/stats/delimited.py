"""Read a delimited text table as people have it, keeping each row's line number for error messages.

* The delimiter is sniffed from the header line among comma, semicolon, tab and ``|`` (the one that
  splits it into the most fields; a tie goes to the comma) — spreadsheet exports in locales with a
  decimal comma write ``;``-separated files, and R's ``write.table`` writes tabs.
* With a delimiter other than the comma, a number written with a decimal comma (``0,85``) reads as
  ``0.85``.
* Every row keeps its 1-based line number in the file (the header is line 1 when it opens the
  file), so an error can say "line 17" and the user can go there in an editor.
* Missing values are the empty cell and ``NA``, ``N/A``, ``NaN``, ``null``, ``None`` (any case);
  ``inf``/``-Inf``/``Infinity`` read as infinities (the caller decides what they mean).

Example:
    >>> table = read_delimited("reader;score\\n1;0,5\\n2;-Inf\\n", source="r.csv")
    >>> table.delimiter, table.numbers("score").tolist(), table.lines.tolist()
    (';', [0.5, -inf], [2, 3])
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mammobench.errors import DataError

DELIMITERS = (",", ";", "\t", "|")
MISSING = frozenset({"", "na", "n/a", "nan", "null", "none"})
_DECIMAL_COMMA = re.compile(r"^[+-]?\d*,\d+(?:[eE][+-]?\d+)?$")
_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


@dataclass(frozen=True)
class DelimitedTable:
    """Cells as stripped strings (``frame``), each row's line number (``lines``) and the sniffed delimiter."""

    frame: pd.DataFrame
    lines: np.ndarray
    delimiter: str
    source: str

    @property
    def delimiter_name(self) -> str:
        """``comma``, ``semicolon``, ``tab`` or ``pipe``."""
        return _NAMES[self.delimiter]

    def numbers(self, column: str) -> np.ndarray:
        """The column as float64: missing → NaN, ``±inf`` kept, decimal commas read when allowed.

        Raises:
            DataError: a cell that is not a number, naming its line, column and value.
        """
        cells = self.frame[column]
        if self.delimiter != ",":
            cells = decimal_commas_to_points(cells)
        missing = cells.str.lower().isin(MISSING).to_numpy()
        values = pd.to_numeric(cells.where(~missing, "nan"), errors="coerce").to_numpy(dtype=float)
        bad = np.flatnonzero(np.isnan(values) & ~missing)
        if bad.size:
            row = int(bad[0])
            raise DataError(f"{self.source}: line {self.lines[row]}, column '{column}': "
                            f"{self.frame[column].iat[row]!r} is not a number")
        return values


def decimal_commas_to_points(cells: pd.Series) -> pd.Series:
    """Cells written with a decimal comma (``0,85``, ``-1,5e3``) rewritten with a point; others unchanged.

    Example:
        >>> decimal_commas_to_points(pd.Series(["0,85", "3", "a,b"])).tolist()
        ['0.85', '3', 'a,b']
    """
    text = cells.astype(str)
    return text.where(~text.str.match(_DECIMAL_COMMA.pattern), text.str.replace(",", ".", regex=False))


def _sniff(header: str) -> str:
    counts = {d: len(next(csv.reader([header], delimiter=d))) for d in DELIMITERS}
    best = max(counts.values())
    return next(d for d in DELIMITERS if counts[d] == best)


def read_delimited(text: str, *, source: str) -> DelimitedTable:
    """Parse ``text`` (header row first) into a :class:`DelimitedTable`.

    Blank lines are skipped; quoted cells may hold the delimiter. Column names are stripped.

    Raises:
        DataError: an empty file, a duplicated column name, or a row whose field count differs
            from the header's (its line named).

    Example:
        >>> read_delimited("a\\tb\\n1\\t2\\n", source="t.tsv").frame.to_dict("records")
        [{'a': '1', 'b': '2'}]
    """
    text = text.lstrip("\ufeff")
    first = next((line for line in text.splitlines() if line.strip()), None)
    if first is None:
        raise DataError(f"{source}: the file is empty; expected a header line and one row per case")
    delimiter = _sniff(first)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header, rows, lines = None, [], []
    try:
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            if header is None:
                header = [cell.strip() for cell in row]
                continue
            if len(row) != len(header):
                raise DataError(f"{source}: line {reader.line_num} has {len(row)} {_NAMES[delimiter]}-separated "
                                f"fields; the header has {len(header)} ({header})")
            rows.append([cell.strip() for cell in row])
            lines.append(reader.line_num)
    except csv.Error as err:
        raise DataError(f"{source}: line {reader.line_num}: not readable as delimited text ({err})") from err
    if header is None:  # e.g. a lone quote: the text has characters but every parsed cell is blank
        raise DataError(f"{source}: no header line with a column name; expected a header line and one row per case")
    duplicated = sorted({h for h in header if header.count(h) > 1})
    if duplicated:
        raise DataError(f"{source}: column name(s) {duplicated} appear more than once in the header")
    frame = pd.DataFrame(rows, columns=header, dtype=str) if rows else pd.DataFrame(columns=header, dtype=str)
    return DelimitedTable(frame=frame, lines=np.asarray(lines, dtype=int), delimiter=delimiter, source=source)
