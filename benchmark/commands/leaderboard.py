"""``mammobench leaderboard build|check|bundles``: render, check or (re)produce the leaderboard.

``build`` verifies every bundle against ``display.yaml`` ``trusted_keys`` and writes README.md and
index.html (rejected bundles are listed with their reason and key fingerprint); it exits 1 when it
rejects a bundle. ``check`` exits 1 when the committed outputs differ from a fresh build (for CI).
``bundles`` runs every built-in virtual-cohort task at a profile with every baseline as an arm and
submits one bundle per baseline (``make leaderboard-bundles``; sign with the project's key).

Example:
    $ mammobench leaderboard build
    accepted 5, rejected 0 (1 trusted key) → leaderboard/README.md, leaderboard/index.html
"""
from __future__ import annotations

import argparse
from pathlib import Path

from mammobench.leaderboard.build import build_leaderboard, check_up_to_date
from mammobench.leaderboard.bundles import BASELINES


def _bundles(args: argparse.Namespace) -> int:
    from mammobench.leaderboard.bundles import produce_bundles

    paths = produce_bundles(args.dir, generators=tuple(args.generators.split(",")), profile=args.profile,
                            out=args.out, key_path=args.key, tasks=tuple(args.tasks.split(",")) if args.tasks else None)
    for path in paths:
        print(f"bundle: {path}")
    return 0


def main(argv: list[str]) -> int:
    """Entry point of ``mammobench leaderboard``."""
    parser = argparse.ArgumentParser(prog="mammobench leaderboard", description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("build", "check", "bundles"))
    parser.add_argument("--dir", type=Path, default=Path("leaderboard"), help="leaderboard folder")
    parser.add_argument("--profile", default="quick", help="bundles: run profile (default quick)")
    parser.add_argument("--generators", default=",".join(BASELINES), help="bundles: generators to submit")
    parser.add_argument("--tasks", default=None, help="bundles: tasks (default: every built-in virtual-cohort task)")
    parser.add_argument("--out", type=Path, default=Path("runs"), help="bundles: parent folder of the runs")
    parser.add_argument("--key", type=Path, default=None, help="bundles: signing key (default: MAMMOBENCH_SIGNING_KEY)")
    args = parser.parse_args(argv)
    if args.action == "bundles":
        return _bundles(args)
    if args.action == "check":
        stale = check_up_to_date(args.dir)
        if stale:
            print(f"out of date: {', '.join(stale)}; run `mammobench leaderboard build --dir {args.dir}`")
            return 1
        print(f"up to date: {args.dir}")
        return 0
    report = build_leaderboard(args.dir)
    print(f"accepted {len(report.rows)}, rejected {len(report.rejected)} ({report.trusted_keys} trusted key(s)) → "
          f"{args.dir / 'README.md'}, {args.dir / 'index.html'}")
    if not report.trusted_keys:
        print("warning: display.yaml trusted_keys is empty, so no bundle can be accepted; add a key's full "
              "fingerprint by a pull request (docs/leaderboard.md)")
    for folder, reason, fingerprint in report.rejected:
        print(f"  rejected {folder} (key {fingerprint or 'unreadable'}): {reason}")
    return 1 if report.rejected else 0
