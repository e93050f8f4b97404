"""``mammobench data adapters | inspect | prepare``: list adapters, summarise a dataset, build the image cache.

Example:
    $ mammobench data adapters
    $ mammobench data inspect /data/vindr --adapter vindr
    $ mammobench data prepare /data/vindr --adapter vindr --out cache/vindr_128 --size 128 --workers 2
"""
from __future__ import annotations

import argparse
import sys

from mammobench.io import atomic_write_json, atomic_write_text


def _adapters() -> int:
    from mammobench.data.ingest import get_adapter
    from mammobench.registry import ADAPTERS
    from mammobench.data.adapters import register_builtin

    register_builtin()
    for name in ADAPTERS.names():
        adapter = get_adapter(name)
        split = "official split" if getattr(adapter, "has_official_split", False) else "no official split"
        print(f"{name:<16} {adapter.description} [{split}]")
    return 0


def _load(args: argparse.Namespace):
    from mammobench.data.ingest import load_dataset

    options = {"mapping": args.mapping} if getattr(args, "mapping", None) else {}
    return load_dataset(args.adapter, args.path, split_seed=args.split_seed, verify=args.verify, **options)


def _inspect(args: argparse.Namespace) -> int:
    from mammobench.data.summary import format_summary

    result = _load(args)
    print(format_summary(result))
    if args.json:
        from mammobench.data.summary import counts, missingness

        atomic_write_json(args.json, {"dataset": result.dataset, "flow": result.flow,
                                      "counts": counts(result.manifest).to_dict("records") if len(result.manifest) else [],
                                      "missingness": missingness(result.manifest).to_dict("index"),
                                      "rejects": result.rejects.to_dict("records")})
    return 0


def _prepare(args: argparse.Namespace) -> int:
    from pathlib import Path

    from mammobench.data.cache import build_cache
    from mammobench.data.splits import manifest_sha256

    result = _load(args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "manifest.csv", result.manifest.to_csv(index=False))
    atomic_write_text(out / "ingest_rejects.csv", result.rejects.to_csv(index=False))
    atomic_write_json(out / "flow.json", {"dataset": result.dataset, "root": str(result.root), "flow": result.flow,
                                          "manifest_sha256": manifest_sha256(result.manifest)})
    if result.manifest.empty:
        print(f"no usable images ({len(result.rejects)} rejected); see {out / 'ingest_rejects.csv'}", file=sys.stderr)
        return 1
    cache = build_cache(result.manifest, result.root, out / "cache", size=args.size, workers=args.workers)
    print(f"cache: {len(cache.index)} images at {cache.size[0]}×{cache.size[1]} in {out / 'cache'}; "
          f"rejected at ingest {len(result.rejects)}, at decode {len(cache.rejects)}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mammobench data", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="action", required=True)
    sub.add_parser("adapters", help="list the dataset adapters")
    for name, text in (("inspect", "cohort summary: flow, counts per split × density × age band × lesion type"),
                       ("prepare", "ingest and build the preprocessed image cache (parallel, resumable)")):
        p = sub.add_parser(name, help=text)
        p.add_argument("path", help="dataset root in its native layout")
        p.add_argument("--adapter", required=True, help="adapter name (see `mammobench data adapters`)")
        p.add_argument("--mapping", help="YAML column mapping for the generic 'manifest' adapter")
        p.add_argument("--verify", default="header", choices=("none", "exists", "header"),
                       help="per-file check at ingest (default: header = complete DICOM with pixel data)")
        p.add_argument("--split-seed", type=int, default=None, help="assign patient-level train/val/test splits")
        if name == "inspect":
            p.add_argument("--json", help="also write the summary as JSON here")
        else:
            p.add_argument("--out", required=True, help="output folder (manifest.csv, flow.json, cache/)")
            p.add_argument("--size", type=int, default=128, help="cache image size in pixels (default 128)")
            p.add_argument("--workers", type=int, default=2, help="decoding processes (default 2)")
            # -q/--quiet (no progress, errors only) is handled for every command by mammobench.cli
    return parser


def main(argv: list[str]) -> int:
    """Entry point of ``mammobench data``."""
    args = _parser().parse_args(argv)
    if args.action == "adapters":
        return _adapters()
    if args.action == "inspect":
        return _inspect(args)
    if args.split_seed is None:
        args.split_seed = 0
    return _prepare(args)
