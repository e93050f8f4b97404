"""Ratings files of the MRMC programs: iMRMC input (``.imrmc``) and OR-DBM MRMC / LABMRMC ``.lrc``.

* iMRMC (``reference/statistics.md`` B-6.8; FDA/CDRH DIDSR): free-text header (optionally ``N0:``,
  ``N1:``, ``NR:``, ``NM:`` counts, which are checked), a ``BEGIN DATA:`` line, then rows
  ``readerID, caseID, modalityID, score``; truth rows have readerID ``-1`` (or ``truth``) and score 0/1.
  A case given two different truths is an error, as in the long CSV.
* ``.lrc`` (University of Iowa OR-DBM MRMC, LABMRMC; written by RJafroc's ``DfSaveDataFile``):
  line 1 a title, then per reader: the reader id, (first reader only) the quoted treatment names and
  one ``L``/``S`` per treatment (``L``: larger rating = more likely abnormal; ``S``: smaller), the
  non-diseased cases one line each with one rating per treatment, ``*``, the diseased cases, ``*``;
  ``#`` ends the file. Case k of a block is the same case for every reader. ``S`` ratings are
  reflected (``max + 1 − rating``) as RJafroc does.

Every row keeps its file line (``source_line``) for later error messages.

Example:
    >>> import io as _io
    >>> text = 'demo\\nR1\\n "A"\\n L\\n1 case n1\\n2 case n2\\n*\\n3 case d1\\n*\\n#\\n'
    >>> read_lrc(_io.StringIO(text), source="d.lrc")[["reader", "case", "truth", "rating"]].values.tolist()
    [['R1', 'N1', 0, 1.0], ['R1', 'N2', 0, 2.0], ['R1', 'D1', 1, 3.0]]
"""
from __future__ import annotations

import os
import re
from typing import IO

import numpy as np
import pandas as pd

from mammobench.errors import DataError
from mammobench.reader.analysis.long_table import LONG_COLUMNS, clean_long, open_text

TRUTH_READERS = ("-1", "truth")
_COUNT = re.compile(r"^\s*(N0|N1|NR|NM)\s*:\s*(\d+)\s*$", re.IGNORECASE)


def _imrmc_rows(lines: list[str], start: int, source: str) -> tuple[list[list[str]], list[int]]:
    rows, numbers = [], []
    for k, line in enumerate(lines[start + 1:], start=start + 2):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split(",")]
        if len(parts) != 4:
            raise DataError(f"{source}: line {k} has {len(parts)} fields; iMRMC rows are "
                            "'readerID, caseID, modalityID, score'")
        rows.append(parts)
        numbers.append(k)
    if not rows:
        raise DataError(f"{source}: no data rows after 'BEGIN DATA:'")
    return rows, numbers


def _imrmc_truth(table: pd.DataFrame, source: str) -> dict[str, tuple[str, int]]:
    """``{case: (truth, line)}`` from the truth rows; conflicting truths are an error."""
    truth: dict[str, tuple[str, int]] = {}
    for case, score, line in zip(table["case"], table["rating"], table["line"]):
        value = score.strip()
        if value not in ("0", "1", "0.0", "1.0"):
            raise DataError(f"{source}: line {line}: the truth row of case {case!r} has score {score!r}; "
                            "truth must be 0 (signal absent) or 1 (signal present)")
        value = value[0]
        if case in truth and truth[case][0] != value:
            raise DataError(f"{source}: case {case!r} has conflicting truth rows (line {truth[case][1]}: "
                            f"{truth[case][0]}, line {line}: {value}); each case needs one truth")
        truth.setdefault(case, (value, line))
    return truth


def _check_counts(header: list[str], reads: pd.DataFrame, truth: dict, source: str) -> None:
    declared = {m.group(1).upper(): int(m.group(2)) for m in map(_COUNT.match, header) if m}
    actual = {"N0": sum(v[0] == "0" for v in truth.values()), "N1": sum(v[0] == "1" for v in truth.values()),
              "NR": reads["reader"].nunique(), "NM": reads["treatment"].nunique()}
    wrong = {k: (v, actual[k]) for k, v in declared.items() if v != actual[k]}
    if wrong:
        detail = ", ".join(f"{k} says {v} but the data have {a}" for k, (v, a) in wrong.items())
        raise DataError(f"{source}: the header counts disagree with the data ({detail})")


def read_imrmc(path_or_buf: str | os.PathLike | IO[str], *, source: str | None = None) -> pd.DataFrame:
    """Read an iMRMC input file into the long table (see the module docstring).

    Raises:
        DataError: no ``BEGIN DATA:`` line, a malformed row, a read without truth or conflicting truths
            (lines named), header counts that disagree with the data.
    """
    text, name = open_text(path_or_buf)
    source = source or name
    lines = text.splitlines()
    start = next((k for k, line in enumerate(lines) if line.strip().upper().startswith("BEGIN DATA")), None)
    if start is None:
        raise DataError(f"{source}: no 'BEGIN DATA:' line; an iMRMC file has a header, 'BEGIN DATA:', then data rows")
    rows, numbers = _imrmc_rows(lines, start, source)
    table = pd.DataFrame(rows, columns=["reader", "case", "treatment", "rating"]).assign(line=numbers)
    is_truth = table["reader"].str.lower().isin(TRUTH_READERS)
    truth = _imrmc_truth(table[is_truth], source)
    reads = table[~is_truth]
    unknown = reads[~reads["case"].isin(list(truth))]
    if not unknown.empty:
        raise DataError(f"{source}: line {unknown['line'].iloc[0]}: case {unknown['case'].iloc[0]!r} has reads but "
                        "no truth row (readerID -1)")
    _check_counts(lines[:start], reads, truth, source)
    reads = reads.assign(truth=reads["case"].map(lambda c: truth[c][0]))
    return clean_long(reads[list(LONG_COLUMNS)], source, reads["line"].to_numpy())


def _lrc_block(lines: list[str], k: int, n_t: int, source: str) -> tuple[list[list[str]], list[int], int]:
    """Rating rows from line index ``k`` up to the next ``*``; returns (rows, 1-based lines, index after ``*``)."""
    rows, numbers = [], []
    while k < len(lines) and lines[k].strip() != "*":
        parts = lines[k].split()
        if len(parts) < n_t:
            raise DataError(f"{source}: line {k + 1} has {len(parts)} ratings; the file names {n_t} treatments")
        rows.append(parts[:n_t])
        numbers.append(k + 1)
        k += 1
    if k >= len(lines):
        raise DataError(f"{source}: the file ends inside a reader's block; each block of cases ends with '*' "
                        "and the file with '#'")
    return rows, numbers, k + 1


def _lrc_header(lines: list[str], source: str) -> tuple[list[str], list[str]]:
    if len(lines) < 5:
        raise DataError(f"{source}: too short for an .lrc file (title, reader, treatments, L/S flags, ratings)")
    treatments = re.findall(r'"([^"]*)"', lines[2]) or lines[2].split()
    flags = [f.upper() for f in lines[3].split()]
    if len(flags) != len(treatments) or not set(flags) <= {"L", "S", "LARGE", "SMALL"}:
        raise DataError(f"{source}: line 4 must hold one L or S per treatment of line 3 ({treatments}); got {lines[3]!r}")
    return treatments, flags


def read_lrc(path_or_buf: str | os.PathLike | IO[str], *, source: str | None = None) -> pd.DataFrame:
    """Read an OR-DBM MRMC ``.lrc`` file into the long table (see the module docstring).

    Raises:
        DataError: a malformed header or block, or readers with different numbers of cases (lines named).
    """
    text, name = open_text(path_or_buf)
    source = source or name
    lines = text.splitlines()
    treatments, flags = _lrc_header(lines, source)
    records, k, sizes = [], 1, None
    while k < len(lines) and lines[k].strip() != "#":
        reader = lines[k].strip()
        k += 3 if sizes is None else 1  # the first reader's id is followed by the treatment and L/S lines
        normal, n_lines, k = _lrc_block(lines, k, len(treatments), source)
        abnormal, a_lines, k = _lrc_block(lines, k, len(treatments), source)
        if sizes is not None and sizes != (len(normal), len(abnormal)):
            raise DataError(f"{source}: reader {reader!r} (line {n_lines[0] - 1 if n_lines else k}) has "
                            f"{len(normal)} non-diseased and {len(abnormal)} diseased cases; the first reader has "
                            f"{sizes[0]} and {sizes[1]}")
        sizes = (len(normal), len(abnormal))
        for truth, tag, block, numbers in ((0, "N", normal, n_lines), (1, "D", abnormal, a_lines)):
            for idx, (row, line) in enumerate(zip(block, numbers), start=1):
                records += [(reader, t, f"{tag}{idx}", truth, value, line) for t, value in zip(treatments, row)]
    table = pd.DataFrame(records, columns=[*LONG_COLUMNS, "line"])
    out = clean_long(table[list(LONG_COLUMNS)], source, table["line"].to_numpy())
    small = [t for t, f in zip(treatments, flags) if f.startswith("S")]
    if small:
        top = out["rating"][np.isfinite(out["rating"])].max()
        sel = out["treatment"].isin(small)
        out.loc[sel, "rating"] = top + 1 - out.loc[sel, "rating"]
    return out
