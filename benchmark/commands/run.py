"""``mammobench run [TASK_OR_SUITE]``: the main job (default: the quick suite on the virtual cohort).

Example:
    $ mammobench run                        # quick suite, prints where the report is
    $ mammobench run --profile smoke        # well under a minute
    $ mammobench run vc_lesion --generator ddpm --executor ray --address auto
"""
from __future__ import annotations

import argparse

EPILOG = """examples:
  mammobench run                                   quick suite (default): arms none, classic, physics
  mammobench run --profile smoke                   tiny end-to-end run for tests
  mammobench run vc_lesion --generator cgan        add a generator as an extra arm
  mammobench run --executor process --workers 2    cells in a local process pool
  mammobench run --executor ray --address auto     cells on a running Ray cluster
  mammobench run --profile full --device cuda      full profile on a GPU
  mammobench run --set epochs=2 --set seeds=[0,1]  override profile settings (same keys and checks as profiles:)
A re-run of the same command resumes: finished cells are skipped. Every setting is checked before the run
writes anything (mammobench validate runs the same checks)."""


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
                   help="auto (default): a process pool with one worker per usable CPU core on a multi-core "
                        "CPU-only machine, else local; results are identical on every executor")
    p.add_argument("--workers", type=int, default=None,
                   help="process-pool size (default: usable CPU cores, at most 4 and $MAMMOBENCH_WORKERS)")
    p.add_argument("--address", default=None, help="Ray address for --executor ray (default: start a local one)")
    p.add_argument("--cohort", default=None, help="folder where the virtual cohort is made or reused")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads per cell (fixes reproducibility)")
    p.add_argument("--no-resume", dest="resume", action="store_false", help="restart the run folder from scratch")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a profile setting (n_patients, cohort_size, image_size, epochs, batch_size, seeds, "
                        "n_boot, min_group_size, arms, ratios, encoder_epochs, audit); VALUE is YAML; repeatable")
    return p


def main(argv: list[str]) -> int:
    """Parse, check every setting, run, print the report paths."""
    args = build_parser().parse_args(argv)
    from mammobench.pipeline.profiles import parse_overrides
    from mammobench.pipeline.runner import run
    from mammobench.pipeline.spec import Execution

    execution = Execution.from_options(executor=args.executor, workers=args.workers, address=args.address,
                                       device=args.device, threads=args.threads, cohort_dir=args.cohort,
                                       resume=args.resume)
    paths = run(args.target, profile=args.profile, out=args.out, generators=args.generator,
                overrides=parse_overrides(args.overrides), execution=execution)
    for path in paths:
        print(f"report: {path / 'report.html'}")
    return 0
