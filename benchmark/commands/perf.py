"""``mammobench perf``: throughput and speed ratios of the harness on this machine.

Example:
    $ mammobench perf                                 # everything, smoke end-to-end run (a few minutes)
    $ mammobench perf --quick-only --json perf.json   # skip the end-to-end run
    $ mammobench perf --only bootstrap                # acceptance config: fairlearn B=1000, 10,000 cases
    $ mammobench perf --run-dir runs/vc_lesion-quick  # stage timings of a finished run instead of a new one
    $ mammobench perf --compare old.json new.json     # new ÷ old per figure (no measuring)
    $ mammobench perf --tiny --quick-only --compare   # measure, check ratios against the newest tiny record
    $ mammobench perf --ci --compare                  # what `make test` runs: ci sizes against the ci record
    $ mammobench perf --quick-only --save-record      # keep this run under benchmark/perf/records/ (main only)
    $ mammobench perf --readme                        # rewrite README's generated perf table from the records
"""
from __future__ import annotations

import argparse
import logging

from mammobench.errors import ConfigError
from mammobench.perf.records import CI_MAX_DROP, DEFAULT_MAX_DROP


def build_parser() -> argparse.ArgumentParser:
    """The ``mammobench perf`` options."""
    p = argparse.ArgumentParser(prog="mammobench perf", description=__doc__.splitlines()[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="\n".join(__doc__.splitlines()[2:]))
    p.add_argument("--only", default=None, metavar="NAMES",
                   help="comma-separated benchmarks (run at their full 'selected' size); see --list")
    p.add_argument("--quick-only", action="store_true", help="skip the slow benchmarks (end-to-end run)")
    p.add_argument("--e2e", choices=("smoke", "quick", "none"), default="smoke",
                   help="profile of the end-to-end run (default smoke; quick takes ~10 min; none skips it)")
    p.add_argument("--run-dir", default=None, help="read stage timings from this finished run instead")
    p.add_argument("--json", default=None, metavar="FILE", help="write the full result as JSON here")
    p.add_argument("--workdir", default=None, help="scratch folder (default: a temporary one)")
    p.add_argument("--tiny", action="store_true", help="tiny sizes (seconds; checks that everything runs)")
    p.add_argument("--ci", action="store_true",
                   help="the ratio benchmarks of the CI check (cache, detector_training, bootstrap, delong) at their "
                        "ci sizes (~30 s); with --compare: against the newest ci record")
    p.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    p.add_argument("--compare", nargs="*", metavar="FILE", default=None,
                   help="OLD NEW: compare two perf JSON files; FILE: measure, then compare with FILE; no file: "
                        "measure, then compare with the newest record of the same scale. Exit 1 when a ratio "
                        "falls by more than --max-drop")
    p.add_argument("--max-drop", type=float, default=None, metavar="FACTOR",
                   help=f"ratio fall that fails --compare (default {DEFAULT_MAX_DROP:g}: new < old ÷ 2; "
                        f"{CI_MAX_DROP:g} with --ci)")
    p.add_argument("--save-record", nargs="?", const="", default=None, metavar="DIR",
                   help="also save the result as a record (default folder: benchmark/perf/records/)")
    p.add_argument("--readme", nargs="?", const="README.md", default=None, metavar="FILE",
                   help="rewrite the generated perf table of FILE (default README.md) from the records; no measuring")
    return p


def _compare_files(old: str, new: str, max_drop: float) -> int:
    from mammobench.perf.compare import compare_results, format_comparison, load_perf
    from mammobench.perf.records import check_ratios

    a, b = load_perf(old), load_perf(new)
    print(format_comparison(compare_results(a, b)))
    ok, text = check_ratios(a, b, max_drop=max_drop, label=old, require=False)
    print(text)
    return 0 if ok else 1


def _compare_baseline(args: argparse.Namespace, names: list[str] | None) -> tuple[str, dict] | None:
    """The result ``--compare`` measures against, loaded before measuring (a bad file fails at once)."""
    from mammobench.perf.compare import load_perf
    from mammobench.perf.records import newest_record

    if args.compare is None:
        return None
    if args.compare:
        return args.compare[0], load_perf(args.compare[0])
    path, old = newest_record(_scale(args) if args.tiny or args.ci else "selected" if names else "default")
    return str(path), old


def _scale(args: argparse.Namespace) -> str:
    if args.tiny and args.ci:
        raise ConfigError("--tiny and --ci: choose one scale")
    return "ci" if args.ci else "tiny" if args.tiny else "default"


def _after_run(result: dict, args: argparse.Namespace, baseline: tuple[str, dict] | None, max_drop: float) -> int:
    """--save-record, then the ratio check against ``baseline``: 1 on a ratio regression."""
    from mammobench.perf.compare import compare_results, format_comparison
    from mammobench.perf.records import RECORDS_DIR, check_ratios, save_record

    if args.save_record is not None:
        print(f"record saved: {save_record(result, args.save_record or RECORDS_DIR)}")
    if baseline is None:
        return 0
    label, old = baseline
    print(format_comparison(compare_results(old, result)))
    ok, text = check_ratios(old, result, max_drop=max_drop, label=label)
    print(text)
    return 0 if ok else 1


def main(argv: list[str]) -> int:
    """Run the selected benchmarks, print the table, optionally write JSON; 1 if a benchmark failed."""
    args = build_parser().parse_args(argv)
    max_drop = args.max_drop if args.max_drop is not None else CI_MAX_DROP if args.ci else DEFAULT_MAX_DROP
    if args.compare is not None and len(args.compare) > 2:
        raise ConfigError(f"--compare takes 0, 1 or 2 files; got {len(args.compare)}")
    if args.compare is not None and len(args.compare) == 2:
        return _compare_files(*args.compare, max_drop)
    if args.readme:
        from mammobench.perf.readme import update_readme

        print(f"rewritten: {update_readme(args.readme)}")
        return 0
    from mammobench.perf.runner import format_table, run_perf
    from mammobench.perf.suite import BENCHMARKS

    if args.list:
        for name, bench in BENCHMARKS.items():
            print(f"{name:<18} {bench.description}")
        return 0
    names = [n.strip() for n in args.only.split(",") if n.strip()] if args.only else None
    overrides: dict[str, dict] = {}
    if args.run_dir:
        overrides["e2e"] = {"run_dir": args.run_dir}
    elif args.e2e != "none":
        overrides["e2e"] = {"profile": args.e2e}
    if args.e2e == "none" and not args.run_dir:
        if names and "e2e" in names:
            raise ConfigError("--only e2e with --e2e none: nothing to time; give --e2e smoke|quick or --run-dir")
        quick_only = True
    else:
        quick_only = args.quick_only
    if names is None and args.run_dir and args.quick_only:
        raise ConfigError("--run-dir with --quick-only: --quick-only skips the end-to-end figures; drop one")
    scale = _scale(args)
    baseline = _compare_baseline(args, names)
    result = run_perf(names, scale=scale, quick_only=quick_only, overrides=overrides,
                      workdir=args.workdir, command=["mammobench", "perf", *argv],
                      progress=lambda line: logging.getLogger("mammobench.perf").info(f"perf: {line}"))
    print(format_table(result))
    if args.json:
        from mammobench.io import atomic_write_json

        atomic_write_json(args.json, result)
        print(f"written: {args.json}")
    failed = any(b["status"] != "ok" for b in result["benchmarks"])
    return max(int(failed), _after_run(result, args, baseline, max_drop))
