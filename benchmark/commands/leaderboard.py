"""``mammobench leaderboard build|check [--dir DIR]``: render or check the leaderboard from its bundles.

``build`` verifies every bundle and writes README.md and index.html (rejected bundles are listed
with their reason); ``check`` exits 1 when the committed outputs differ from a fresh build (for CI).

Example:
    $ mammobench leaderboard build
    accepted 3, rejected 0 → leaderboard/README.md, leaderboard/index.html
"""
from __future__ import annotations

import argparse
from pathlib import Path

from mammobench.leaderboard.build import build_leaderboard, check_up_to_date


def main(argv: list[str]) -> int:
    """Entry point of ``mammobench leaderboard``."""
    parser = argparse.ArgumentParser(prog="mammobench leaderboard", description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("build", "check"))
    parser.add_argument("--dir", type=Path, default=Path("leaderboard"), help="leaderboard folder")
    args = parser.parse_args(argv)
    if args.action == "check":
        stale = check_up_to_date(args.dir)
        if stale:
            print(f"out of date: {', '.join(stale)}; run `mammobench leaderboard build --dir {args.dir}`")
            return 1
        print(f"up to date: {args.dir}")
        return 0
    report = build_leaderboard(args.dir)
    print(f"accepted {len(report.rows)}, rejected {len(report.rejected)} → {args.dir / 'README.md'}, "
          f"{args.dir / 'index.html'}")
    for folder, reason in report.rejected:
        print(f"  rejected {folder}: {reason}")
    return 0
