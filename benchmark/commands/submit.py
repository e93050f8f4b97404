"""``mammobench submit RUN_DIR [--leaderboard DIR] [--generator NAME]``: package a signed result bundle.

The run must verify (``mammobench verify``) and have a rendered report. The bundle is written to
``<leaderboard>/results/<generator>@<version>/<task>/`` and signed with your key.

Example:
    $ mammobench submit runs/quick-2026-01-01
    bundle: leaderboard/results/ddpm@0.3.0/vc_malignancy
"""
from __future__ import annotations

import argparse
from pathlib import Path

from mammobench.leaderboard.bundle import submit


def main(argv: list[str]) -> int:
    """Entry point of ``mammobench submit``."""
    parser = argparse.ArgumentParser(prog="mammobench submit", description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--leaderboard", type=Path, default=Path("leaderboard"), help="leaderboard folder")
    parser.add_argument("--generator", help="the generator to submit when the run has several")
    args = parser.parse_args(argv)
    path = submit(args.run_dir, args.leaderboard, generator=args.generator)
    print(f"bundle: {path}\nnext: mammobench leaderboard build --dir {args.leaderboard}")
    return 0
