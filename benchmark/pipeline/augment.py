"""The synthetic stage of a run: fit generators on the train view, sample, audit, keep sample grids.

For every synthetic arm (generator × ratio) this writes, once (a resumed run reuses them):

* ``synthetic/<arm>__r<ratio>.npz`` — the images the arm's cells train on (see ``arms.save_synthetic``);
* ``samples/<arm>.npz`` — small real vs synthetic grids per condition for the report
  (arrays ``real__<attr>=<value>`` and ``synthetic__<attr>=<value>``, ``[k, H, W]`` in [0, 1]);
* ``audits/<arm>.json`` — the audit records of :func:`mammobench.audits.run_audits`.

Example:
    >>> sorted(sample_conditions(__import__("pandas").DataFrame({"density": ["A", "D"], "label": ["normal"] * 2})))
    ['density=A', 'density=D', 'label=normal']
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mammobench.io import atomic_write_bytes, atomic_write_json, read_json
from mammobench.pipeline.arms import ArmSpec, make_synthetic, save_synthetic
from mammobench.pipeline.cells import format_ratio
from mammobench.protocols import SyntheticBatch, TrainView

logger = logging.getLogger(__name__)
GRID_ATTRIBUTES = ("density", "label")
PER_CONDITION = 4


def sample_conditions(labels: pd.DataFrame) -> list[str]:
    """The ``attr=value`` conditions present in a labels table (for sample grids)."""
    return [f"{a}={v}" for a in GRID_ATTRIBUTES if a in labels for v in sorted(labels[a].astype(str).unique()) if v]


def _pick(images: np.ndarray, labels: pd.DataFrame, condition: str) -> np.ndarray:
    attr, value = condition.split("=", 1)
    idx = np.flatnonzero(labels[attr].astype(str).to_numpy() == value)[:PER_CONDITION]
    return np.asarray(images[idx], dtype=np.float32).reshape(len(idx), *images.shape[-2:])


def write_samples(run_dir: Path, arm: str, view: TrainView, batch: SyntheticBatch) -> Path:
    """Real and synthetic example images per condition → ``samples/<arm>.npz``."""
    import io

    real_labels = view.manifest
    arrays: dict[str, np.ndarray] = {}
    for cond in sample_conditions(batch.labels):
        arrays[f"synthetic__{cond}"] = _pick(batch.images, batch.labels, cond)
        if cond.split("=")[0] in real_labels:
            arrays[f"real__{cond}"] = _pick(view.images, real_labels, cond)
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    path = Path(run_dir) / "samples" / f"{arm}.npz"
    atomic_write_bytes(path, buf.getvalue())
    return path


def _load_batch(path: Path) -> SyntheticBatch:
    with np.load(path) as npz:
        labels = pd.DataFrame({k[5:]: npz[k] for k in npz.files if k.startswith("cond_")})
        return SyntheticBatch(images=npz["images"], labels=labels, provenance={"path": str(path)})


def synthesize(run_dir: Path, arm: ArmSpec, view: TrainView, *, policy: str, seed: int, positive: list[str],
               cache_dir: Path) -> tuple[SyntheticBatch, dict[str, Any]]:
    """Make (or reuse) one arm's synthetic set; return it and the arm's record for result.json."""
    path = Path(run_dir) / "synthetic" / f"{arm.arm}__r{format_ratio(arm.ratio)}.npz"
    meta_path = path.with_suffix(".json")
    if path.is_file() and meta_path.is_file():
        logger.info(f"skip synthetic {path.name} (done)")
        return _load_batch(path), read_json(meta_path)
    batch, generator = make_synthetic(arm, view, policy=policy, seed=seed, cache_dir=cache_dir)
    save_synthetic(path, batch, positive)
    card = getattr(generator, "card", None)
    params = generator.get_params() if hasattr(generator, "get_params") else {}
    record = {"arm": arm.arm, "generator": arm.generator, "ratio": arm.ratio, "n_real": len(view),
              "n_synthetic": len(batch), "conditioning": policy, "params": params,
              "requested_shares": batch.provenance.get("requested_shares", {}),
              "generator_card": card.__dict__ if card is not None and hasattr(card, "__dict__") else {},
              "density_mix": batch.labels["density"].astype(str).value_counts().to_dict()
              if "density" in batch.labels else {}}
    atomic_write_json(meta_path, record)
    write_samples(run_dir, arm.arm, view, _load_batch(path))
    return _load_batch(path), read_json(meta_path)


@dataclass(frozen=True)
class AuditInputs:
    """What every synthetic arm's audits share: the real views, the split patients, the encoder, the config."""

    view: TrainView
    holdout: Any  # a TrainView-like view of the validation images
    patients: dict[str, set[str]]  # split -> patient ids
    encoder: Any
    config: dict


def audit(run_dir: Path, arm: ArmSpec, batch: SyntheticBatch, inputs: AuditInputs, arm_record: dict) -> list[dict]:
    """Run (or reuse) the audits of one synthetic arm; records are written to ``audits/<arm>.json``.

    ``arm_record`` is the arm's record from :func:`synthesize`: its generator card feeds the card-claims
    leakage check and tells the adherence audit which conditions the generator claims to honour; its
    ``requested_shares`` are what the adherence audit compares with.
    """
    from mammobench.audits import run_audits
    from mammobench.cards import GeneratorCard

    path = Path(run_dir) / "audits" / f"{arm.arm}.json"
    if path.is_file():
        return read_json(path)
    card = arm_record.get("generator_card") or None
    records = run_audits(generator_name=arm.arm, train=inputs.view, holdout=inputs.holdout, synthetic=batch,
                         generator_training_patients=inputs.patients["train"], val_patients=inputs.patients["val"],
                         test_patients=inputs.patients["test"], encoder=inputs.encoder, config=inputs.config,
                         out_dir=path.parent,
                         card=GeneratorCard.from_dict(dict(card), source=f"{arm.arm} card") if card else None,
                         requested=arm_record.get("requested_shares") or None)
    atomic_write_json(path, records)
    return records
