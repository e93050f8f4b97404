"""``mammobench generators acceptance``: measurements of the built-in generators.

``acceptance`` fits the learned baselines on the virtual cohort and reports how often two oracles
recognise the requested lesion type, with fit/sample minutes, copy-detection flags, sample grids and
training curves (see docs/generators.md). List generators with ``mammobench ls generators``; check one
with ``mammobench check-generator NAME``.

Example:
    $ mammobench generators acceptance --generators cgan,ddpm --per-class 60 --out docs/img
"""
from __future__ import annotations

import argparse


def main(argv: list[str]) -> int:
    """Entry point of ``mammobench generators``."""
    from mammobench.commands import acceptance

    parser = argparse.ArgumentParser(prog="mammobench generators", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="action", required=True)
    acceptance.build_parser(sub.add_parser("acceptance", help="oracle recognition, timing and copy detection of "
                                                               "cgan/ddpm on the virtual cohort"))
    args = parser.parse_args(argv)
    return acceptance.run_acceptance(args)
