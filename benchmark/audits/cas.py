"""Classification accuracy score (Ravuri & Vinyals 2019): train on synthetic only, test on real held-out.

A classifier with the domain encoder's architecture and recipe is trained on the synthetic images
and the labels the generator declared for them, then scored on real held-out images — overall and
per density and lesion type — next to the same recipe trained on real training images (the oracle)
so the gap, not the raw accuracy, is what is judged. Status: ``warn`` when the synthetic-trained
accuracy falls more than ``cas_warn_gap`` below the real-trained one, ``fail`` beyond ``cas_fail_gap``
(both on balanced accuracy of the ``label`` head when present, else the first attribute).

Example:
    >>> cas_audit("g", synthetic=batch, holdout=val, real_encoder=enc, config=cfg)  # doctest: +SKIP
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import balanced_accuracy_score

from mammobench.audits.common import audit_record, clopper_pearson, status_by_thresholds
from mammobench.audits.encoder import train_domain_encoder


class _LabelledImages:
    """Minimal TrainView-like object over synthetic images and their declared labels."""

    def __init__(self, images: np.ndarray, labels: pd.DataFrame):
        self.images = images[:, 0] if images.ndim == 4 else images
        self.manifest = labels.reset_index(drop=True)
        self.manifest_hash = ""

    def __len__(self) -> int:
        return len(self.manifest)


def _scores(predicted: dict[str, np.ndarray], manifest: pd.DataFrame, attr: str) -> dict[str, Any]:
    truth = manifest[attr].fillna("").astype(str).to_numpy()
    known = truth != ""
    pred = predicted[attr].astype(str)
    out: dict[str, Any] = {}
    for group_attr in ("overall", "density", "lesion_type"):
        groups = ["overall"] if group_attr == "overall" else sorted(set(manifest[group_attr].astype(str)) - {""})
        for g in groups:
            sel = known & (True if g == "overall" else (manifest[group_attr].astype(str) == g).to_numpy())
            k, n = int((pred[sel] == truth[sel]).sum()), int(sel.sum())
            key = g if group_attr == "overall" else f"{group_attr}={g}"
            out[key] = {"n": n, "accuracy": k / n if n else float("nan"), "ci": list(clopper_pearson(k, n))}
    out["balanced_accuracy"] = float(balanced_accuracy_score(truth[known], pred[known])) if known.any() else float("nan")
    return out


def cas_audit(generator: str, *, synthetic: Any, holdout: Any, real_encoder: Any, config: dict, seed: int = 0) -> list[dict]:
    """CAS records: synthetic-trained vs real-trained accuracy on the real held-out images."""
    view = _LabelledImages(np.asarray(synthetic.images, np.float32), synthetic.labels)
    try:
        syn_model = train_domain_encoder(view, seed=seed, epochs=config["cas_epochs"], resolution=real_encoder.resolution,
                                         width=real_encoder.width, device=str(real_encoder.device))
    except Exception as err:  # DataError: labels carry fewer than two classes
        return [audit_record(generator, "fidelity", "classification_accuracy_score", "skip",
                             message=f"cannot train on the synthetic labels: {err}")]
    attrs = [a for a in ("label", "density", "lesion_type") if a in syn_model.classes and a in real_encoder.classes
             and a in holdout.manifest]
    if not attrs:
        return [audit_record(generator, "fidelity", "classification_accuracy_score", "skip",
                             message="no attribute shared by the synthetic labels, the oracle and the held-out set")]
    syn_pred, real_pred = syn_model.predict(holdout.images), real_encoder.predict(holdout.images)
    records = []
    for attr in attrs:
        syn, real = _scores(syn_pred, holdout.manifest, attr), _scores(real_pred, holdout.manifest, attr)
        gap = real["balanced_accuracy"] - syn["balanced_accuracy"]
        records.append(audit_record(
            generator, "fidelity", f"classification_accuracy_score_{attr}",
            status_by_thresholds(gap, config["cas_warn_gap"], config["cas_fail_gap"]),
            value=syn["balanced_accuracy"], threshold=real["balanced_accuracy"] - config["cas_warn_gap"],
            evidence={"n": len(holdout.manifest), "n_synthetic_train": len(view), "synthetic_trained": syn,
                      "real_trained": real, "extractor": f"cas:{syn_model.name}", "resolution": list(syn_model.resolution)},
            message=(f"{attr}: trained on synthetic only, balanced accuracy {syn['balanced_accuracy']:.2f} on real "
                     f"held-out images vs {real['balanced_accuracy']:.2f} when trained on real (gap {gap:+.2f})")))
    return records
