"""``mammobench verify RUN_DIR|BUNDLE``: integrity, signature and trust of a signed run folder or leaderboard bundle.

Three separate answers: *integrity* (every file matches the signed manifest; links and special files
are reported, never followed or read), *signature* (valid Ed25519 signature by the key in the folder)
and *trust* (that key's full fingerprint is in a trust list: ``--trust``, the user's
``~/.config/mammobench/trusted_keys.yaml`` or ``$MAMMOBENCH_TRUSTED_KEYS``, the project's
``leaderboard/display.yaml``, or your own signing key). A valid signature by a key in none of
them is not "verified".

Exit status: 0 verified; 1 integrity or signature failure; 3 intact and validly signed, but by an
unknown key (0 with ``--allow-untrusted``, which still prints the warning).

Example:
    $ mammobench verify runs/vc_lesion-quick
    integrity: ok (61 files match manifest.json)
    signature: valid (Ed25519, key 3f2a…)
    trust: trusted key 3f2a… (your own signing key (~/.config/mammobench/signing_key.pem))
    verified: runs/vc_lesion-quick
"""
from __future__ import annotations

import argparse
from pathlib import Path

from mammobench.leaderboard.bundle import BUNDLE_FILE
from mammobench.leaderboard.display import PROJECT_LEADERBOARD
from mammobench.report.provenance import VerifyReport, verify_run
from mammobench.report.trust import HOW_TO_TRUST, TrustList, user_trust

EXIT_UNTRUSTED = 3


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mammobench verify", description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[2:12]))
    parser.add_argument("path", type=Path, help="run folder (manifest.json …) or leaderboard bundle (bundle.json …)")
    parser.add_argument("--trust", action="append", default=[], metavar="FINGERPRINT",
                        help="also trust this full key fingerprint (64 hex digits; repeatable)")
    parser.add_argument("--leaderboard", type=Path, default=PROJECT_LEADERBOARD,
                        help="leaderboard folder whose display.yaml trusted_keys count (default: the project's)")
    parser.add_argument("--allow-untrusted", action="store_true",
                        help="exit 0 for an intact, validly signed folder even when its key is unknown")
    return parser


def _trust(args: argparse.Namespace) -> TrustList:
    display = args.leaderboard / "display.yaml"
    return user_trust(args.trust, project_display=display if display.is_file() else None)


def _print_run(report: VerifyReport, allow_untrusted: bool, trust: TrustList) -> int:
    print(f"run: {report.run_dir}")
    print(report.integrity_line())
    for line in report.lines():
        if not line.startswith(("signature INVALID", "signed by an unknown key")):
            print(f"  {line}")
    print(report.signature_line())
    print(report.trust_line())
    if report.ok:
        print(f"verified: {report.run_dir}")
        return 0
    if not (report.intact and report.signature_valid):
        print(f"FAILED: {report.run_dir}")
        return 1
    print(f"NOT VERIFIED: signed by an unknown key {report.key_fingerprint} ({trust.describe()}); {HOW_TO_TRUST}")
    return 0 if allow_untrusted else EXIT_UNTRUSTED


def _print_bundle(path: Path, allow_untrusted: bool, trust: TrustList) -> int:
    from mammobench.leaderboard.verify import verify_bundle

    print(f"bundle: {path}")
    check = verify_bundle(path, trust)
    print(f"key: {check.fingerprint or 'unreadable'} ({trust.source(check.fingerprint) or 'NOT TRUSTED'})")
    if check.ok:
        print(f"verified: {path}")
        return 0
    if check.fingerprint and trust.source(check.fingerprint) is None:  # check everything else with that key
        rest = verify_bundle(path, TrustList({**trust.keys, check.fingerprint: "checked, not trusted"}))
        if rest.ok:
            print(f"intact and validly signed, but NOT VERIFIED: signed by an unknown key {check.fingerprint} "
                  f"({trust.describe()}); {HOW_TO_TRUST}")
            return 0 if allow_untrusted else EXIT_UNTRUSTED
        check = rest
    print(f"NOT VERIFIED: {check.reason}")
    return 1


def main(argv: list[str]) -> int:
    """Entry point of ``mammobench verify``."""
    args = build_parser().parse_args(argv)
    trust = _trust(args)
    if (args.path / BUNDLE_FILE).exists():
        return _print_bundle(args.path, args.allow_untrusted, trust)
    return _print_run(verify_run(args.path, trust), args.allow_untrusted, trust)

