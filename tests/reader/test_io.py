"""Ratings readers: long CSV as people write it, iMRMC and .lrc give identical analyses; bad files name the line."""
from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from mammobench.commands import reader as reader_cmd
from mammobench.errors import DataError
from mammobench.reader.analysis.io import read_imrmc, read_long_csv, read_lrc, read_ratings, to_mrmc_data, write_imrmc
from mammobench.stats.obuchowski_rockette import or_hillis
from tests.helpers.reference_data import FRANKEN_LRC, VANDYKE


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


def test_imrmc_accepts_truth_keyword_and_header_counts():
    text = "free header\nN0:1\nN1: 1\nNR:1\nNM:1\nBEGIN DATA:\ntruth,c1,truth,0\n-1,c2,x,1\nR1,c1,A,2\nR1,c2,A,4\n"
    table = read_imrmc(io.StringIO(text), source="t.imrmc")
    assert table["truth"].tolist() == [0, 1] and table["treatment"].tolist() == ["A", "A"]
    assert table["source_line"].tolist() == [9, 10]
    with pytest.raises(DataError, match=r"t\.imrmc: the header counts disagree with the data \(NR says 2 but"):
        read_imrmc(io.StringIO(text.replace("NR:1", "NR:2")), source="t.imrmc")


def test_imrmc_conflicting_truth_rows_are_rejected_like_the_long_csv():
    text = "BEGIN DATA:\n-1,c1,truth,0\n-1,c2,truth,1\n-1,c1,truth,1\nR1,c1,A,2\nR1,c2,A,4\n"
    with pytest.raises(DataError, match=r"x\.imrmc: case 'c1' has conflicting truth rows \(line 2: 0, line 4: 1\)"):
        read_imrmc(io.StringIO(text), source="x.imrmc")
    same = text.replace("-1,c1,truth,1\n", "-1,c1,truth,0\n")  # a repeated, consistent truth row is fine
    assert read_imrmc(io.StringIO(same), source="x.imrmc")["truth"].tolist() == [0, 1]


# the same six reads written the ways people write them; each must give the same table
SPELLINGS = {
    "canonical": "reader,treatment,case,truth,rating\n1,A,c1,0,1.5\n1,A,c2,1,4\n1,A,c3,0,-Inf\n"
                 "2,A,c1,0,2\n2,A,c2,1,3\n2,A,c3,0,1\n",
    "imrmc names, semicolon, decimal comma": "readerID;modalityID;caseID;truth;score\n1;A;c1;0;1,5\n1;A;c2;1;4\n"
                                            "1;A;c3;0;-Inf\n2;A;c1;0;2\n2;A;c2;1;3\n2;A;c3;0;1\n",
    "RJafroc names, tab": "ReaderID\tModalityID\tCaseID\tTruth\tRating\n1\tA\tc1\t0\t1.5\n1\tA\tc2\t1\t4\n"
                          "1\tA\tc3\t0\t-inf\n2\tA\tc1\t0\t2\n2\tA\tc2\t1\t3\n2\tA\tc3\t0\t1\n",
    "quoted, BOM, blank lines, spaces": '\ufeff"Reader ID","Modality","Case_ID","Disease","Score"\n\n'
                                        '1, A, c1, 0, 1.5\n1,A,c2,1,4\n1,A,c3,0,-Infinity\n\n2,A,c1,0,2\n'
                                        '2,A,c2,1,3\n2,A,c3,0,1\n',
}


@pytest.mark.parametrize("name", list(SPELLINGS))
def test_common_column_names_delimiters_and_minus_inf(name):
    table = read_long_csv(io.StringIO(SPELLINGS[name]), source=f"{name}.csv")
    assert table[["reader", "treatment", "case", "truth"]].values.tolist() == [
        ["1", "A", "c1", 0], ["1", "A", "c2", 1], ["1", "A", "c3", 0], ["2", "A", "c1", 0], ["2", "A", "c2", 1],
        ["2", "A", "c3", 0]]
    assert table["rating"].tolist() == [1.5, 4.0, -np.inf, 2.0, 3.0, 1.0]


def test_minus_inf_is_the_lowest_rating_in_the_analysis():
    """RJafroc's -Inf (unmarked) ties with other -Inf and ranks below every rating: same AUCs as a 0 floor."""
    base = read_ratings(VANDYKE)
    low = base.assign(rating=base["rating"].where(base["rating"] > 1, -np.inf))
    floor = base.assign(rating=base["rating"].where(base["rating"] > 1, 0.0))
    for cov in ("jackknife", "delong"):
        a, b = or_hillis(to_mrmc_data(low), cov_method=cov), or_hillis(to_mrmc_data(floor), cov_method=cov)
        assert a["rrrc"]["f"] == pytest.approx(b["rrrc"]["f"], rel=1e-12)
        assert a["covariance"] == pytest.approx(b["covariance"], rel=1e-12)


@pytest.mark.parametrize("text,match", [
    ("reader,treatment,case,rating\n1,A,c,2\n", r"bad\.csv: missing column\(s\) \['truth'\]"),
    ("reader,treatment,case,truth,rating\n1,A,c,1,3\n1,A,d,1,high\n", r"bad\.csv: line 3, column 'rating' is 'high'"),
    ("reader,treatment,case,truth,rating\n1,A,c,2,3\n", r"bad\.csv: line 2, column 'truth' is 2; truth must be 0"),
    ("reader,treatment,case,truth,rating\n1,A,c,1,3\n\n2,A,c,0,3\n",
     r"case 'c' has conflicting truth values \(1 on line 2, 0 on line 4\)"),
    ("reader,treatment,case,truth,rating\n1,A,c,1,inf\n", r"line 2, column 'rating' is 'inf'.*-Inf \(not marked\)"),
    ("reader,treatment,case,truth,rating\n1,A,c,1,\n", r"line 2, column 'rating' is ''; expected a finite number"),
    ("reader,treatment,case,truth,rating\n1,A,,1,3\n", r"line 2, column 'case' is empty"),
    ("reader,treatment,case,truth,rating\n1,A,c,1\n", r"bad\.csv: line 2 has 4 comma-separated fields; the header has 5"),
    ("reader,treatment,case,truth,rating\n", r"bad\.csv: no rows"),
    ("", r"bad\.csv: the file is empty"),
    ('"', r"bad\.csv: no header line with a column name"),  # a lone quote: characters, but every cell blank
    ("reader,score,rating,treatment,case,truth\n", r"no rows"),  # canonical 'rating' wins over the alias 'score'
    ("readerID,observer,treatment,case,truth,rating\n1,2,A,c,1,3\n", r"columns \['readerID', 'observer'\] all look"),
])
def test_bad_long_csv_names_file_line_and_column(text, match):
    with pytest.raises(DataError, match=match):
        read_long_csv(io.StringIO(text), source="bad.csv")


def test_lrc_reads_the_iowa_format_and_its_small_flag():
    table = read_ratings(FRANKEN_LRC)
    assert len(table) == 800 and table["reader"].unique().tolist() == ["0", "1", "2", "3"]
    assert (table.groupby("truth")["case"].nunique()).tolist() == [33, 67]
    assert table["source_line"].iloc[0] == 5
    text = 'demo\nR1\n "A" "B"\n L S\n1 1\n2 3\n*\n3 0\n*\nR2\n2 2\n1 4\n*\n3 1\n*\n#\n'
    flipped = read_lrc(io.StringIO(text), source="s.lrc")
    b = flipped[flipped["treatment"] == "B"]["rating"].tolist()
    assert b == [4.0, 2.0, 5.0, 3.0, 1.0, 4.0]  # S: max + 1 - rating, as RJafroc's ReadLrc


@pytest.mark.parametrize("text,match", [
    ("demo\nR1\n \"A\"\n L\n1\n*\n2\n", r"s\.lrc: the file ends inside a reader's block"),
    ("demo\nR1\n \"A\" \"B\"\n L L\n1 2\n*\n2\n*\n#\n", r"s\.lrc: line 7 has 1 ratings; the file names 2 treatments"),
    ("demo\nR1\n \"A\"\n X\n1\n*\n2\n*\n#\n", r"s\.lrc: line 4 must hold one L or S per treatment"),
    ("demo\nR1\n \"A\"\n L\n1\n*\n2\n*\nR2\n1\n1\n*\n2\n*\n#\n", r"reader 'R2' .* has 2 non-diseased and 1 diseased"),
    ("demo\nR1\n \"A\"\n L\n1\n*\nx\n*\n#\n", r"s\.lrc: line 7, column 'rating' is 'x'"),
])
def test_bad_lrc_names_the_line(text, match):
    with pytest.raises(DataError, match=match):
        read_lrc(io.StringIO(text), source="s.lrc")


def test_bad_imrmc_and_missing_file(tmp_path):
    with pytest.raises(DataError, match="BEGIN DATA"):
        read_imrmc(io.StringIO("R1,c1,A,2\n"), source="x.imrmc")
    with pytest.raises(DataError, match=r"x\.imrmc: line 3 has 3 fields"):
        read_imrmc(io.StringIO("BEGIN DATA:\n-1,c1,t,1\nR1,c1,2\n"), source="x.imrmc")
    with pytest.raises(DataError, match=r"x\.imrmc: line 2: case 'c1' has reads but no truth row"):
        read_imrmc(io.StringIO("BEGIN DATA:\nR1,c1,A,2\n"), source="x.imrmc")
    with pytest.raises(DataError, match=r"x\.imrmc: line 2: the truth row of case 'c1' has score '2'"):
        read_imrmc(io.StringIO("BEGIN DATA:\n-1,c1,t,2\nR1,c1,A,2\n"), source="x.imrmc")
    with pytest.raises(DataError, match=r"x\.imrmc: line 3, column 'rating' is 'nan'"):
        read_imrmc(io.StringIO("BEGIN DATA:\n-1,c1,t,1\nR1,c1,A,nan\n"), source="x.imrmc")
    with pytest.raises(DataError, match="file not found"):
        read_ratings(tmp_path / "nope.csv")


def test_not_fully_crossed_and_duplicates_are_named():
    rows = [(r, t, c, int(c == "c2"), 1.0) for r in ("1", "2") for t in ("A", "B") for c in ("c1", "c2", "c3")]
    table = pd.DataFrame(rows, columns=["reader", "treatment", "case", "truth", "rating"])
    with pytest.raises(DataError, match="not fully crossed: no rating for reader '2', case 'c3', treatment 'B'"):
        to_mrmc_data(table.iloc[:-1], source="s.csv")
    with pytest.raises(DataError, match="rated case 'c1' in treatment 'A' more than once"):
        to_mrmc_data(pd.concat([table, table.iloc[:1]]), source="s.csv")
    text = "reader,treatment,case,truth,rating\n1,A,c1,0,1\n1,A,c2,1,2\n1,A,c1,0,3\n"
    with pytest.raises(DataError, match=r"more than once \(lines 2 and 4\)"):
        to_mrmc_data(read_long_csv(io.StringIO(text), source="d.csv"), source="d.csv")


def test_cli_reports_bad_file_via_project_error(tmp_path):
    bad = tmp_path / "r.csv"
    bad.write_text("reader,case,truth,rating\n1,c,1,2\n")
    with pytest.raises(DataError, match=r"r\.csv: missing column"):
        reader_cmd.main(["analyze", str(bad)])
