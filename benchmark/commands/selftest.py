"""``mammobench selftest``: known-answer trials — does the harness catch what it claims?

Runs the planted generators through the pipeline (one shared run), prints one row per trial
(planted generator, expected verdict, observed verdict, evidence), or (``--repeats``) measures the
comparison trials' agreement rates over repeated runs, writes the rows into the run's ``result.json``
("selftest") and report, and exits 1 when any row disagrees — a row the profile cannot power is
``underpowered`` (it names the profile that has the power) and does not count.

Example:
    >>> main(["--trials", "nope"])  # doctest: +SKIP
    2
"""
from __future__ import annotations

import argparse
import json
import logging
import sys

from mammobench.errors import MammoBenchError


def _parser() -> argparse.ArgumentParser:
    from mammobench.selftest.trial_sets import TRIAL_SETS

    p = argparse.ArgumentParser(prog="mammobench selftest", description=__doc__.split("\n\n")[0])
    p.add_argument("--profile", choices=("quick", "smoke"), default="quick", help="run profile (default quick)")
    p.add_argument("--out", default="runs/selftest", help="parent folder of the self-test run (default runs/selftest)")
    p.add_argument("--task", default="vc_lesion", choices=list(TRIAL_SETS),
                   help="vc_lesion: the image classifier's trials (default); vc_lesion_detect: the lesion detector's "
                        "(dense_helpful, detect_harmful, off_location; docs/selftest.md)")
    p.add_argument("--trials", default="", help="comma-separated subset, e.g. helpful,null (default: all)")
    p.add_argument("--repeats", type=int, default=0,
                   help="measure instead: run the comparison trials N times, each with new seeds, and report each "
                        "trial's agreement rate with its exact CI (docs/selftest.md, 'Power design')")
    p.add_argument("--threads", default="1,2", help="torch thread counts cycled over --repeats (default 1,2)")
    p.add_argument("--first", type=int, default=0,
                   help="index of the first repeat (extend an earlier --repeats measurement with new seeds; default 0)")
    p.add_argument("--power-from", default=None, metavar="RUN_DIR",
                   help="print the helpful/harmful trials' projected power from a finished comparison run "
                        "(its own seed-to-seed and patient variance) and exit")
    p.add_argument("--power-seeds", type=int, default=None, help="seeds per arm to project --power-from to")
    p.add_argument("--cohort", default=None, help="folder where the virtual cohort is made/reused")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda")
    p.add_argument("--json", action="store_true", help="print the records as JSON instead of a table")
    return p


def _evidence(rec: dict) -> str:
    from mammobench.report.tables import selftest_evidence_text

    if rec.get("status") == "underpowered":
        return f"{rec.get('power', '')}; {selftest_evidence_text(rec)}"
    return selftest_evidence_text(rec)


def format_table(records: list[dict]) -> str:
    """The self-test table as aligned text.

    Example:
        >>> print(format_table([{"trial": "null", "generator": "planted_null", "expected": "x",
        ...                      "observed": "x", "agree": True, "evidence": {}}]).splitlines()[0].split())
        ['planted', 'generator', 'expected', 'observed', 'agree', 'evidence']
    """
    rows = [(r["generator"], r["expected"], r["observed"],
             "underpowered" if r.get("status") == "underpowered" else "yes" if r["agree"] else "NO", _evidence(r))
            for r in records]
    head = ("planted generator", "expected", "observed", "agree", "evidence")
    widths = [max(len(str(x[i])) for x in [head, *rows]) for i in range(4)]
    fmt = lambda row: "  ".join(str(v).ljust(w) for v, w in zip(row[:4], widths)) + "  " + str(row[4])  # noqa: E731
    return "\n".join([fmt(head), fmt(tuple("-" * w for w in widths) + ("-" * 8,)), *map(fmt, rows)])


def _power(args) -> int:
    from mammobench.selftest.power import design_rows, format_design
    from mammobench.selftest.runner import comparison_seeds

    try:
        seeds = args.power_seeds or len(comparison_seeds(args.profile))
        rows = design_rows(args.power_from, n_seeds=seeds)
    except MammoBenchError as err:
        print(f"mammobench selftest: {err}", file=sys.stderr)
        return 2
    print(json.dumps(rows, indent=2) if args.json else format_design(rows))
    return 0


def _repeats(args, names: list[str], execution) -> int:
    from mammobench.selftest.repeats import run_comparison_repeats

    try:
        threads = [int(t) for t in args.threads.split(",") if t.strip()]
    except ValueError:
        raise MammoBenchError(f"--threads {args.threads!r}: expected comma-separated whole numbers, e.g. 1,2")
    if args.first < 0:
        raise MammoBenchError(f"--first must be >= 0, got {args.first}")
    rates, rows = run_comparison_repeats(args.repeats, profile=args.profile, out=f"{args.out}/repeats",
                                         execution=execution, threads=threads, trials=names, first=args.first,
                                         task_name=args.task)
    print(json.dumps({"rates": rates, "runs": rows}, indent=2, default=str) if args.json else format_table(rates))
    return 1 if any(not r["agree"] for r in rates) else 0


def main(argv: list[str]) -> int:
    """Entry point of ``mammobench selftest``; 0 when every row agrees or is underpowered, 1 otherwise, 2 on bad input."""
    args = _parser().parse_args(argv)
    from mammobench.pipeline.spec import Execution
    from mammobench.selftest.runner import run_selftest
    from mammobench.selftest.trial_sets import select_trials
    from mammobench.selftest.trials import counts_as_failure

    names = [t.strip() for t in args.trials.split(",") if t.strip()]
    if args.power_from:
        return _power(args)
    try:
        select_trials(names, args.task)
        if args.repeats < 0:
            raise MammoBenchError(f"--repeats must be >= 0, got {args.repeats}")
        execution = Execution.from_options(device=args.device, cohort_dir=args.cohort)
        if args.repeats:
            return _repeats(args, names, execution)
        records = run_selftest(args.profile, out=args.out, trials=names, execution=execution, task_name=args.task)
    except MammoBenchError as err:
        print(f"mammobench selftest: {err}", file=sys.stderr)
        return 2
    print(json.dumps(records, indent=2, default=str) if args.json else format_table(records))
    if records and "run" in records[0]["evidence"]:
        logging.getLogger("mammobench.selftest").info(f"report: {records[0]['evidence']['run']}/report.html")
    return 1 if any(counts_as_failure(r) for r in records) else 0
