"""``mammobench cohort``: make the virtual clinical-trial cohort, or render its picture grid.

Example:
    $ mammobench cohort make --n-patients 200 --out data/vc --seed 0
    $ mammobench cohort grid --out docs/img/density_lesion_grid.png
"""
from __future__ import annotations

import argparse
import sys
import time

from mammobench.errors import ConfigError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mammobench cohort", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="action", required=True)
    make = sub.add_parser("make", help="simulate and write a virtual cohort (DICOM + VinDr-like CSVs)")
    make.add_argument("--n-patients", type=int, required=True, help="patients (4 images each)")
    make.add_argument("--out", required=True, help="cohort folder")
    make.add_argument("--seed", type=int, default=0)
    make.add_argument("--size", type=int, default=256, help="image side in pixels (FOV 240 mm)")
    make.add_argument("--workers", type=int, default=None,
                      help="simulator processes (default: one per usable core, at most 4 and $MAMMOBENCH_WORKERS)")
    make.add_argument("--train-dense-weight", type=float, default=None,
                      help="weight of density D in training (C gets its default 0.4 scaled likewise; 1 = age model)")
    make.add_argument("--train-lesion-weight", action="append", default=[], metavar="TYPE=W",
                      help="weight of a lesion type among the training findings (repeatable; 0 leaves it out), "
                           "e.g. asymmetry=0")
    make.add_argument("--test-fraction", type=float, default=0.3)
    make.add_argument("--finding-fraction", type=float, default=0.5)
    make.add_argument("--train-min-age", type=int, default=None)
    make.add_argument("--train-max-age", type=int, default=None)
    grid = sub.add_parser("grid", help="picture grid: densities A–D × lesion types, boxes drawn")
    grid.add_argument("--out", required=True, help="PNG path")
    grid.add_argument("--size", type=int, default=256)
    grid.add_argument("--seed", type=int, default=0)
    return parser


def _composition(args: argparse.Namespace):
    from mammobench.cohort import CohortComposition

    weights = {"A": 1.0, "B": 1.0, "C": 0.4, "D": 0.12}
    if args.train_dense_weight is not None:
        if args.train_dense_weight < 0:
            raise ConfigError(f"--train-dense-weight {args.train_dense_weight} must be ≥ 0")
        weights["D"] = args.train_dense_weight
        weights["C"] = min(1.0, max(args.train_dense_weight, 0.4 * args.train_dense_weight / 0.12))
    lesion_weights = {}
    for item in args.train_lesion_weight:
        kind, _, value = item.partition("=")
        try:
            lesion_weights[kind.strip()] = float(value)
        except ValueError:
            raise ConfigError(f"--train-lesion-weight {item!r}: expected TYPE=WEIGHT, e.g. asymmetry=0") from None
    return CohortComposition(test_fraction=args.test_fraction, finding_fraction=args.finding_fraction,
                             train_density_weights=weights, train_min_age=args.train_min_age,
                             train_max_age=args.train_max_age, train_lesion_type_weights=lesion_weights or None)


def main(argv: list[str]) -> int:
    """Run ``mammobench cohort make|grid``."""
    args = _parser().parse_args(argv)
    if args.action == "grid":
        from mammobench.cohort.grid import density_lesion_grid

        path = density_lesion_grid(args.out, size=args.size, seed=args.seed)
        print(f"grid written to {path}")
        return 0
    from mammobench.cohort import make_cohort
    from mammobench.workers import default_workers

    start = time.perf_counter()
    root = make_cohort(args.out, n_patients=args.n_patients, seed=args.seed, size=args.size,
                       composition=_composition(args),
                       workers=default_workers() if args.workers is None else args.workers)
    print(f"cohort ready at {root} ({args.n_patients} patients, {4 * args.n_patients} images, "
          f"{time.perf_counter() - start:.1f} s)", file=sys.stdout)
    return 0
