"""``mammobench reproduce RUN_DIR|BUNDLE``: re-run a finished run here and compare every number and verdict.

The run (or leaderboard bundle) must verify — intact, validly signed by a trusted key — and its code
version must be this checkout's; otherwise it is refused unless ``--force``. It is re-run from its
recorded task, profile, seeds and generators into ``--out``; every reported number is compared with
a tolerance of k × (between-seed SD) / sqrt(n_seeds) (docs/leaderboard.md, "Reproducing a run"),
counts must be equal, and every verdict must be the same.

Exit status: 0 when every number is within its tolerance and every verdict is the same; 1 otherwise;
2 when the source is refused. The full table is written next to the re-run (``<run>.reproduce.csv``,
``<run>.reproduce.json``).

Example:
    $ mammobench reproduce runs/vc_lesion-smoke --out runs/reproduced
"""
from __future__ import annotations

import argparse
from pathlib import Path

HEADER = f"{'quantity':<78} {'original':>12} {'reproduced':>12} {'difference':>11} {'tolerance':>10}  within"


def _fmt(x) -> str:
    return "–" if x is None else f"{x:.6g}"


def _line(row: dict) -> str:
    quantity = f"{row['kind']} {row['record']} {row['field']}"
    if len(quantity) > 78:
        quantity = quantity[:75] + "..."
    return (f"{quantity:<78} {_fmt(row['original']):>12} {_fmt(row['reproduced']):>12} {_fmt(row['difference']):>11} "
            f"{_fmt(row['tolerance']):>10}  {'yes' if row['within'] else 'NO'}")


def _headline(row: dict) -> bool:
    """The overall test numbers of each arm: printed even when within tolerance."""
    rec = row["record"]
    return row["kind"] in ("metrics", "comparisons") and "attribute=" not in rec and "seed=" not in rec and (
        "split=test" in rec or row["kind"] == "comparisons") and row["field"] in ("value", "estimate", "ci_low",
                                                                                  "ci_high", "p_adjusted")


def print_outcome(outcome, show_all: bool) -> None:
    rows = outcome.rows if show_all else [r for r in outcome.rows if _headline(r) or not r["within"]]
    print(HEADER)
    for row in rows:
        print(_line(row))
    outside = [r for r in outcome.rows if not r["within"]]
    differ = [v for v in outcome.verdicts if not v["same"]]
    for v in differ:
        print(f"verdict differs: {v['kind']} {v['record']} {v['field']}: {v['original']!r} → {v['reproduced']!r}")
    for line in outcome.input_differences:
        print(f"input differs: {line}")
    print(f"{len(outcome.rows)} numbers compared ({len(rows)} shown; --all for every one), {len(outside)} outside "
          f"tolerance; tolerances from the {outcome.spread_from} run's {outcome.n_seeds} seeds")
    print(f"{len(outcome.verdicts)} verdicts: {'every verdict is the same' if not differ else f'{len(differ)} differ'}")
    print(f"REPRODUCED: {outcome.source.path} → {outcome.run_dir}" if outcome.ok
          else f"NOT REPRODUCED: {outcome.source.path} → {outcome.run_dir}")


def main(argv: list[str]) -> int:
    """Entry point of ``mammobench reproduce``."""
    parser = argparse.ArgumentParser(prog="mammobench reproduce", description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="a finished run folder or a leaderboard bundle")
    parser.add_argument("--out", type=Path, default=Path("runs/reproduced"), help="parent folder of the re-run")
    parser.add_argument("--force", action="store_true", help="go on when the source does not verify or the code differs")
    parser.add_argument("--k", type=float, default=3.0, help="tolerance multiplier of the seed-to-seed SE (default 3)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads per cell (default 1, as `run`)")
    parser.add_argument("--executor", choices=("auto", "local", "process", "ray"), default="auto")
    parser.add_argument("--all", action="store_true", help="print every number, not only headline and failing ones")
    args = parser.parse_args(argv)
    from mammobench.pipeline.reproduce import reproduce

    outcome = reproduce(args.source, out=args.out, force=args.force, k=args.k, threads=args.threads,
                        executor=args.executor)
    print_outcome(outcome, args.all)
    return 0 if outcome.ok else 1
