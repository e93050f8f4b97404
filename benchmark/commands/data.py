"""``mammobench data adapters | inspect | prepare | export-synthetic``.

``inspect`` and ``prepare`` read the dataset the same way and show the same splits (the same ``--split-seed``
default): a given split is kept, a validation part is carved from training patients only and reported.

Example:
    $ mammobench data adapters
    $ mammobench data inspect /data/physionet.org --adapter vindr
    $ mammobench data prepare /data/vindr --adapter vindr --out cache/vindr_128 --size 128 --workers 2
    $ mammobench data inspect /pacs/export --adapter dicom --labels outcomes.xlsx --key-column AccessionNumber \\
          --label-column Outcome --label-map "0=normal,1=malignant"
    $ mammobench data export-synthetic runs/<id>/synthetic/physics__r0.5.npz --out synthetic_dicom/
"""
from __future__ import annotations

import argparse
import logging
import sys

from mammobench.io import atomic_write_json, atomic_write_text
from mammobench.workers import default_workers

_DICOM_OPTIONS = ("labels", "key_column", "label_column", "label_map", "sheet", "density_tag")


def _adapters() -> int:
    from mammobench.data.adapters import register_builtin
    from mammobench.data.ingest import get_adapter
    from mammobench.registry import ADAPTERS

    register_builtin()
    for name in ADAPTERS.names():
        adapter = get_adapter(name)
        split = "official split" if getattr(adapter, "has_official_split", False) else "no official split"
        print(f"{name:<16} {adapter.description} [{split}; layout: {getattr(adapter, 'readme', '')}]")
    return 0


def _options(args: argparse.Namespace) -> dict:
    options = {"mapping": args.mapping} if args.mapping else {}
    for key in _DICOM_OPTIONS:
        value = getattr(args, key, None)
        if value is not None:
            options[key] = value
    return options


def _load(args: argparse.Namespace):
    from mammobench.data.ingest import load_dataset

    return load_dataset(args.adapter, args.path, split_seed=args.split_seed, verify=args.verify,
                        val_fraction=args.val_fraction, test_fraction=args.test_fraction, **_options(args))


def _inspect(args: argparse.Namespace) -> int:
    from mammobench.data.summary import format_summary, summary_record

    result = _load(args)
    print(format_summary(result))
    if args.json:
        atomic_write_json(args.json, summary_record(result))
    return 0


def _prepare(args: argparse.Namespace) -> int:
    from pathlib import Path

    from mammobench.data.cache import build_cache
    from mammobench.data.splits import manifest_sha256
    from mammobench.data.summary import format_summary

    result = _load(args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "manifest.csv", result.manifest.to_csv(index=False))
    atomic_write_text(out / "ingest_rejects.csv", result.rejects.to_csv(index=False))
    atomic_write_text(out / "ingest_notes.csv", result.notes.to_csv(index=False))
    atomic_write_json(out / "flow.json", {"dataset": result.dataset, "root": str(result.root), "flow": result.flow,
                                          "splits": result.splits, "warnings": result.warnings,
                                          "labelled": result.labelled,
                                          "manifest_sha256": manifest_sha256(result.manifest)})
    if logging.getLogger("mammobench").level < logging.ERROR:  # -q/--quiet (mammobench.cli) sets ERROR
        print(format_summary(result, max_rows=20))
    if result.manifest.empty:
        print(f"no usable images ({len(result.rejects)} rejected); see {out / 'ingest_rejects.csv'}", file=sys.stderr)
        return 1
    cache = build_cache(result.manifest, result.root, out / "cache", size=args.size,
                        workers=default_workers() if args.workers is None else args.workers)
    print(f"cache: {len(cache.index)} images at {cache.size[0]}×{cache.size[1]} in {out / 'cache'}; "
          f"rejected at ingest {len(result.rejects)}, at decode {len(cache.rejects)}")
    return 0


def _export(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from mammobench.data.dicom_marker import export_synthetic_set

    record_path = Path(args.npz).with_suffix(".json")
    record = json.loads(record_path.read_text(encoding="utf-8")) if record_path.is_file() else {}
    card = record.get("generator_card") or {}
    generator = args.generator or record.get("generator") or ""
    version = args.version or str(card.get("version", "")) or "unknown"
    csv = export_synthetic_set(args.npz, args.out, generator=generator, version=version, seed=args.seed)
    print(f"wrote synthetic DICOMs marked as SYNTHETIC (generator {generator} {version}) and {csv}")
    return 0


def _add_read_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("path", help="dataset folder as downloaded (the root is also found one level too high or too low)")
    p.add_argument("--adapter", required=True, help="adapter name (see `mammobench data adapters`)")
    p.add_argument("--mapping", help="YAML mapping: columns of a CSV export ('manifest') or labels file ('dicom')")
    p.add_argument("--verify", default="header", choices=("none", "exists", "header"),
                   help="per-file check at ingest: header (default: complete DICOM, acquired MG for presentation, "
                        "tables agree with the header), exists (same without the pixel-data completeness check), "
                        "none (no file opened: acquisition checks skipped, with a warning)")
    p.add_argument("--split-seed", type=int, default=0, help="patient-level split seed (default 0, as prepare/run)")
    p.add_argument("--val-fraction", type=float, default=0.15,
                   help="share of patients carved out of TRAINING patients for validation (default 0.15)")
    p.add_argument("--test-fraction", type=float, default=0.2,
                   help="share of patients for test when the dataset gives no test part (default 0.2)")
    group = p.add_argument_group("plain DICOM folders (--adapter dicom)")
    group.add_argument("--labels", help="labels table (CSV or XLSX) joined to the images")
    group.add_argument("--key-column", help="labels column that identifies the image/exam/patient, as COL or "
                       "COL=DicomKeyword (e.g. Accession=AccessionNumber); several separated by ','")
    group.add_argument("--label-column", help="labels column with the outcome")
    group.add_argument("--label-map", help="outcome values to labels, e.g. '0=normal,1=malignant,B=benign'")
    group.add_argument("--sheet", help="sheet of an XLSX labels file (name or 0-based index)")
    group.add_argument("--density-tag", help="DICOM keyword holding the density where a site writes it")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mammobench data", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="action", required=True)
    sub.add_parser("adapters", help="list the dataset adapters")
    for name, text in (("inspect", "cohort summary: flow, rejects per reason, splits, counts"),
                       ("prepare", "ingest and build the preprocessed image cache (parallel, resumable)")):
        p = sub.add_parser(name, help=text)
        _add_read_options(p)
        if name == "inspect":
            p.add_argument("--json", help="also write the summary as JSON here")
        else:
            p.add_argument("--out", required=True, help="output folder (manifest.csv, flow.json, cache/)")
            p.add_argument("--size", type=int, default=128, help="cache image size in pixels (default 128)")
            p.add_argument("--workers", type=int, default=None,
                           help="decoding processes (default: one per usable core, at most 4 and $MAMMOBENCH_WORKERS)")
            # -q/--quiet (no progress, errors only) is handled for every command by mammobench.cli
    exp = sub.add_parser("export-synthetic", help="write a run's synthetic arm as DICOMs marked SYNTHETIC")
    exp.add_argument("npz", help="runs/<id>/synthetic/<arm>__r<ratio>.npz")
    exp.add_argument("--out", required=True, help="output folder")
    exp.add_argument("--generator", help="generator name (default: from the arm's .json record)")
    exp.add_argument("--version", help="generator version (default: from its card)")
    exp.add_argument("--seed", type=int, default=0, help="sampling seed recorded in the files (default 0)")
    return parser


def main(argv: list[str]) -> int:
    """Entry point of ``mammobench data``."""
    args = _parser().parse_args(argv)
    if args.action == "adapters":
        return _adapters()
    if args.action == "export-synthetic":
        return _export(args)
    if getattr(args, "sheet", None) is not None and str(args.sheet).isdigit():
        args.sheet = int(args.sheet)
    return _inspect(args) if args.action == "inspect" else _prepare(args)
