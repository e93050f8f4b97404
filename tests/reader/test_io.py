"""Ratings readers: iMRMC and long CSV give identical analyses; bad files fail clearly."""
from __future__ import annotations

import io

import pandas as pd
import pytest

from mammobench.commands import reader as reader_cmd
from mammobench.errors import DataError
from mammobench.reader.analysis.io import read_imrmc, read_long_csv, read_ratings, to_mrmc_data, write_imrmc
from mammobench.stats.or_hillis import or_hillis
from tests.helpers.reference_data import VANDYKE


def test_imrmc_and_long_csv_give_identical_results(tmp_path):
    long = read_ratings(VANDYKE)
    path = tmp_path / "vandyke.imrmc"
    write_imrmc(long, path)
    assert path.read_text().splitlines()[1] == "BEGIN DATA:"
    back = read_ratings(path)
    a = or_hillis(to_mrmc_data(long))
    b = or_hillis(to_mrmc_data(back))
    assert a == b
    assert reader_cmd.main(["analyze", str(path)]) == 0


def test_imrmc_accepts_truth_keyword_and_header():
    text = "free header\nline two\nBEGIN DATA:\ntruth,c1,truth,0\n-1,c2,x,1\nR1,c1,A,2\nR1,c2,A,4\n"
    table = read_imrmc(io.StringIO(text), source="t.imrmc")
    assert table["truth"].tolist() == [0, 1] and table["treatment"].tolist() == ["A", "A"]


@pytest.mark.parametrize("text,match", [
    ("reader,treatment,case,rating\n1,A,c,2\n", r"bad\.csv: missing column\(s\) \['truth'\]"),
    ("reader,treatment,case,truth,rating\n1,A,c,1,high\n", r"bad\.csv: column 'rating' row 0 is 'high'"),
    ("reader,treatment,case,truth,rating\n1,A,c,2,3\n", r"bad\.csv: column 'truth' row 0"),
    ("reader,treatment,case,truth,rating\n1,A,c,1,3\n2,A,c,0,3\n", r"case 'c' has conflicting truth"),
    ("reader,treatment,case,truth,rating\n", r"bad\.csv: no rows"),
])
def test_bad_long_csv_names_file_and_column(text, match):
    with pytest.raises(DataError, match=match):
        read_long_csv(io.StringIO(text), source="bad.csv")


def test_bad_imrmc_and_missing_file(tmp_path):
    with pytest.raises(DataError, match="BEGIN DATA"):
        read_imrmc(io.StringIO("R1,c1,A,2\n"), source="x.imrmc")
    with pytest.raises(DataError, match=r"x\.imrmc: line 3 has 3 fields"):
        read_imrmc(io.StringIO("BEGIN DATA:\n-1,c1,t,1\nR1,c1,2\n"), source="x.imrmc")
    with pytest.raises(DataError, match="no truth row"):
        read_imrmc(io.StringIO("BEGIN DATA:\nR1,c1,A,2\n"), source="x.imrmc")
    with pytest.raises(DataError, match="file not found"):
        read_ratings(tmp_path / "nope.csv")


def test_not_fully_crossed_and_duplicates_are_named():
    rows = [(r, t, c, int(c == "c2"), 1.0) for r in ("1", "2") for t in ("A", "B") for c in ("c1", "c2", "c3")]
    table = pd.DataFrame(rows, columns=["reader", "treatment", "case", "truth", "rating"])
    with pytest.raises(DataError, match="not fully crossed: no rating for reader '2', case 'c3', treatment 'B'"):
        to_mrmc_data(table.iloc[:-1], source="s.csv")
    with pytest.raises(DataError, match="rated case 'c1' in treatment 'A' more than once"):
        to_mrmc_data(pd.concat([table, table.iloc[:1]]), source="s.csv")


def test_cli_reports_bad_file_via_project_error(tmp_path):
    bad = tmp_path / "r.csv"
    bad.write_text("reader,case,truth,rating\n1,c,1,2\n")
    with pytest.raises(DataError, match=r"r\.csv: missing column"):
        reader_cmd.main(["analyze", str(bad)])
