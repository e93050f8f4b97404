"""``mammobench run [TASK_OR_SUITE]``: the main job (default: the quick suite on the virtual cohort).

Example:
    $ mammobench run                        # quick suite, prints where the report is
    $ mammobench run --profile smoke        # well under a minute
    $ mammobench run vc_lesion --generator ddpm --executor ray --address auto
"""
from __future__ import annotations

import argparse

EPILOG = """examples:
  mammobench run                                   quick suite (default), ~10 min on 2 CPU cores
  mammobench run --profile smoke                   tiny end-to-end run for tests
  mammobench run vc_lesion --generator cgan        add a generator as an extra arm
  mammobench run --executor process --workers 2    cells in a local process pool
  mammobench run --executor ray --address auto     cells on a running Ray cluster
  mammobench run --profile full --device cuda      full profile on a GPU
A re-run of the same command resumes: finished cells are skipped."""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="mammobench run", description=__doc__.splitlines()[0], epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("target", nargs="?", default=None, help="suite name, task name or path to task.yaml (default: quick)")
    p.add_argument("--profile", choices=("smoke", "quick", "full"), default=None,
                   help="run size (default: the suite's profile, else quick)")
    p.add_argument("--out", default="runs", help="parent folder of run folders (default: runs)")
    p.add_argument("--generator", action="append", default=[], metavar="NAME",
                   help="extra generator arm (registered name, entry point or package.module:Class); repeatable")
    p.add_argument("--executor", choices=("auto", "local", "process", "ray"), default="auto",
                   help="auto (default): a process pool with one worker per CPU core on a multi-core CPU-only "
                        "machine, else local; results are identical on every executor")
    p.add_argument("--workers", type=int, default=None, help="process-pool size (default: CPU cores, at most 4)")
    p.add_argument("--address", default=None, help="Ray address for --executor ray (default: start a local one)")
    p.add_argument("--cohort", default=None, help="folder where the virtual cohort is made or reused")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads per cell (fixes reproducibility)")
    p.add_argument("--no-resume", dest="resume", action="store_false", help="restart the run folder from scratch")
    return p


def main(argv: list[str]) -> int:
    """Parse, run, print the report paths."""
    args = build_parser().parse_args(argv)
    from mammobench.pipeline.executors import resolve_executor
    from mammobench.pipeline.runner import run

    executor, workers = resolve_executor(args.executor, args.workers, args.device)
    paths = run(args.target, profile=args.profile, out=args.out, generators=args.generator, executor=executor,
                workers=workers, address=args.address, cohort_dir=args.cohort, resume=args.resume,
                device=args.device, threads=args.threads)
    for path in paths:
        print(f"report: {path / 'report.html'}")
    return 0
