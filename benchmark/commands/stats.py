"""``mammobench stats``: independent statistics on any CSV (AUC with DeLong CI, paired DeLong test).

Input as people have it: comma, semicolon, tab or ``|`` separated (sniffed), decimal commas in
non-comma files, numbers of any size. Rows whose label or score is missing (empty, ``NA``, ``NaN``)
or infinite (``inf``, ``1e400``) are left out of that score's AUC — the same rule for NaN and inf,
as pROC's ``na.rm`` — and counted in the output. With ``--compare`` each score's AUC uses every
row that has that score, and the paired test the rows that have both (the number it drops is
printed). Degenerate inputs (one case of a class, every score tied, complete separation) give
"CI not estimable" with the reason; classes under 10 cases give a warning.

Example:
    $ mammobench stats auc ../shared/data/asah.csv --label outcome --score s100b --positive Poor
    $ mammobench stats auc data.csv --label y --score model_a --compare model_b --json
    $ mammobench stats auc data.csv --label y --score psa_ratio --lower-is-positive
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from mammobench.errors import DataError
from mammobench.io import to_json_text
from mammobench.stats.delimited import DelimitedTable, read_delimited
from mammobench.stats.delong import delong_ci, paired_delong_test

METHOD = "DeLong (fast mid-rank, Sun & Xu 2014); Wald CI on the AUC scale"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mammobench stats", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="action", required=True)
    auc = sub.add_parser("auc", help="AUC with DeLong CI; --compare adds the paired DeLong test")
    auc.add_argument("file", type=Path, help="delimited text file (CSV, ;, tab), one row per case")
    auc.add_argument("--label", required=True, help="column holding the truth")
    auc.add_argument("--score", required=True, help="column holding the score (higher = positive by default)")
    auc.add_argument("--positive", default=None,
                     help="label value meaning positive (default: the label column must be 0/1)")
    auc.add_argument("--compare", default=None, help="second score column for the paired DeLong test")
    auc.add_argument("--lower-is-positive", nargs="*", default=None, metavar="COLUMN",
                     help="lower scores mean positive (pROC direction '>'): for every score column, or only "
                          "for the COLUMNs named")
    auc.add_argument("--alpha", type=float, default=0.05, help="1 - confidence level (default 0.05)")
    auc.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    return parser


def load_table(path: Path) -> DelimitedTable:
    """Read ``path`` as delimited text.

    Raises:
        DataError: a missing, binary or empty file.
    """
    if not path.is_file():
        raise DataError(f"{path}: no such file; give the path of a CSV with one row per case")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        raise DataError(f"{path}: not a UTF-8 text file ({err}); export the table as CSV") from err
    return read_delimited(text, source=str(path))


def _labels(table: DelimitedTable, label: str, positive: str | None) -> np.ndarray:
    """1.0 / 0.0 per row, NaN where the label is missing."""
    cells = table.frame[label]
    missing = cells.str.lower().isin({"", "na", "n/a", "nan", "null", "none"}).to_numpy()
    if positive is not None:
        y = (cells.to_numpy() == str(positive).strip()).astype(float)
        if not np.any(y[~missing]):
            raise DataError(f"{table.source}: no row of '{label}' equals --positive {positive!r}; "
                            f"values present: {sorted(set(cells[~missing]))[:10]}")
        return np.where(missing, np.nan, y)
    try:
        values = table.numbers(label)
    except DataError as err:
        raise DataError(f"{err}; label '{label}' must be 0/1 unless you pass --positive VALUE to name the positive "
                        "class") from None
    bad = np.isfinite(values) & ~np.isin(values, (0.0, 1.0)) | np.isinf(values)
    if bad.any():
        raise DataError(f"{table.source}: label '{label}' is not 0/1 (line {table.lines[np.flatnonzero(bad)[0]]}: "
                        f"{cells.iloc[int(np.flatnonzero(bad)[0])]!r}; values {sorted(set(cells))[:10]}); "
                        "pass --positive VALUE to name the positive class")
    return values


def _score(table: DelimitedTable, column: str, lower: bool) -> tuple[np.ndarray, dict[str, int]]:
    """Scores (negated when lower is positive) and the counts of missing / infinite cells."""
    values = table.numbers(column)
    counts = {"missing": int(np.isnan(values).sum()), "infinite": int(np.isinf(values).sum())}
    return (-values if lower else values), counts


def _auc_record(y: np.ndarray, s: np.ndarray, name: str, dropped: dict, alpha: float) -> dict:
    keep = np.isfinite(y) & np.isfinite(s)
    if not keep.any():
        raise DataError(f"column '{name}': no row has both a label and a finite score")
    res = delong_ci(y[keep], s[keep], alpha=alpha)
    return {"score": name, "n_pos": res.n_pos, "n_neg": res.n_neg, "auc": res.auc, "se": res.se,
            "ci_low": res.ci_low, "ci_high": res.ci_high, "ci_note": res.note, "warnings": list(res.warnings),
            "n_rows": int(keep.sum()), "n_dropped": int((~keep).sum()), "dropped": dropped}


def _paired_record(y: np.ndarray, s1: np.ndarray, s2: np.ndarray, alpha: float) -> dict:
    keep = np.isfinite(y) & np.isfinite(s1) & np.isfinite(s2)
    test = paired_delong_test(y[keep], s1[keep], s2[keep], alpha=alpha)
    yk = y[keep]
    return {"n_rows": int(keep.sum()), "n_pos": int(yk.sum()), "n_neg": int((1 - yk).sum()),
            "n_dropped": int((np.isfinite(y) & (np.isfinite(s1) | np.isfinite(s2)) & ~keep).sum()),
            "difference": test.difference, "diff_se": test.se, "diff_ci_low": test.ci_low,
            "diff_ci_high": test.ci_high, "z": test.z, "p_value": test.p_value, "correlation": test.correlation,
            "note": test.note, "method": "paired DeLong test (two-sided) on the rows that have both scores"}


def build_record(args: argparse.Namespace) -> dict:
    """Everything ``stats auc`` reports, as one JSON-ready dict."""
    table = load_table(args.file)
    columns = [args.label, args.score] + ([args.compare] if args.compare else [])
    missing = [c for c in columns if c not in table.frame.columns]
    if missing:
        raise DataError(f"{args.file}: column(s) {missing} not found; available: {list(table.frame.columns)}")
    if args.compare == args.score:
        raise DataError(f"--compare names the same column as --score ({args.score!r}); a paired test needs two "
                        "different score columns")
    lower = _lower_columns(args, columns[1:])
    y = _labels(table, args.label, args.positive)
    n_missing_label = int(np.isnan(y).sum())
    s1, d1 = _score(table, args.score, args.score in lower)
    main = _auc_record(y, s1, args.score, {"missing_label": n_missing_label, **d1}, args.alpha)
    record = {"file": str(args.file), "delimiter": table.delimiter_name, "label": args.label,
              "positive": args.positive, "direction": {c: "lower is positive" if c in lower else "higher is positive"
                                                       for c in columns[1:]},
              **main, "n_dropped_missing": main["n_dropped"], "conf_level": 1 - args.alpha, "method": METHOD}
    if args.compare:
        s2, d2 = _score(table, args.compare, args.compare in lower)
        record["compare"] = {**_auc_record(y, s2, args.compare, {"missing_label": n_missing_label, **d2},
                                           args.alpha), "paired": _paired_record(y, s1, s2, args.alpha)}
    return record


def _lower_columns(args: argparse.Namespace, scores: list[str]) -> set[str]:
    if args.lower_is_positive is None:
        return set()
    if not args.lower_is_positive:
        return set(scores)
    unknown = sorted(set(args.lower_is_positive) - set(scores))
    if unknown:
        raise DataError(f"--lower-is-positive names {unknown}, which are not --score or --compare ({scores})")
    return set(args.lower_is_positive)


def _ci_text(rec: dict, pct: str) -> str:
    if rec["ci_note"]:
        return f"AUC {rec['auc']:.4f}, CI not estimable ({rec['ci_note']})"
    return f"AUC {rec['auc']:.4f}  {pct} CI {rec['ci_low']:.4f}-{rec['ci_high']:.4f} (DeLong)  SE {rec['se']:.4f}"


def _dropped_text(rec: dict) -> str:
    if not rec["n_dropped"]:
        return ""
    d = rec["dropped"]
    parts = [f"{d[k]} {what}" for k, what in (("missing_label", "without a label"), ("missing", "with a missing score"),
                                              ("infinite", "with an infinite score")) if d[k]]
    return f"; {rec['n_dropped']} row(s) left out: " + ", ".join(parts)


def format_text(rec: dict) -> str:
    """The text ``stats auc`` prints.

    Example:
        >>> rec = {"file": "f.csv", "score": "s", "label": "y", "positive": None, "n_pos": 1, "n_neg": 1,
        ...        "auc": 1.0, "ci_note": "n_pos=1", "n_dropped": 0, "conf_level": 0.95,
        ...        "direction": {"s": "higher is positive"}}
        >>> print(format_text(rec).splitlines()[-1])
          AUC 1.0000, CI not estimable (n_pos=1)
    """
    pct = f"{100 * rec['conf_level']:g}%"
    positive = f" (positive = {rec['positive']})" if rec["positive"] is not None else ""
    lower = " (lower is positive)" if rec["direction"][rec["score"]] == "lower is positive" else ""
    lines = [f"{rec['file']}: {rec['score']}{lower} vs {rec['label']}{positive}",
             f"  cases: {rec['n_pos']} positive, {rec['n_neg']} negative{_dropped_text(rec)}",
             f"  {_ci_text(rec, pct)}"]
    if "compare" in rec:
        c, p = rec["compare"], rec["compare"]["paired"]
        lower = " (lower is positive)" if rec["direction"][c["score"]] == "lower is positive" else ""
        lines += [f"  {c['score']}{lower}: {c['n_pos']} positive, {c['n_neg']} negative{_dropped_text(c)}",
                  f"  {c['score']}: {_ci_text(c, pct)}",
                  f"  paired DeLong test, {rec['score']} - {c['score']}, on the {p['n_rows']} rows with both scores"
                  f"{' (' + str(p['n_dropped']) + ' row(s) with only one score dropped)' if p['n_dropped'] else ''}:"]
        ci = (f"{pct} CI not estimable: {p['note'][len('CI not estimable: '):]}" if p["note"] else
              f"{pct} CI {p['diff_ci_low']:.4f} to {p['diff_ci_high']:.4f}")
        lines.append(f"    difference {p['difference']:.4f} ({ci}), Z = {p['z']:.4f}, p-value = {p['p_value']:.4f}")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    """Run ``mammobench stats``; returns the exit code."""
    args = _parser().parse_args(argv)
    if not 0.0 < args.alpha < 1.0:
        raise DataError(f"--alpha must lie in (0, 1); got {args.alpha}")
    record = build_record(args)
    for rec in [record] + ([record["compare"]] if "compare" in record else []):
        for warning in rec["warnings"]:
            print(f"mammobench stats: warning: {rec['score']}: {warning}", file=sys.stderr)
    print(to_json_text(record).rstrip("\n") if args.json else format_text(record))
    return 0
