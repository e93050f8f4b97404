"""Bias amplification: subgroup distributions of the synthetic set vs the real training set vs the target.

For density, age band, lesion type and pathology (``label``) the audit compares category shares of
the synthetic set with a *reference* and reports total variation distance ``TV = ½ Σ|p − q|`` with a
bootstrap CI and a chi-square goodness-of-fit test; a TV above ``tv_warn`` / ``tv_fail`` flags the
shift. The reference is what the synthetic set should look like:

* in a pipeline run, for every attribute the harness **requested** under the arm's conditioning
  policy, the requested shares (a ``balance_density`` arm asks for many dense images on purpose; a
  generator that returns fatty ones instead is the bias);
* otherwise the **target** population: one the user gives, else the test split (else validation).

The real training split, the target population (test split) and the augmented set (real training +
synthetic) are evidence, with TV(train, target) → TV(real + synthetic, target): whether the synthetic
data move the training set toward or away from the population the model will meet. When an oracle is given, density / lesion type / label are also measured on the images
themselves ("oracle" source), so a generator that mislabels its output cannot hide a shift.

Example:
    >>> shares = category_shares(["A", "A", "B", ""], ("A", "B", "C", "D"))
    >>> round(shares["A"], 3), round(total_variation(shares, {"A": 0.5, "B": 0.5, "C": 0.0, "D": 0.0}), 3)
    (0.667, 0.167)
"""
from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats

from mammobench.audits.common import audit_record, status_by_thresholds

BIAS_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "density": ("A", "B", "C", "D"),
    "age_band": ("<50", "50-59", "60-69", "70+"),
    "lesion_type": ("none", "mass", "calcification", "architectural_distortion", "asymmetry", "other"),
    "label": ("normal", "benign", "malignant"),
}


def category_counts(values: Any, categories: tuple[str, ...]) -> np.ndarray:
    """Counts of each category (unknown / empty values are ignored)."""
    vals = [str(v) for v in values]
    return np.array([sum(v == c for v in vals) for c in categories], dtype=np.int64)


def category_shares(values: Any, categories: tuple[str, ...]) -> dict[str, float]:
    """Shares of each known category (NaN when there is none)."""
    counts = category_counts(values, categories)
    total = counts.sum()
    return {c: (float(n / total) if total else float("nan")) for c, n in zip(categories, counts)}


def total_variation(p: dict[str, float], q: dict[str, float]) -> float:
    """½ Σ |p_c − q_c| over the union of categories."""
    keys = set(p) | set(q)
    return float(0.5 * sum(abs(p.get(k, 0.0) - q.get(k, 0.0)) for k in keys))


def chi_square_vs_target(counts: np.ndarray, target: np.ndarray, eps: float = 1e-3) -> tuple[float, float]:
    """Chi-square goodness of fit of counts against target shares (zero shares smoothed by ``eps``)."""
    share = np.asarray(target, dtype=float) + eps
    expected = share / share.sum() * counts.sum()
    statistic, p_value = stats.chisquare(counts, expected)
    return float(statistic), float(p_value)


def tv_bootstrap_ci(values: np.ndarray, categories: tuple[str, ...], target: dict[str, float], *,
                    n_boot: int, seed: int) -> list[float]:
    """Percentile CI of TV(synthetic shares, target) resampling synthetic images."""
    rng = np.random.default_rng(seed)
    known = values[np.isin(values, categories)]
    if not len(known) or n_boot <= 0:
        return [float("nan"), float("nan")]
    reps = [total_variation(category_shares(known[rng.integers(0, len(known), len(known))], categories), target)
            for _ in range(n_boot)]
    return [float(v) for v in np.percentile(reps, [2.5, 97.5])]


def _augmented_shares(train_values: Any, synthetic_values: np.ndarray, cats: tuple[str, ...]) -> dict[str, float]:
    return category_shares([str(v) for v in train_values] + [str(v) for v in synthetic_values], cats)


def distribution_record(generator: str, attribute: str, source: str, synthetic_values: Any, train_values: Any,
                        target_shares: dict[str, float], *, config: dict, seed: int = 0,
                        reference_shares: dict[str, float] | None = None, reference: str = "target") -> dict:
    """One bias record: TV(synthetic, reference) drives the status; train, target and the augmented set
    (real training + synthetic) are evidence.

    ``reference`` names what ``reference_shares`` are: ``target`` (the population) or ``requested`` (the
    conditions the harness asked for under the arm's conditioning policy).
    """
    cats = BIAS_ATTRIBUTES[attribute]
    ref_shares = target_shares if reference_shares is None else reference_shares
    syn = np.asarray([str(v) for v in synthetic_values])
    counts = category_counts(syn, cats)
    check = f"{attribute}_distribution" + ("" if source == "labels" else f"_{source}")
    if counts.sum() == 0 or not np.isfinite(list(ref_shares.values())).all():
        return audit_record(generator, "bias", check, "skip", message=f"no known {attribute} values to compare")
    syn_shares, train_shares = category_shares(syn, cats), category_shares(train_values, cats)
    tv_ref = total_variation(syn_shares, ref_shares)
    train_ok = np.isfinite(list(train_shares.values())).all()
    tv_train = total_variation(syn_shares, train_shares) if train_ok else None
    augmented = _augmented_shares(train_values, syn, cats)
    target_ok = np.isfinite(list(target_shares.values())).all()
    chi2, p_value = chi_square_vs_target(counts, np.array([ref_shares.get(c, 0.0) for c in cats]))
    status = status_by_thresholds(tv_ref, config["tv_warn"], config["tv_fail"])
    over = max(cats, key=lambda c: syn_shares[c] - ref_shares.get(c, 0.0))
    under = min(cats, key=lambda c: syn_shares[c] - ref_shares.get(c, 0.0))
    evidence = {"n": int(counts.sum()), "source": source, "reference": reference, "synthetic": syn_shares,
                "reference_shares": ref_shares, "train": train_shares, "target": target_shares,
                "augmented": augmented, "tv_vs_reference_ci": tv_bootstrap_ci(syn, cats, ref_shares,
                                                                               n_boot=config["n_boot"], seed=seed),
                "tv_vs_train": tv_train, "tv_vs_target": total_variation(syn_shares, target_shares) if target_ok else None,
                "tv_train_vs_target": total_variation(train_shares, target_shares) if target_ok and train_ok else None,
                "tv_augmented_vs_target": total_variation(augmented, target_shares) if target_ok else None,
                "chi2": chi2, "chi2_p": p_value,
                "distributions": {attribute: {"real": train_shares, "synthetic": syn_shares, "target": target_shares,
                                              "real + synthetic": augmented}}}
    toward = ""
    if target_ok and train_ok:
        before, after = evidence["tv_train_vs_target"], evidence["tv_augmented_vs_target"]
        toward = f"; real + synthetic is {'closer to' if after < before else 'further from'} the target (TV {before:.2f} → {after:.2f})"
    message = (f"{attribute} ({source}): TV {tv_ref:.2f} vs {reference} (warn {config['tv_warn']}, fail "
               f"{config['tv_fail']}); most over-represented {over} ({syn_shares[over]:.0%} vs "
               f"{ref_shares.get(over, 0.0):.0%}), most under-represented {under} "
               f"({syn_shares[under]:.0%} vs {ref_shares.get(under, 0.0):.0%}){toward}")
    return audit_record(generator, "bias", check, status, value=tv_ref, threshold=config["tv_fail"],
                        evidence=evidence, message=message)


def bias_audit(generator: str, *, synthetic_labels: Any, train_manifest: Any, target: Any, config: dict,
               oracle_labels: dict[str, Any] | None = None, seed: int = 0,
               requested: dict[str, dict[str, float]] | None = None) -> list[dict]:
    """Bias records for every attribute present (declared labels, plus oracle-measured when given).

    Args:
        synthetic_labels: the batch's label table.
        train_manifest: the real training rows.
        target: a manifest-like table (the test split) or a mapping attribute → {category: share}.
        oracle_labels: attribute → predicted classes of the synthetic images.
        requested: attribute → {category: share} the harness asked the generator for; a requested
            attribute is judged against these shares, the others against ``target``.

    Example:
        >>> bias_audit("g", synthetic_labels=lab, train_manifest=m, target=test_m, config=cfg)  # doctest: +SKIP
    """
    records = []
    for attr, cats in BIAS_ATTRIBUTES.items():
        if isinstance(target, dict):
            target_shares = {c: float(target.get(attr, {}).get(c, 0.0)) for c in cats} if attr in target else None
        else:
            target_shares = category_shares(target[attr], cats) if attr in target else None
        if target_shares is None or attr not in train_manifest:
            continue
        sources = {"labels": synthetic_labels[attr]} if attr in synthetic_labels else {}
        if oracle_labels and attr in oracle_labels:
            sources["oracle"] = oracle_labels[attr]
        ref_name, ref_shares = "target", None
        if requested and attr in requested:
            ref_name, ref_shares = "requested", {c: float(requested[attr].get(c, 0.0)) for c in cats}
        for source, values in sources.items():
            records.append(distribution_record(generator, attr, source, values, train_manifest[attr], target_shares,
                                               config=config, seed=seed, reference_shares=ref_shares,
                                               reference=ref_name))
    return records
