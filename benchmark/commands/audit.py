"""``mammobench audit``: audit a folder of synthetic images against a prepared real dataset.

``--real`` is the folder written by ``mammobench data prepare --out DIR`` (``DIR/manifest.csv`` +
``DIR/cache/``), or the cache folder itself, or a virtual-cohort folder (``cohort.json``; it is
ingested and cached under ``--out`` at the synthetic images' size). ``--synthetic`` is a folder
submission (``manifest.csv`` + ``card.yaml``). Prints a pass/warn/fail table; writes
``OUT/audits/<generator>.json`` and the figure data; exits 1 when any check fails.

Example:
    $ mammobench audit --real prepared/vc_64 --synthetic submissions/my_gan --out audit_out
    $ mammobench audit --real prepared/vc_64 --synthetic submissions/my_gan --json --no-cas
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mammobench.errors import ConfigError, DataError
from mammobench.io import atomic_write_json, to_json_text
from mammobench.yamlio import load_yaml


def _manifest_and_cache(real: Path, size: tuple[int, int], out: Path) -> tuple[pd.DataFrame, Any]:
    from mammobench.data.cache import ImageCache

    if (real / "cohort.json").is_file():
        from mammobench.data.cache import build_cache
        from mammobench.data.ingest import load_dataset

        result = load_dataset("virtual_cohort", real, split_seed=0)
        cache = build_cache(result.manifest, result.root, out / "cache", size=size, workers=1, progress=False)
        return result.manifest, cache
    for manifest_path, cache_dir in ((real / "manifest.csv", real / "cache"), (real.parent / "manifest.csv", real)):
        if manifest_path.is_file() and (cache_dir / "cache.json").is_file():
            manifest = pd.read_csv(manifest_path, dtype={"image_id": str, "patient_id": str}, keep_default_na=False)
            return manifest, ImageCache.open(cache_dir)
    raise DataError(f"{real}: not a prepared dataset (manifest.csv + cache/), an image cache or a virtual cohort; "
                    "run `mammobench data prepare PATH --out DIR` and pass --real DIR")


def load_real_splits(real: str | Path, *, size: tuple[int, int], out: Path, seed: int = 0,
                     max_images: int | None = None) -> dict[str, Any]:
    """Train (as a TrainView), val and test splits of a prepared dataset, images at ``size``.

    Raises:
        DataError: unknown layout, a cache at another size, or no train/val rows.
    """
    from mammobench.data.splits import assign_splits
    from mammobench.protocols import HoldoutView, TrainView

    manifest, cache = _manifest_and_cache(Path(real), size, out)
    if tuple(cache.size) != tuple(size):
        raise DataError(f"{real}: cached images are {tuple(cache.size)} but the synthetic images are {tuple(size)}; "
                        "prepare the real data at the synthetic resolution (`mammobench data prepare --size`)")
    if not manifest["split"].astype(str).isin(["train"]).any():
        manifest = assign_splits(manifest, seed=seed)
    manifest = manifest[manifest["image_id"].astype(str).map(lambda i: i in cache)]
    rng = np.random.default_rng(seed)
    views: dict[str, Any] = {}
    for split in ("train", "val", "test"):
        rows = manifest[manifest["split"] == split]
        if max_images and len(rows) > max_images:
            rows = rows.iloc[np.sort(rng.permutation(len(rows))[:max_images])]
        if rows.empty:
            views[split] = None
            continue
        images = cache.images(rows["image_id"])
        views[split] = TrainView(rows, images) if split == "train" else HoldoutView(rows, images)
    if views["train"] is None or views["val"] is None:
        raise DataError(f"{real}: the audit needs train and val rows (found splits "
                        f"{sorted(set(manifest['split']))}); re-run `mammobench data prepare` with splits")
    return views


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="mammobench audit", description=__doc__.splitlines()[0])
    p.add_argument("--real", required=True, help="prepared dataset folder, image cache folder or virtual cohort")
    p.add_argument("--synthetic", required=True, help="folder submission: manifest.csv + card.yaml + images")
    p.add_argument("--out", default="audit_out", help="output folder (records, figure data, encoder cache)")
    p.add_argument("--json", action="store_true", help="print the records as JSON instead of a table")
    p.add_argument("--config", help="YAML mapping of audit thresholds (see docs/audits.md)")
    p.add_argument("--training-patients", help="file with the generator's training patient ids, one per line")
    p.add_argument("--encoder", help="a saved domain encoder (.pt); default: train one on the real train split")
    p.add_argument("--timm-checkpoint", help="local timm weights for an extra FD (e.g. Inception); never downloads")
    p.add_argument("--timm-arch", default="inception_v3", help="timm architecture of --timm-checkpoint")
    p.add_argument("--timm-resolution", type=int, default=299, help="input size of the timm extractor")
    p.add_argument("--epochs", type=int, default=15, help="domain-encoder training epochs (default 15)")
    p.add_argument("--max-images", type=int, help="cap the images used per real split (random, seeded)")
    p.add_argument("--no-cas", action="store_true", help="skip the classification accuracy score (faster)")
    p.add_argument("--seed", type=int, default=0)
    return p


def _read_config(path: str | None) -> dict:
    if not path:
        return {}
    data = load_yaml(path, what="audit config") or {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the audit config must be a mapping of threshold names to values")
    return data


def main(argv: list[str]) -> int:
    """Entry point of ``mammobench audit``."""
    from mammobench.baselines.folder.validate import load_folder
    from mammobench.audits.encoder import DomainEncoder, load_or_train_domain_encoder
    from mammobench.audits.timm_encoder import load_timm_encoder
    from mammobench.audits.run import run_audits, summarise
    from mammobench.cards import GeneratorCard
    from mammobench.protocols import SyntheticBatch

    args = _parser().parse_args(argv)
    out = Path(args.out)
    config = {**_read_config(args.config), "seed": args.seed, **({"cas": False} if args.no_cas else {})}
    card = GeneratorCard.from_yaml(Path(args.synthetic) / "card.yaml")
    labels, images = load_folder(args.synthetic)
    views = load_real_splits(args.real, size=images.shape[1:], out=out, seed=args.seed, max_images=args.max_images)
    encoder = (DomainEncoder.load(args.encoder) if args.encoder else
               load_or_train_domain_encoder(views["train"], seed=args.seed, epochs=args.epochs,
                                            cache_dir=out / "encoder"))
    training_patients = None
    if args.training_patients:
        training_patients = {line.strip() for line in Path(args.training_patients).read_text().splitlines()
                             if line.strip()}
    test = views["test"]
    extra = [load_timm_encoder(args.timm_checkpoint, args.timm_arch, resolution=args.timm_resolution)] \
        if args.timm_checkpoint else []
    records = run_audits(generator_name=card.name, train=views["train"], holdout=views["val"],
                         synthetic=SyntheticBatch(images=images[:, None], labels=labels),
                         generator_training_patients=training_patients, val_patients=views["val"].patient_ids,
                         test_patients=test.patient_ids if test is not None else set(), encoder=encoder,
                         config=config, out_dir=out / "audits", card=card, test=test, extra_extractors=extra)
    atomic_write_json(out / "audits" / f"{card.name}.json", records)
    print(to_json_text(records) if args.json else summarise(records), file=sys.stdout)
    return 1 if any(r["status"] == "fail" for r in records) else 0
