"""Reading a dataset's metadata tables as they ship: CSV (any separator), Excel ``.xlsx`` and legacy ``.xls``.

Every value comes back as text ('' for blank cells); integral numbers that a spreadsheet stores as floats
(``20586908.0``) come back without the ``.0``; header names are stripped of surrounding whitespace
(INbreast's ``'Mass '``). A missing file, an unreadable file or a missing column raises
:class:`~mammobench.errors.DataError` naming the file, what was expected and where the layout is
documented. Spreadsheets are read with openpyxl (``.xlsx``) and xlrd (``.xls``), pandas' own engines.

Example:
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = p.write_text("a;b\\n1.0;x\\n")
    >>> read_table(p, dataset="demo", sep=";").to_dict("records")
    [{'a': '1', 'b': 'x'}]
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd

from mammobench.errors import DataError

SPREADSHEET_ENGINES = {".xlsx": "openpyxl", ".xlsm": "openpyxl", ".xls": "xlrd"}
_INTEGRAL_FLOAT = re.compile(r"^-?\d+\.0+$")


def _text(value: Any) -> str:
    text = "" if value is None or (isinstance(value, float) and value != value) else str(value).strip()
    return text.split(".")[0] if _INTEGRAL_FLOAT.match(text) else text


def _read_xls(path: Path, sheet: str | int) -> pd.DataFrame:
    """Legacy BIFF ``.xls`` read with xlrd itself (pandas deprecates its xlrd engine); row 0 is the header."""
    import xlrd

    book = xlrd.open_workbook(str(path), on_demand=True)
    try:
        table = book.sheet_by_index(sheet) if isinstance(sheet, int) else book.sheet_by_name(sheet)
        rows = [table.row_values(r) for r in range(table.nrows)]
    finally:
        book.release_resources()
    if not rows:
        return pd.DataFrame()
    header = [str(_text(h)) for h in rows[0]]
    return pd.DataFrame(rows[1:], columns=header, dtype=object)


def _read_spreadsheet(path: Path, sheet: str | int) -> pd.DataFrame:
    engine = SPREADSHEET_ENGINES[path.suffix.lower()]
    try:
        if engine == "xlrd":
            return _read_xls(path, sheet)
        return pd.read_excel(path, sheet_name=sheet, dtype=object, engine=engine)
    except ImportError as err:
        raise DataError(f"{path}: reading {path.suffix} files needs the {engine} package "
                        f"(pip install {engine}; it is a MammoBench dependency)") from err
    except (ValueError, KeyError, IndexError) as err:
        raise DataError(f"{path}: cannot read sheet {sheet!r} ({err})") from err
    except Exception as err:  # xlrd/openpyxl raise their own types for corrupt files
        raise DataError(f"{path}: not a readable {path.suffix} spreadsheet ({type(err).__name__}: {err})") from err


def read_table(path: Path, *, dataset: str, required: tuple[str, ...] = (), hint: str = "", sep: str = ",",
               sheet: str | int = 0, encoding: str = "utf-8") -> pd.DataFrame:
    """Read a CSV or spreadsheet as text; a missing file or column raises :class:`DataError` naming both.

    Args:
        path: the table (``.csv``/``.txt`` read as CSV; ``.xlsx``/``.xls`` as spreadsheets).
        dataset: adapter name, for messages.
        required: columns that must be present (after stripping header whitespace).
        hint: where the layout is documented and how to check it, appended to every message.
        sep: CSV separator.
        sheet: spreadsheet sheet (name or 0-based index).
        encoding: CSV encoding (undecodable bytes raise a DataError).
    """
    path = Path(path)
    tail = f"; {hint}" if hint else ""
    if not path.is_file():
        raise DataError(f"{dataset}: table {path} not found{tail}")
    if path.suffix.lower() in SPREADSHEET_ENGINES:
        df = _read_spreadsheet(path, sheet)
    else:
        try:
            df = pd.read_csv(path, dtype=str, keep_default_na=False, sep=sep, encoding=encoding)
        except pd.errors.EmptyDataError as err:
            raise DataError(f"{dataset}: {path} is empty (no header row){tail}") from err
        except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as err:
            raise DataError(f"{dataset}: cannot parse {path} as a '{sep}'-separated table ({err}){tail}") from err
    df.columns = [str(c).strip() for c in df.columns]
    df = df.apply(lambda col: col.map(_text)) if len(df) else df.astype(str)
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise DataError(f"{dataset}: {path} lacks column(s) {missing}; found {list(df.columns)}{tail}")
    return df
