"""Metadata tables as datasets ship them (CSV, XLSX, XLS) and finding the root wherever the user points."""
from __future__ import annotations

import pandas as pd
import pytest

from mammobench.data.adapters.layout import find_root
from mammobench.data.adapters.tables import read_table
from mammobench.errors import DataError

MARKERS = (("breast-level_annotations.csv",),)


def test_xlsx_and_xls_read_as_text_with_integral_floats_unfloated(tmp_path):
    import xlwt

    frame = pd.DataFrame({"ID1": ["D1-0001"], "Age": [44], "File Name ": [20586908.0]})
    frame.to_excel(tmp_path / "t.xlsx", index=False)
    book = xlwt.Workbook()
    sheet = book.add_sheet("Sheet1")
    for c, (name, value) in enumerate([("ID1", "D1-0001"), ("Age", 44.0), ("File Name ", 20586908.0)]):
        sheet.write(0, c, name)
        sheet.write(1, c, value)
    book.save(str(tmp_path / "t.xls"))
    for name in ("t.xlsx", "t.xls"):
        table = read_table(tmp_path / name, dataset="demo", required=("ID1", "File Name"))
        assert table.to_dict("records") == [{"ID1": "D1-0001", "Age": "44", "File Name": "20586908"}]


def test_bad_tables_name_the_file_the_column_and_the_hint(tmp_path):
    (tmp_path / "broken.xlsx").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(DataError, match="broken.xlsx: not a readable .xlsx spreadsheet"):
        read_table(tmp_path / "broken.xlsx", dataset="demo")
    (tmp_path / "t.csv").write_text("a,b\n1,2\n")
    with pytest.raises(DataError, match=r"lacks column\(s\) \['c'\].*see the card"):
        read_table(tmp_path / "t.csv", dataset="demo", required=("c",), hint="see the card")
    with pytest.raises(DataError, match="missing.csv not found; see the card"):
        read_table(tmp_path / "missing.csv", dataset="demo", hint="see the card")


def test_root_found_above_below_and_ambiguity_refused(tmp_path):
    release = tmp_path / "physionet.org" / "files" / "vindr-mammo" / "1.0.0"
    (release / "images" / "s1").mkdir(parents=True)
    (release / "breast-level_annotations.csv").write_text("x")
    assert find_root(tmp_path, MARKERS, dataset="vindr") == release  # three levels too high
    assert find_root(release / "images" / "s1", MARKERS, dataset="vindr") == release  # two levels too low
    copy = tmp_path / "copy"
    copy.mkdir()
    (copy / "breast-level_annotations.csv").write_text("x")
    with pytest.raises(DataError, match="2 copies of the dataset"):
        find_root(tmp_path, MARKERS, dataset="vindr")
    with pytest.raises(DataError, match="no nope.csv in .*point at the folder that holds nope.csv"):
        find_root(tmp_path / "physionet.org" / "files" / "vindr-mammo" / "1.0.0" / "images" / "s1" / ".." / "..",
                  (("nope.csv",),), dataset="vindr")
