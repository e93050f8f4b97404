"""``mammobench check-generator NAME|module:Class``: run the generator conformance suite.

Prints a pass/skip/fail/inconclusive table with reasons (or JSON with ``--json``) and exits 1 when
any check fails. An *inconclusive* statistical check (its sample cap cannot reach the stated power and
its test did not pass) is not a failure: exit 0, with a line saying so. Registered names and
``module:Class`` specs are built with the class's ``conformance_config()`` (else its ``tiny_config()``) unless
``--full`` is given; ``--param key=value`` sets constructor parameters (values parsed as YAML scalars).

Example:
    $ mammobench check-generator ddpm
    $ mammobench check-generator my_pkg.gen:MyGenerator --json
    $ mammobench check-generator folder --param path=submissions/acme
"""
from __future__ import annotations

import argparse
import json

from mammobench.errors import ConfigError
from mammobench.generators.check_context import DEFAULT_MAX_ORACLE_N, conformance_params
from mammobench.yamlio import parse_yaml


def _parse_params(items: list[str]) -> dict:
    params = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"--param {item!r}: expected key=value")
        params[key] = parse_yaml(value, source=f"--param {key}", what="value") if value else ""
    return params


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mammobench check-generator", description=__doc__.split("\n\n")[1])
    parser.add_argument("generator", help="registered name (see 'mammobench ls generators') or package.module:Class")
    parser.add_argument("--param", action="append", default=[], metavar="KEY=VALUE", help="constructor parameter")
    parser.add_argument("--full", action="store_true",
                        help="use the default parameters, not conformance_config() / tiny_config()")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--max-oracle-n", type=int, default=DEFAULT_MAX_ORACLE_N, metavar="N",
                        help=f"cap on the images the statistical check may request (default {DEFAULT_MAX_ORACLE_N}); "
                             "a check whose sized sample exceeds it is inconclusive unless its test passes anyway")
    parser.add_argument("--oracle-domain", choices=("fixture", "cohort"), default="cohort",
                        help="what the oracle check judges: the default task's virtual-cohort patches (default; "
                             "built and cached on first use, about 3 min) or the tiny fixture's drawn blobs (fast, "
                             "but out of domain for simulated mammograms; see docs/generators.md)")
    return parser


def main(argv: list[str]) -> int:
    """Run the checks; 0 when none fails (inconclusive is not a failure), 1 otherwise."""
    args = build_parser().parse_args(argv)
    from mammobench.generators import generator_class, get_generator
    from mammobench.testing import check_generator, format_results, status_counts

    cls = generator_class(args.generator)
    params = {**({} if args.full else conformance_params(cls)), **_parse_params(args.param)}
    gen = get_generator(args.generator, **params)
    if args.max_oracle_n < 1:
        raise ConfigError(f"--max-oracle-n must be at least 1, got {args.max_oracle_n}")
    results = check_generator(gen, max_oracle_n=args.max_oracle_n, oracle_domain=args.oracle_domain)
    if args.json:
        print(json.dumps({"generator": args.generator, "params": {k: repr(v) for k, v in params.items()},
                          "results": [r.to_dict() for r in results],
                          "counts": status_counts(results)}, indent=2))
    else:
        print(f"conformance of '{args.generator}'\n")
        print(format_results(results))
    return 1 if any(r.status == "fail" for r in results) else 0
