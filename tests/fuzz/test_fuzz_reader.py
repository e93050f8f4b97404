"""Fuzzing reader-study inputs: long CSV / app export, iMRMC files, and the OR-Hillis analysis on them.

Random text, truncation, odd cells (empty, NaN, inf, non-0/1 truth, duplicated reads, missing
readers) must end in :class:`~mammobench.errors.DataError` / :class:`StatisticsError` naming the
file, or in a valid table whose analysis returns finite or documented results.
"""
from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import event, given, strategies as st

from mammobench.errors import MammoBenchError
from mammobench.reader.analysis.io import read_ratings, to_mrmc_data
from mammobench.stats.obuchowski_rockette import or_hillis
from tests.helpers.fuzz_budget import ci

CELLS = ["", "0", "1", "2", "-1", "nan", "inf", "-inf", "1e309", "0.5", "x", "truth", " ", "3,4", '"']


def _valid_long(n_readers=2, n_cases=6, seed=0) -> str:
    rng = np.random.default_rng(seed)
    lines = ["reader,treatment,case,truth,rating"]
    for t in ("real", "synthetic"):
        for r in range(n_readers):
            for c in range(n_cases):
                lines.append(f"R{r},{t},C{c},{c % 2},{rng.integers(1, 6)}")
    return "\n".join(lines) + "\n"


def _valid_imrmc(n_readers=2, n_cases=6, seed=0) -> str:
    rng = np.random.default_rng(seed)
    lines = ["MammoBench fuzz", "BEGIN DATA:"] + [f"-1,C{c},truth,{c % 2}" for c in range(n_cases)]
    for t in ("A", "B"):
        for r in range(n_readers):
            lines += [f"R{r},C{c},{t},{rng.integers(1, 6)}" for c in range(n_cases)]
    return "\n".join(lines) + "\n"


LONG, IMRMC = _valid_long(), _valid_imrmc()


def _analyse(path) -> None:
    try:
        table = read_ratings(path)
        data = to_mrmc_data(table, source=str(path))
        res = or_hillis(data)
    except MammoBenchError as err:
        assert str(path) in str(err) or "ratings" in str(err) or "reader" in str(err).lower(), err
        event(type(err).__name__)
        return
    event("analysed")
    assert isinstance(res, dict)


def _edit(text: str, cut: int, edits: list[tuple[int, int, str]]) -> str:
    lines = text[:cut].split("\n")
    for r, c, value in edits:
        k = r % len(lines)
        parts = lines[k].split(",")
        parts[c % len(parts)] = value
        lines[k] = ",".join(parts)
    return "\n".join(lines)


def _case(tmp_path_factory, fmt: str, cut: int, edits) -> None:
    base = LONG if fmt == "long" else IMRMC
    path = tmp_path_factory.mktemp("r") / ("ratings.csv" if fmt == "long" else "study.imrmc")
    path.write_text(_edit(base, cut, edits), encoding="utf-8")
    _analyse(path)


edit_lists = st.lists(st.tuples(st.integers(0, 60), st.integers(0, 5), st.sampled_from(CELLS) | st.text(max_size=5)),
                      max_size=2)


@ci(40)
@given(fmt=st.sampled_from(["long", "imrmc"]), cut=st.integers(0, 2000) | st.just(10**6), edits=edit_lists)
def test_ratings_files_odd_cells_and_truncation(tmp_path_factory, fmt, cut, edits):
    _case(tmp_path_factory, fmt, cut, edits)


@ci(20)
@given(raw=st.binary(max_size=300), fmt=st.sampled_from(["ratings.csv", "study.imrmc"]))
def test_ratings_random_bytes(tmp_path_factory, raw, fmt):
    path = tmp_path_factory.mktemp("b") / fmt
    path.write_bytes(raw)
    _analyse(path)


@pytest.mark.fuzz
@given(fmt=st.sampled_from(["long", "imrmc"]), cut=st.integers(0, 2000) | st.just(10**6),
       edits=st.lists(st.tuples(st.integers(0, 60), st.integers(0, 5), st.sampled_from(CELLS) | st.text(max_size=5)),
                      max_size=20))
def test_ratings_files_long(tmp_path_factory, fmt, cut, edits):
    _case(tmp_path_factory, fmt, cut, edits)


def test_buffer_input_names_buffer():
    from mammobench.reader.analysis.io import read_long_csv

    with pytest.raises(MammoBenchError, match="truth"):
        read_long_csv(io.StringIO("reader,treatment,case,truth,rating\nR1,a,C1,7,3\n"))
