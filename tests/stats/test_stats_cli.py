"""``mammobench stats auc``: published values, input as people have it, degenerate inputs, no tracebacks."""
from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, strategies as st
from sklearn.metrics import roc_auc_score

from mammobench.commands import stats as stats_cmd
from mammobench.errors import DataError, MammoBenchError, StatisticsError
from mammobench.stats.delong import delong_ci
from tests.helpers.fuzz_budget import ci
from tests.helpers.reference_data import ASAH


def _run(capsys, *argv) -> tuple[str, str]:
    assert stats_cmd.main(["auc", *map(str, argv)]) == 0
    out = capsys.readouterr()
    return out.out, out.err


def test_cli_text_and_json_reproduce_proc(capsys):
    argv = [ASAH, "--label", "outcome", "--score", "s100b", "--positive", "Poor", "--compare", "ndka"]
    out, _ = _run(capsys, *argv)
    assert "AUC 0.7314" in out and "0.6301-0.8326" in out and "Z = 1.3908" in out and "p-value = 0.1643" in out
    rec = json.loads(_run(capsys, *argv, "--json")[0])
    assert rec["n_pos"] == 41 and rec["n_neg"] == 72 and round(rec["compare"]["paired"]["z"], 4) == 1.3908
    assert rec["delimiter"] == "comma" and rec["compare"]["paired"]["n_dropped"] == 0


def test_cli_errors(tmp_path):
    f = tmp_path / "d.csv"
    f.write_text("y,s\nA,0.1\nB,0.2\n")
    with pytest.raises(DataError, match="--positive"):
        stats_cmd.main(["auc", str(f), "--label", "y", "--score", "s"])
    with pytest.raises(DataError, match="not found"):
        stats_cmd.main(["auc", str(f), "--label", "y", "--score", "nope", "--positive", "A"])
    with pytest.raises(DataError, match="no such file"):
        stats_cmd.main(["auc", str(tmp_path / "missing.csv"), "--label", "y", "--score", "s"])
    f.write_text("y,s\nA,0.1\nA,0.2\n")
    with pytest.raises(StatisticsError, match="undefined"):
        stats_cmd.main(["auc", str(f), "--label", "y", "--score", "s", "--positive", "A"])
    f.write_text("y,s\n1,0.1\n0,abc\n")
    with pytest.raises(DataError, match=r"d\.csv: line 3, column 's': 'abc' is not a number"):
        stats_cmd.main(["auc", str(f), "--label", "y", "--score", "s"])
    f.write_text("y,s\n1,0.1\n2,0.3\n")
    with pytest.raises(DataError, match=r"label 'y' is not 0/1 \(line 3: '2'"):
        stats_cmd.main(["auc", str(f), "--label", "y", "--score", "s"])


def test_one_positive_and_one_negative_say_ci_not_estimable(tmp_path, capsys):
    f = tmp_path / "two.csv"
    f.write_text("y,s\n1,0.9\n0,0.1\n")
    out, _ = _run(capsys, f, "--label", "y", "--score", "s")
    assert "AUC 1.0000, CI not estimable (n_pos=1)" in out
    rec = json.loads(_run(capsys, f, "--label", "y", "--score", "s", "--json")[0])
    assert rec["ci_low"] is None and rec["ci_high"] is None and rec["ci_note"] == "n_pos=1"


def test_constant_scores_and_small_classes(tmp_path, capsys):
    f = tmp_path / "const.csv"
    f.write_text("y,s\n" + "".join(f"{k % 2},0.5\n" for k in range(8)))
    out, err = _run(capsys, f, "--label", "y", "--score", "s")
    assert "AUC 0.5000, CI not estimable (all scores tie)" in out and "0.5000-0.5000" not in out
    rng = np.random.default_rng(3)
    f.write_text("y,s\n" + "".join(f"{int(k < 6)},{rng.normal() + (k < 6):.4f}\n" for k in range(60)))
    out, err = _run(capsys, f, "--label", "y", "--score", "s")
    assert "warning: s: few cases (6 positive, 54 negative; fewer than 10 in a class)" in err and "95% CI" in out


def test_nan_and_inf_are_left_out_the_same_way_and_counted(tmp_path, capsys):
    huge = "1" + "0" * 300  # 1e300 written as an integer
    f = tmp_path / "odd.csv"
    f.write_text(f"y,s\n1,{huge}\n0,5\n1,NaN\n0,inf\n1,\n0,-Infinity\n1,8\n0,1\n1,1e400\n0,2\nNA,3\n")
    rec = json.loads(_run(capsys, f, "--label", "y", "--score", "s", "--json")[0])
    assert rec["dropped"] == {"missing_label": 1, "missing": 2, "infinite": 3} and rec["n_dropped"] == 6
    keep_y, keep_s = [1, 0, 1, 0, 0], [1e300, 5, 8, 1, 2]
    assert rec["auc"] == pytest.approx(roc_auc_score(keep_y, keep_s))
    out, _ = _run(capsys, f, "--label", "y", "--score", "s")
    assert "6 row(s) left out: 1 without a label, 2 with a missing score, 3 with an infinite score" in out


def test_compare_reports_each_auc_on_its_own_rows_and_the_paired_drop(tmp_path, capsys):
    rng = np.random.default_rng(1)
    n = 80
    y = (rng.random(n) < 0.4).astype(int)
    a, b = rng.normal(size=n) + y, rng.normal(size=n) + 0.5 * y
    a_txt = [f"{v:.5f}" if k % 7 else "" for k, v in enumerate(a)]  # every 7th row has no 'a'
    b_txt = [f"{v:.5f}" if k % 5 else "NaN" for k, v in enumerate(b)]
    f = tmp_path / "two.csv"
    f.write_text("y,a,b\n" + "".join(f"{yy},{aa},{bb}\n" for yy, aa, bb in zip(y, a_txt, b_txt)))
    rec = json.loads(_run(capsys, f, "--label", "y", "--score", "a", "--compare", "b", "--json")[0])
    has_a, has_b = np.array([k % 7 != 0 for k in range(n)]), np.array([k % 5 != 0 for k in range(n)])
    assert rec["compare"]["auc"] == pytest.approx(delong_ci(y[has_b], np.round(b[has_b], 5)).auc)
    assert rec["compare"]["n_rows"] == has_b.sum() and rec["n_rows"] == has_a.sum()
    paired = rec["compare"]["paired"]
    assert paired["n_rows"] == (has_a & has_b).sum() and paired["n_dropped"] == (has_a ^ has_b).sum()
    out, _ = _run(capsys, f, "--label", "y", "--score", "a", "--compare", "b")
    assert f"on the {(has_a & has_b).sum()} rows with both scores ({(has_a ^ has_b).sum()} row(s) with only one " \
           "score dropped)" in out


def test_compare_equal_to_score_is_a_clear_error(tmp_path):
    f = tmp_path / "d.csv"
    f.write_text("y,s\n1,0.9\n0,0.1\n")
    with pytest.raises(DataError, match="--compare names the same column as --score"):
        stats_cmd.main(["auc", str(f), "--label", "y", "--score", "s", "--compare", "s"])


def test_lower_is_positive_and_delimiters(tmp_path, capsys):
    rng = np.random.default_rng(2)
    y = (rng.random(50) < 0.5).astype(int)
    s, t = np.round(rng.normal(size=50) - y, 3), np.round(rng.normal(size=50) + y, 3)
    f = tmp_path / "semi.csv"  # a spreadsheet export with decimal commas
    f.write_text("y;s;t\n" + "".join(f"{a};{str(b).replace('.', ',')};{str(c).replace('.', ',')}\n"
                                     for a, b, c in zip(y, s, t)))
    rec = json.loads(_run(capsys, f, "--label", "y", "--score", "s", "--compare", "t", "--lower-is-positive", "s",
                          "--json")[0])
    assert rec["delimiter"] == "semicolon" and rec["direction"] == {"s": "lower is positive", "t": "higher is positive"}
    assert rec["auc"] == pytest.approx(roc_auc_score(y, -s)) and rec["compare"]["auc"] == pytest.approx(roc_auc_score(y, t))
    both = json.loads(_run(capsys, f, "--label", "y", "--score", "s", "--lower-is-positive", "--json")[0])
    assert both["auc"] == pytest.approx(1 - roc_auc_score(y, s))
    g = tmp_path / "tab.tsv"
    g.write_text("y\ts\n" + "".join(f"{a}\t{b}\n" for a, b in zip(y, s)))
    assert json.loads(_run(capsys, g, "--label", "y", "--score", "s", "--json")[0])["auc"] == pytest.approx(
        roc_auc_score(y, s))
    with pytest.raises(DataError, match="--lower-is-positive names"):
        stats_cmd.main(["auc", str(f), "--label", "y", "--score", "s", "--lower-is-positive", "x"])


@pytest.mark.parametrize("text", ["", "\n\n", "y,s\n", "y,s\n1,\n0,\n", "y,s\n1,inf\n0,nan\n", "\x00\x01binary"])
def test_empty_and_hopeless_files_fail_with_a_message(tmp_path, text):
    f = tmp_path / "bad.csv"
    f.write_text(text)
    with pytest.raises(MammoBenchError, match="bad.csv|no row|undefined"):
        stats_cmd.main(["auc", str(f), "--label", "y", "--score", "s"])


NUMBERS = st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr), st.integers(-10**400, 10**400).map(str),
                    st.sampled_from(["", "NA", "nan", "-Inf", "inf", "1e309", "-1e-400", "0,5", "1.5e300", "0x1", "--1"]))


@ci(40)
@given(rows=st.lists(st.tuples(st.sampled_from(["0", "1", "", "2", "1.0"]), NUMBERS, NUMBERS), min_size=0, max_size=12),
       compare=st.sampled_from([None, "t", "s"]), lower=st.booleans())
def test_no_traceback_for_any_numeric_input(tmp_path_factory, rows, compare, lower):
    """Any numeric cell (huge integers, NaN, inf, decimal commas, junk): an answer or a MammoBenchError."""
    f = tmp_path_factory.mktemp("n") / "x.csv"
    f.write_text("y,s,t\n" + "".join(f'{a},"{b}","{c}"\n' for a, b, c in rows))
    argv = ["auc", str(f), "--label", "y", "--score", "s"] + (["--compare", compare] if compare else [])
    try:
        assert stats_cmd.main(argv + (["--lower-is-positive"] if lower else []) + ["--json"]) == 0
    except MammoBenchError:
        pass
