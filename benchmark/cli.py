"""The ``mammobench`` command line: a thin dispatcher over library functions.

Each sub-command lives in ``benchmark/commands/<module>.py`` and exposes ``main(argv) -> int``;
modules are imported only when their command runs, so ``mammobench --help`` is instant and a
broken optional backend cannot break unrelated commands. Errors of the project's own types
(:mod:`mammobench.errors`) are printed as one clear line and exit with code 2.

The CLI decides what the library's log shows (:func:`mammobench.progress.configure`): stage lines and
progress on stderr — a bar with rate and ETA on a terminal, one line per finished unit otherwise —
or, with ``-q/--quiet`` anywhere on the command line, errors only.

Example:
    $ mammobench run --profile smoke
    $ mammobench run --profile smoke --quiet     # nothing on stderr but errors; the report path on stdout
    $ mammobench stats auc data.csv --label outcome --score s100b --positive Poor
"""
from __future__ import annotations

import importlib
import sys

from mammobench.errors import MammoBenchError

#: command → (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("mammobench.commands.run", "run a task/suite end to end (default: quick suite on the virtual cohort)"),
    "cohort": ("mammobench.commands.cohort", "make the virtual clinical-trial cohort (DICOM + CSV)"),
    "data": ("mammobench.commands.data", "dataset adapters: list, inspect, prepare (image cache)"),
    "ls": ("mammobench.commands.ls", "list tasks, suites, generators, adapters"),
    "validate": ("mammobench.commands.validate", "validate task/suite YAML files"),
    "check-generator": ("mammobench.commands.check_generator", "run the generator conformance suite"),
    "generators": ("mammobench.commands.generators", "measure the built-in generators (acceptance on the virtual cohort)"),
    "audit": ("mammobench.commands.audit", "audit synthetic data: fidelity, memorisation, leakage, bias"),
    "stats": ("mammobench.commands.stats", "independent statistics (AUC with DeLong CI, paired test)"),
    "report": ("mammobench.commands.report", "re-render a run's report from its files"),
    "verify": ("mammobench.commands.verify", "verify a run folder's signed manifest"),
    "reader": ("mammobench.commands.reader", "reader studies: build, serve, analyze"),
    "perf": ("mammobench.commands.perf", "performance suite: throughput and ratios vs baselines"),
    "submit": ("mammobench.commands.submit", "package a run as a signed leaderboard bundle"),
    "leaderboard": ("mammobench.commands.leaderboard", "build/check the leaderboard from bundles"),
    "selftest": ("mammobench.commands.selftest", "known-answer trials: planted generators through the pipeline"),
}


def _usage() -> str:
    width = max(len(c) for c in COMMANDS)
    lines = ["usage: mammobench <command> [options]", "", "commands:"]
    lines += [f"  {name:<{width}}  {text}" for name, (_, text) in COMMANDS.items()]
    lines += ["", "Every command: -q/--quiet shows errors only (no stage lines, no progress).",
              "Run 'mammobench <command> --help' for a command's options."]
    return "\n".join(lines)


QUIET_FLAGS = ("-q", "--quiet")


def _take_quiet(argv: list[str]) -> tuple[list[str], bool]:
    """Remove ``-q/--quiet`` (before a ``--`` separator) from the arguments; report whether it was there."""
    end = argv.index("--") if "--" in argv else len(argv)
    kept = [a for a in argv[:end] if a not in QUIET_FLAGS] + argv[end:]
    return kept, len(kept) != len(argv)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    from mammobench.progress import configure

    argv, quiet = _take_quiet(list(sys.argv[1:] if argv is None else argv))
    configure(quiet=quiet)
    if not argv or argv[0] in ("-h", "--help"):
        print(_usage())
        return 0
    if argv[0] == "--version":
        from mammobench import __version__

        print(__version__)
        return 0
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        import difflib

        close = difflib.get_close_matches(name, list(COMMANDS), n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        print(f"mammobench: unknown command '{name}'.{hint}\n\n{_usage()}", file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[name][0])
    try:
        return int(module.main(rest) or 0)
    except MammoBenchError as err:
        print(f"mammobench {name}: error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print(f"mammobench {name}: interrupted; finished work is kept and a re-run resumes", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
