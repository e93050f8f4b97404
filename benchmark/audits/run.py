"""``run_audits``: every audit of one generator's synthetic set, as Contract-5 records plus figure data.

Order: leakage first (a generator trained on held-out patients fails before anything else is
trusted), then fidelity, conditional adherence, classification accuracy score, memorisation and
bias amplification. Figure data (closest-pair images, NN-distance histograms, distributions) are
written as ``.npz`` / ``.json`` under ``out_dir`` and named in each record's ``evidence.files``.
Thresholds live in :data:`DEFAULT_CONFIG`; ``config`` overrides any of them (unknown keys are an
error). See ``docs/audits.md`` for what each threshold means and how it is calibrated.

Example:
    >>> records = run_audits(generator_name="ddpm", train=view, holdout=val, synthetic=batch,
    ...                      generator_training_patients=view.patient_ids, val_patients=vp,
    ...                      test_patients=tp, encoder=enc, config={}, out_dir="runs/x/audits")  # doctest: +SKIP
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

import numpy as np

from mammobench.audits.adherence import adherence_audit
from mammobench.audits.bias import bias_audit
from mammobench.audits.common import patient_halves
from mammobench.audits.encoder import as_image_stack
from mammobench.audits.fidelity import fd_with_baseline, fidelity_audit
from mammobench.audits.leakage import card_claims_record, near_duplicate_record, patient_overlap_record
from mammobench.audits.memorisation import flipped_pixel_reference, memorisation_audit, pixel_embedding, standardise
from mammobench.errors import ConfigError, DataError
from mammobench.io import atomic_write_bytes, atomic_write_json

DEFAULT_CONFIG: dict[str, Any] = {
    "alpha": 0.01,              # calibrated FPR of copy / near-duplicate detection
    "copy_fail_rate": 0.05,     # flag rate above which a significant excess of copies fails (else warns)
    "ct_warn": -1.5, "ct_fail": -3.0,          # data-copying C_T (≪ 0 = copying)
    "mia_auc_warn": 0.6, "mia_auc_fail": 0.75,  # membership-inference attack AUC
    "dcr_share_fail": 0.6,      # share of synthetic NNs in training (vs held-out) above which a significant excess fails
    "n_cells": 5, "top_k": 8, "n_boot": 200, "n_boot_fd": 50, "pixel_size": 32,
    "fd_ratio_warn": 3.0, "fd_ratio_fail": None,  # FD / real-vs-real FD at the same N
    "coverage_gap_warn": 0.25, "prdc_k": 5,
    "moment_smd_warn": 1.0, "moment_smd_fail": None,
    "ms_ssim_pairs": 100, "ms_ssim_gap_warn": 0.1, "ms_ssim_gap_fail": 0.3,
    "adherence_warn_margin": 0.1, "adherence_fail_margin": 0.25,
    "adherence_alpha": 0.05,    # one-sided test of agreement above chance (adherence.chance_test)
    "cas": True, "cas_epochs": None, "cas_warn_gap": 0.15, "cas_fail_gap": None,
    "tv_warn": 0.15, "tv_fail": 0.3,           # total variation vs the target population
    "near_duplicate_fail_rate": 0.05,
    "seed": 0,
}


def resolve_config(config: dict | None) -> dict[str, Any]:
    """Defaults overridden by ``config``; unknown keys raise :class:`ConfigError` listing the valid ones."""
    config = dict(config or {})
    unknown = sorted(set(config) - set(DEFAULT_CONFIG))
    if unknown:
        raise ConfigError(f"audit config: unknown key(s) {unknown}; valid keys: {sorted(DEFAULT_CONFIG)}")
    return {**DEFAULT_CONFIG, **config}


def _npz_bytes(**arrays: np.ndarray) -> bytes:
    import io

    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


def _write_gallery(out_dir: Path, generator: str, space: str, res: dict, synthetic: np.ndarray,
                   train: np.ndarray) -> Path:
    """Closest pairs of one space for the review gallery: ``synthetic``, ``nearest`` ``[k, H, W]``,
    ``similarity`` ``[k]`` (cosine / correlation = 1 − d²/2 on unit vectors), plus indices, distances
    and the NN-distance arrays behind the threshold (histograms)."""
    s_idx = np.array([p["synthetic"] for p in res["closest"]], dtype=np.int64)
    t_idx = np.array([p["train"] for p in res["closest"]], dtype=np.int64)
    dist = np.array([p["distance"] for p in res["closest"]], dtype=np.float64)
    path = out_dir / f"{generator}_closest_{space}.npz"
    atomic_write_bytes(path, _npz_bytes(
        synthetic=synthetic[s_idx], nearest=train[t_idx], similarity=1 - dist ** 2 / 2, distance=dist,
        synthetic_index=s_idx, train_index=t_idx, synthetic_nn=res["synthetic_nn"], holdout_nn=res["holdout_nn"],
        threshold=np.array(res["threshold"])))
    return path


def _attach_files(records: list[dict], details: dict, out: Path, name: str, syn: np.ndarray, train: np.ndarray) -> None:
    """Write figure data and name it in the records (paths relative to the run folder = out's parent)."""
    bias = [r for r in records if r["audit"] == "bias" and r["status"] != "skip"]
    dist_path = out / f"{name}_distributions.json"
    if any(r["audit"] == "bias" for r in records):  # not when run_audits(only=...) left the bias audit out
        atomic_write_json(dist_path, {r["check"]: r["evidence"]["distributions"] for r in bias})
    for rec in records:
        space = rec["check"].removeprefix("copy_detection_")
        if rec["audit"] == "memorisation" and space in details:
            path = _write_gallery(out, name, space, details[space], syn, train)
            rec["evidence"]["pairs_file"] = str(path.relative_to(out.parent))
            rec["evidence"]["files"] = [str(path)]
        elif rec in bias:
            rec["evidence"]["files"] = [str(dist_path)]


def _leakage(name: str, train: Any, test: Any, card: Any, training_patients: Iterable[str] | None, val_patients: Any,
             test_patients: Any, holdout: Any, cfg: dict) -> list[dict]:
    records = [patient_overlap_record(name, training_patients, val_patients=val_patients or (),
                                      test_patients=test_patients or ()),
               card_claims_record(name, card, training_patients=training_patients)]
    train_emb = pixel_embedding(train.images, cfg["pixel_size"])
    for split, view in (("val", holdout), ("test", test)):
        if view is not None and len(view):
            records.append(near_duplicate_record(
                name, split, pixel_embedding(view.images, cfg["pixel_size"]), view.manifest["image_id"], train_emb,
                train.manifest["patient_id"], train.manifest["image_id"], alpha=cfg["alpha"],
                fail_rate=cfg["near_duplicate_fail_rate"]))
    return records


def conditional_fd(f_train: np.ndarray, train_manifest: Any, halves: tuple[np.ndarray, np.ndarray],
                   f_syn: np.ndarray, labels: Any, *, min_n: int = 10, seed: int = 0) -> dict[str, dict]:
    """FD per density and lesion type: FD(real half A of class c, synthetic labelled c) vs FD(A_c, B_c).

    Classes with fewer than ``min_n`` images in a half or in the synthetic set are left out.
    """
    out: dict[str, dict] = {}
    for attr in ("density", "lesion_type"):
        if attr not in train_manifest or attr not in labels:
            continue
        real_vals = train_manifest[attr].astype(str).to_numpy()
        syn_vals = labels[attr].astype(str).to_numpy()
        for cls in sorted(set(real_vals) - {"", "unknown"}):
            a, b = (h[real_vals[h] == cls] for h in halves)
            syn = f_syn[syn_vals == cls]
            if min(len(a), len(b), len(syn)) >= min_n:
                res = fd_with_baseline(f_train[a], f_train[b], syn, n_boot=0, seed=seed)
                out.setdefault(attr, {})[cls] = {k: res[k] for k in ("fd", "fd_real_baseline", "ratio", "n_compared")}
    return out


def extra_extractor_fd(name: str, extractor: Any, *, train_images: np.ndarray, halves: tuple[np.ndarray, np.ndarray],
                       syn_images: np.ndarray, cfg: dict, seed: int) -> dict:
    """FD vs real-vs-real baseline with an additional extractor (e.g. local Inception weights)."""
    from mammobench.audits.common import audit_record, status_by_thresholds

    f_train, f_syn = extractor.features(train_images), extractor.features(syn_images)
    fd = fd_with_baseline(f_train[halves[0]], f_train[halves[1]], f_syn, n_boot=cfg["n_boot_fd"], seed=seed)
    return audit_record(name, "fidelity", f"frechet_distance[{extractor.name}]",
                        status_by_thresholds(fd["ratio"], cfg["fd_ratio_warn"], cfg["fd_ratio_fail"]), value=fd["fd"],
                        threshold=cfg["fd_ratio_warn"], evidence={**fd, "n": fd["n_compared"], "extractor": extractor.name,
                                                                 "resolution": list(extractor.resolution)},
                        message=(f"FD {fd['fd']:.3g} vs real-vs-real {fd['fd_real_baseline']:.3g} at "
                                 f"N={fd['n_compared']} (ratio {fd['ratio']:.2f}; {extractor.name})"))


def _oracle_labels(encoder: Any, images: np.ndarray) -> dict[str, np.ndarray] | None:
    return encoder.predict(images) if hasattr(encoder, "predict") else None


#: the audits :func:`run_audits` can run (``only`` picks some; ``cas`` also needs ``config["cas"]``)
AUDIT_NAMES = ("leakage", "fidelity", "adherence", "cas", "memorisation", "bias")


def _selected(only: Iterable[str] | None) -> set[str]:
    chosen = set(AUDIT_NAMES if only is None else only)
    unknown = sorted(chosen - set(AUDIT_NAMES))
    if unknown:
        raise ConfigError(f"run_audits(only=...): unknown audit(s) {unknown}; valid: {', '.join(AUDIT_NAMES)}")
    return chosen


def run_audits(*, generator_name: str, train: Any, holdout: Any, synthetic: Any,
               generator_training_patients: Iterable[str] | None, val_patients: Iterable[str] = (),
               test_patients: Iterable[str] = (), encoder: Any, config: dict | None = None,
               out_dir: str | Path | None = None, card: Any = None, test: Any = None,
               target: Any = None, extra_extractors: Iterable[Any] = (),
               requested: dict[str, dict[str, float]] | None = None,
               only: Iterable[str] | None = None) -> list[dict]:
    """Run every audit (or the ``only`` ones) on one generator's synthetic batch and return Contract-5 records.

    Args:
        generator_name: name used in records and file names.
        train: the generator's training view (real training split).
        holdout: real held-out images (val split) with a manifest: calibration and oracle reference.
        synthetic: the :class:`~mammobench.protocols.SyntheticBatch` under audit.
        generator_training_patients: patient ids the generator was fitted on (None = unknown: skip).
        val_patients, test_patients: the detector's validation / test patient ids.
        encoder: a :class:`~mammobench.audits.encoder.DomainEncoder` (or any ``FeatureExtractor``;
            adherence, CAS and oracle bias are skipped without ``predict``).
        config: overrides of :data:`DEFAULT_CONFIG`.
        out_dir: where figure data go (default: no files written).
        card: the generator card (leakage claims, conditioning).
        test: optional test view (near-duplicate check vs training, default target population).
        target: mapping attribute → {category: share}; default the test manifest, else holdout.
        requested: attribute → {category: share} the generator was asked for (the arm's conditioning
            policy); unless ``target`` is given, the bias audit judges the synthetic shares of the requested
            attributes against it (the others against the target population).
        extra_extractors: further ``FeatureExtractor`` objects (e.g. ``load_timm_encoder(...)``) whose FD
            vs the real-vs-real baseline is reported as ``frechet_distance[<extractor name>]``.
        only: a subset of :data:`AUDIT_NAMES` to run (default: all) — the self-test runs only the audit
            that must catch each planted generator.

    Raises:
        ConfigError: unknown config keys.
        DataError: malformed images.
    """
    cfg = resolve_config(config)
    want = _selected(only)
    seed = int(cfg["seed"])
    name = generator_name
    syn_images = as_image_stack(synthetic.images, source=f"{name} synthetic images")
    if len(syn_images) < 2:
        raise DataError(f"{name}: need at least 2 synthetic images to audit, got {len(syn_images)}")
    train_images, held_images = as_image_stack(train.images), as_image_stack(holdout.images)
    out = Path(out_dir) if out_dir else None
    records = (_leakage(name, train, test, card, generator_training_patients, val_patients, test_patients, holdout, cfg)
               if "leakage" in want else [])
    if want & {"fidelity", "memorisation"}:
        f_train, f_held, f_syn = (encoder.features(x) for x in (train_images, held_images, syn_images))
    base = {"extractor": encoder.name, "resolution": encoder.resolution}
    if "fidelity" in want:
        records += _fidelity(name, train, synthetic, (f_train, f_syn), train_images, held_images, syn_images,
                             extra_extractors, cfg, base)
    if hasattr(encoder, "predict") and "adherence" in want:
        conditioning = tuple(getattr(card, "conditioning", ()) or ())
        records += adherence_audit(name, encoder=encoder, synthetic_images=syn_images, requested=synthetic.labels,
                                   holdout_images=held_images, holdout_manifest=holdout.manifest,
                                   conditioning=conditioning, config=cfg)
    if hasattr(encoder, "predict") and "cas" in want and cfg["cas"]:
        from mammobench.audits.cas import cas_audit

        cas_cfg = {**cfg, "cas_epochs": cfg["cas_epochs"] or int(encoder.info.get("epochs", 15))}
        records += cas_audit(name, synthetic=synthetic, holdout=holdout, real_encoder=encoder, config=cas_cfg, seed=seed)
    details: dict = {}
    if "memorisation" in want:
        mem_records, details = _memorisation(name, encoder, synthetic, (f_train, f_held, f_syn),
                                             (syn_images, train_images, held_images), cfg, base)
        records += mem_records
    if "bias" in want:
        target_table = target if target is not None else (test.manifest if test is not None else holdout.manifest)
        records += bias_audit(name, synthetic_labels=synthetic.labels, train_manifest=train.manifest,
                              target=target_table, config=cfg, oracle_labels=_oracle_labels(encoder, syn_images),
                              seed=seed, requested=requested if target is None else None)
    if out is not None:
        _attach_files(records, details, out, name, syn_images, train_images)
    return records


def _fidelity(name: str, train: Any, synthetic: Any, feats: tuple, train_images: np.ndarray,
              held_images: np.ndarray, syn_images: np.ndarray, extra_extractors: Iterable[Any], cfg: dict,
              base: dict) -> list[dict]:
    """Fidelity records: FD vs the real-vs-real baseline (+ per condition, + extra extractors), precision/recall."""
    f_train, f_syn = feats
    seed = int(cfg["seed"])
    half_a, half_b = patient_halves(train.manifest["patient_id"], seed=seed)
    records = fidelity_audit(name, real_a=f_train[half_a], real_b=f_train[half_b], synthetic=f_syn,
                             real_images=held_images, synthetic_images=syn_images, config=cfg, seed=seed, **base)
    records += [extra_extractor_fd(name, ext, train_images=train_images, halves=(half_a, half_b),
                                   syn_images=syn_images, cfg=cfg, seed=seed) for ext in extra_extractors]
    fd_record = next(r for r in records if r["check"] == "frechet_distance")
    fd_record["evidence"]["by_condition"] = conditional_fd(f_train, train.manifest, (half_a, half_b), f_syn,
                                                           synthetic.labels, seed=seed)
    return records


def _memorisation(name: str, encoder: Any, synthetic: Any, feats: tuple, images: tuple, cfg: dict,
                  base: dict) -> tuple[list[dict], dict]:
    """Memorisation records and their closest-pair details (feature space and pixel space)."""
    f_train, f_held, f_syn = feats
    syn_images, train_images, held_images = images
    if hasattr(encoder, "descriptor"):
        feature_space = tuple(encoder.descriptor(x) for x in (syn_images, train_images, held_images))
    else:
        feature_space = (standardise(f_syn, f_train), standardise(f_train, f_train), standardise(f_held, f_train))
    train_pixels, train_index = flipped_pixel_reference(train_images, cfg["pixel_size"])
    spaces = {"feature": feature_space,
              "pixel": (pixel_embedding(syn_images, cfg["pixel_size"]), train_pixels,
                        pixel_embedding(held_images, cfg["pixel_size"]), train_index)}
    groups = synthetic.labels["density"].astype(str).to_numpy() if "density" in synthetic.labels else None
    return memorisation_audit(name, spaces=spaces, config=cfg, groups=groups, seed=int(cfg["seed"]), **base)


def summarise(records: list[dict]) -> str:
    """Plain-text pass/warn/fail table (one line per record)."""
    width = max((len(f"{r['audit']}/{r['check']}") for r in records), default=10)
    lines = [f"{'check':<{width}}  status  value       message"]
    for r in records:
        value = r.get("value")
        shown = f"{value:.4g}" if isinstance(value, (int, float)) and value is not None else str(value)
        lines.append(f"{r['audit'] + '/' + r['check']:<{width}}  {r['status']:<6}  {shown:<10}  {r['message']}")
    return "\n".join(lines)
