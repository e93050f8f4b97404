"""Parse an OR-DBM MRMC 2.51 output listing (University of Iowa) into numbers with their printed digits.

The listings in ``tests/fixtures/iowa/`` are the program's own text output; each number comes back as
``(value, decimals)`` so a test can demand agreement "to the printed digits":
``|ours − printed| ≤ ½·10^−decimals``.
"""
from __future__ import annotations

import re
from pathlib import Path

NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+\.\d*|\.\d+|\d+)(?![\w.])")
PAIR = re.compile(r"^\s*(\d+)\s+-\s+(\d+)\s+(.*)$")


def _nums(text: str) -> list[tuple[float, int]]:
    out = []
    for tok in NUMBER.findall(text):
        decimals = len(tok.split(".")[1]) if "." in tok else 0
        out.append((float(tok), decimals))
    return out


def _between(text: str, start: str, end: str | None) -> str:
    i = text.index(start)
    j = text.index(end, i) if end else len(text)
    return text[i:j]


def _rows(block: str, pattern: str) -> list[str]:
    return [line for line in block.splitlines() if re.match(pattern, line) and not line.strip().startswith("Conclusion")]


def _pairs(block: str) -> dict[tuple[int, int], list[tuple[float, int]]]:
    out = {}
    for line in block.splitlines():
        m = PAIR.match(line)
        if m:
            out[(int(m.group(1)), int(m.group(2)))] = _nums(m.group(3))
    return out


def _indexed(block: str) -> dict[int, list[tuple[float, int]]]:
    """Rows that start with a treatment/reader number followed only by numbers (no 'i - j')."""
    out = {}
    for line in block.splitlines():
        if re.match(r"^\s*\d+\s+[-\d.(]", line) and not re.search(r"\d\s+-\s+\d", line):
            nums = _nums(line)
            out.setdefault(int(nums[0][0]), []).append(nums[1:])
    return out


def parse_listing(path: Path) -> dict:
    """The quantities of one listing, keyed by section (see the tests for how they map to ours)."""
    text = path.read_text(encoding="utf-8")
    est = _between(text, "TREATMENT x READER AUC ESTIMATES", "TREATMENT AUC MEANS")
    means = _between(text, "TREATMENT AUC MEANS", "TREATMENT AUC MEAN DIFFERENCES")
    anova = _between(text, "TREATMENT X READER ANOVA", "READER ANOVAs")
    reader_anova = _between(text, "READER ANOVAs", "Variance component")
    orc = _between(text, "Obuchowski-Rockette variance component", "Corresponding DBM")
    a1 = _between(text, "Analysis 1 (OR Analysis)", "Analysis 2 (OR Analysis)")
    a2 = _between(text, "Analysis 2 (OR Analysis)", "Analysis 3 (OR Analysis)")
    a3 = _between(text, "Analysis 3 (OR Analysis)", "REFERENCES")
    parts2 = re.split(r"\n\s+[bcd]\) ", a2)
    parts1, parts3 = re.split(r"\n\s+[bc]\) ", a1), re.split(r"\n\s+[bc]\) ", a3)
    return {
        "reader_aucs": {k: v[0] for k, v in _indexed(_between(est, "------    ", None)).items()},
        "treatment_means": {k: v[0][0] for k, v in _indexed(means).items()},
        "anova": {m.group(1): _nums(m.group(2)) for m in
                  (re.match(r"^\s*(T|R|T\*R)\s+(.*)$", line) for line in anova.splitlines()) if m},
        "ms_r_by_treatment": _nums(_rows(reader_anova, r"^\s+R\s+\d")[0])[1:],
        "or": {m.group(1): _nums(m.group(2)) for m in
               (re.match(r"^\s*(Var\(R\)|Var\(T\*R\)|COV1|COV2|COV3|Var\(Error\))\s+(.*)$", line)
                for line in orc.splitlines()) if m},
        "rrrc": {"treatment": _nums(_rows(parts1[0], r"^\s+Treatment\s+\d")[0]),
                 "error": _nums(_rows(parts1[0], r"^\s+Error term\s+\d")[0]),
                 "differences": _pairs(parts1[1]), "single": _indexed(parts1[2])},
        "frrc": {"chisq": _nums(_rows(parts2[0], r"^\s+[\d.]+\s+\d+\s+[\d.]+\s*$")[0]),
                 "differences": _pairs(parts2[1]), "single": _indexed(parts2[2]),
                 "readers": _reader_pairs(parts2[3]), "reader_var": _indexed(parts2[3])},
        "rrfc": {"treatment": _nums(_rows(parts3[0], r"^\s+Treatment\s+\d")[0]),
                 "tr": _nums(_rows(parts3[0], r"^\s+T\*R\s+\d")[0]),
                 "differences": _pairs(parts3[1]), "single": _indexed(parts3[2])},
    }


def _reader_pairs(block: str) -> dict[tuple[int, int, int], list[tuple[float, int]]]:
    out = {}
    for line in block.splitlines():
        m = re.match(r"^\s*(\d+)\s+(\d+)\s+-\s+(\d+)\s+(.*)$", line)
        if m:
            out[(int(m.group(1)), int(m.group(2)), int(m.group(3)))] = _nums(m.group(4))
    return out
