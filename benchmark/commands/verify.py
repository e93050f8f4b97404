"""``mammobench verify RUN_DIR``: check a run folder against its signed manifest.

Exit 0 when the signature holds and every artefact matches; 1 naming each changed, missing or
added file (or the signature problem).

Example:
    $ mammobench verify runs/quick-2026-01-01
    verified: runs/quick-2026-01-01 (42 files, key 3f2a…)
"""
from __future__ import annotations

import argparse

from mammobench.io import read_json
from mammobench.report.provenance import MANIFEST, verify_run


def main(argv: list[str]) -> int:
    """Entry point of ``mammobench verify``."""
    parser = argparse.ArgumentParser(prog="mammobench verify", description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", help="run folder holding manifest.json, manifest.sig, signing_key.pub")
    parser.add_argument("--trust", action="append", default=[], metavar="FINGERPRINT",
                        help="accept only this key fingerprint (repeatable)")
    args = parser.parse_args(argv)
    report = verify_run(args.run_dir, tuple(args.trust))
    if report.ok:
        n = len(read_json(f"{args.run_dir}/{MANIFEST}")["files"])
        print(f"verified: {args.run_dir} ({n} files, key {report.key_fingerprint[:16]}…)")
        return 0
    print(f"FAILED: {args.run_dir}")
    for line in report.lines():
        print(f"  {line}")
    return 1
