"""``mammobench stats``: independent statistics on any CSV (AUC with DeLong CI, paired DeLong test).

Example:
    $ mammobench stats auc ../shared/data/asah.csv --label outcome --score s100b --positive Poor
    $ mammobench stats auc data.csv --label y --score model_a --compare model_b --json
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from mammobench.errors import DataError
from mammobench.stats.delong import delong_ci, paired_delong_test


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mammobench stats", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="action", required=True)
    auc = sub.add_parser("auc", help="AUC with DeLong CI; --compare adds the paired DeLong test")
    auc.add_argument("file", type=Path, help="CSV file, one row per case")
    auc.add_argument("--label", required=True, help="column holding the truth")
    auc.add_argument("--score", required=True, help="column holding the score (higher = positive)")
    auc.add_argument("--positive", default=None,
                     help="label value meaning positive (default: the label column must be 0/1)")
    auc.add_argument("--compare", default=None, help="second score column for the paired DeLong test")
    auc.add_argument("--alpha", type=float, default=0.05, help="1 - confidence level (default 0.05)")
    auc.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    return parser


def load_columns(path: Path, label: str, scores: list[str], positive: str | None) -> tuple[np.ndarray, pd.DataFrame, int]:
    """Read ``path`` and return (0/1 labels, numeric score frame, number of rows dropped for NA).

    Rows with a missing label or score are dropped (as pROC's ``na.rm``) and counted.

    Raises:
        DataError: unreadable file, missing column, non-numeric score or non-binary label.
    """
    if not path.is_file():
        raise DataError(f"{path}: no such file; give the path of a CSV with one row per case")
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as err:
        raise DataError(f"{path}: cannot parse as CSV ({err})") from err
    missing = [c for c in [label, *scores] if c not in frame.columns]
    if missing:
        raise DataError(f"{path}: column(s) {missing} not found; available: {list(frame.columns)}")
    used = frame[[label, *scores]]
    keep = used.notna().all(axis=1)
    used = used[keep]
    values = {}
    for col in scores:
        numeric = pd.to_numeric(used[col], errors="coerce")
        if numeric.isna().any():
            bad = used[col][numeric.isna()].iloc[0]
            raise DataError(f"{path}: score column '{col}' has a non-numeric value {bad!r}")
        values[col] = numeric.to_numpy(float)
    y = _binarise(used[label], positive, path, label)
    return y, pd.DataFrame(values), int((~keep).sum())


def _binarise(column: pd.Series, positive: str | None, path: Path, label: str) -> np.ndarray:
    if positive is not None:
        y = column.astype(str).str.strip().to_numpy() == str(positive)
        if not y.any():
            raise DataError(f"{path}: no row of '{label}' equals --positive {positive!r}; "
                            f"values present: {sorted(column.astype(str).unique())[:10]}")
        return y.astype(int)
    numeric = pd.to_numeric(column, errors="coerce")
    if numeric.isna().any() or not numeric.isin([0, 1]).all():
        raise DataError(f"{path}: label '{label}' is not 0/1 (values {sorted(column.astype(str).unique())[:10]}); "
                        f"pass --positive VALUE to name the positive class")
    return numeric.to_numpy(int)


def _auc_record(y: np.ndarray, scores: pd.DataFrame, args: argparse.Namespace, n_dropped: int) -> dict:
    res = delong_ci(y, scores[args.score].to_numpy(), alpha=args.alpha)
    record = {"file": str(args.file), "label": args.label, "positive": args.positive, "score": args.score,
              "n_pos": res.n_pos, "n_neg": res.n_neg, "n_dropped_missing": n_dropped, "auc": res.auc,
              "se": res.se, "ci_low": res.ci_low, "ci_high": res.ci_high, "conf_level": 1 - args.alpha,
              "method": "DeLong (fast mid-rank, Sun & Xu 2014); Wald CI on the AUC scale; direction controls < cases"}
    if args.compare:
        other = delong_ci(y, scores[args.compare].to_numpy(), alpha=args.alpha)
        test = paired_delong_test(y, scores[args.score].to_numpy(), scores[args.compare].to_numpy(), alpha=args.alpha)
        record["compare"] = {"score": args.compare, "auc": other.auc, "se": other.se, "ci_low": other.ci_low,
                             "ci_high": other.ci_high, "difference": test.difference, "diff_se": test.se,
                             "diff_ci_low": test.ci_low, "diff_ci_high": test.ci_high, "z": test.z,
                             "p_value": test.p_value, "correlation": test.correlation,
                             "method": "paired DeLong test (two-sided)"}
    return record


def _format_text(rec: dict) -> str:
    pct = f"{100 * rec['conf_level']:g}%"
    lines = [f"{rec['file']}: {rec['score']} vs {rec['label']}"
             f"{' (positive = ' + str(rec['positive']) + ')' if rec['positive'] is not None else ''}",
             f"  cases: {rec['n_pos']} positive, {rec['n_neg']} negative"
             f"{', ' + str(rec['n_dropped_missing']) + ' dropped (missing values)' if rec['n_dropped_missing'] else ''}",
             f"  AUC {rec['auc']:.4f}  {pct} CI {rec['ci_low']:.4f}-{rec['ci_high']:.4f} (DeLong)  SE {rec['se']:.4f}"]
    if "compare" in rec:
        c = rec["compare"]
        lines += [f"  {c['score']}: AUC {c['auc']:.4f}  {pct} CI {c['ci_low']:.4f}-{c['ci_high']:.4f} (DeLong)",
                  f"  paired DeLong test, {rec['score']} - {c['score']}: difference {c['difference']:.4f} "
                  f"({pct} CI {c['diff_ci_low']:.4f} to {c['diff_ci_high']:.4f}), Z = {c['z']:.4f}, "
                  f"p-value = {c['p_value']:.4f}"]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    """Run ``mammobench stats``; returns the exit code."""
    args = _parser().parse_args(argv)
    columns = [args.score] + ([args.compare] if args.compare else [])
    y, scores, n_dropped = load_columns(args.file, args.label, columns, args.positive)
    if n_dropped:
        print(f"mammobench stats: note: {n_dropped} row(s) with missing values dropped", file=sys.stderr)
    record = _auc_record(y, scores, args, n_dropped)
    print(json.dumps(record, indent=2) if args.json else _format_text(record))
    return 0
