"""``mammobench submit RUN_DIR [--generator NAME] [--key PATH]``: package a run as a signed leaderboard bundle.

The run must be intact, validly signed by a key you trust (your own, ``--trust``, or your
trusted-keys file) and have a rendered report. The bundle is written to
``<leaderboard>/results/<generator>@<version>/<task>/`` and signed with your key (``--key``, else
``MAMMOBENCH_SIGNING_KEY``, else ``~/.config/mammobench/signing_key.pem``). The leaderboard ranks it
once that key's fingerprint is in ``leaderboard/display.yaml`` ``trusted_keys`` (docs/leaderboard.md).

Example:
    $ mammobench submit runs/vc_lesion-quick --generator ddpm
    bundle: leaderboard/results/ddpm@0.3.0/vc_lesion (signed by key 3f2a…)
"""
from __future__ import annotations

import argparse
from pathlib import Path

from mammobench.leaderboard.bundle import read_bundle, submit
from mammobench.report.trust import user_trust


def main(argv: list[str]) -> int:
    """Entry point of ``mammobench submit``."""
    parser = argparse.ArgumentParser(prog="mammobench submit", description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--leaderboard", type=Path, default=Path("leaderboard"), help="leaderboard folder")
    parser.add_argument("--generator", help="the generator to submit when the run has several ('none' = the control)")
    parser.add_argument("--key", type=Path, help="your Ed25519 private key (PEM; created when absent)")
    parser.add_argument("--trust", action="append", default=[], metavar="FINGERPRINT",
                        help="also trust runs signed by this full key fingerprint (repeatable)")
    parser.add_argument("--allow-untrusted", action="store_true", help="submit a run signed by an unknown key")
    args = parser.parse_args(argv)
    path = submit(args.run_dir, args.leaderboard, generator=args.generator, key_path=args.key,
                  trust=user_trust(args.trust), allow_untrusted=args.allow_untrusted)
    print(f"bundle: {path} (signed by key {read_bundle(path)['key_fingerprint']})\n"
          f"next: mammobench leaderboard build --dir {args.leaderboard}")
    return 0
