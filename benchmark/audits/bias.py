"""Bias amplification: subgroup distributions of the synthetic set vs the real training set vs the target.

For density, age band, lesion type and pathology (``label``) the audit compares category shares of
the synthetic set with (a) the real training split and (b) the target population (the test split's
distribution, or one the user gives in the audit config). It reports total variation distance
``TV = ½ Σ|p − q|`` with a bootstrap CI and a chi-square goodness-of-fit test of the synthetic
counts against the target shares. A TV above ``tv_warn`` / ``tv_fail`` (vs the target) flags the
shift. When an oracle is given, density / lesion type / label are also measured on the images
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

from benchmark.audits.common import audit_record, status_by_thresholds

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


def distribution_record(generator: str, attribute: str, source: str, synthetic_values: Any, train_values: Any,
                        target_shares: dict[str, float], *, config: dict, seed: int = 0) -> dict:
    """One bias record: TV(synthetic, target) drives the status; train shares and chi-square are evidence."""
    cats = BIAS_ATTRIBUTES[attribute]
    syn = np.asarray([str(v) for v in synthetic_values])
    counts = category_counts(syn, cats)
    check = f"{attribute}_distribution" + ("" if source == "labels" else f"_{source}")
    if counts.sum() == 0 or not np.isfinite(list(target_shares.values())).all():
        return audit_record(generator, "bias", check, "skip", message=f"no known {attribute} values to compare")
    syn_shares, train_shares = category_shares(syn, cats), category_shares(train_values, cats)
    tv_target = total_variation(syn_shares, target_shares)
    tv_train = total_variation(syn_shares, train_shares) if np.isfinite(list(train_shares.values())).all() else None
    chi2, p_value = chi_square_vs_target(counts, np.array([target_shares.get(c, 0.0) for c in cats]))
    status = status_by_thresholds(tv_target, config["tv_warn"], config["tv_fail"])
    over = max(cats, key=lambda c: syn_shares[c] - target_shares.get(c, 0.0))
    under = min(cats, key=lambda c: syn_shares[c] - target_shares.get(c, 0.0))
    evidence = {"n": int(counts.sum()), "source": source, "synthetic": syn_shares, "train": train_shares,
                "target": target_shares, "tv_vs_target_ci": tv_bootstrap_ci(syn, cats, target_shares,
                                                                             n_boot=config["n_boot"], seed=seed),
                "tv_vs_train": tv_train, "chi2": chi2, "chi2_p": p_value,
                "distributions": {attribute: {"real": train_shares, "synthetic": syn_shares, "target": target_shares}}}
    message = (f"{attribute} ({source}): TV {tv_target:.2f} vs target (warn {config['tv_warn']}, fail "
               f"{config['tv_fail']}); most over-represented {over} ({syn_shares[over]:.0%} vs "
               f"{target_shares.get(over, 0.0):.0%}), most under-represented {under} "
               f"({syn_shares[under]:.0%} vs {target_shares.get(under, 0.0):.0%})")
    return audit_record(generator, "bias", check, status, value=tv_target, threshold=config["tv_fail"],
                        evidence=evidence, message=message)


def bias_audit(generator: str, *, synthetic_labels: Any, train_manifest: Any, target: Any, config: dict,
               oracle_labels: dict[str, Any] | None = None, seed: int = 0) -> list[dict]:
    """Bias records for every attribute present (declared labels, plus oracle-measured when given).

    Args:
        synthetic_labels: the batch's label table.
        train_manifest: the real training rows.
        target: a manifest-like table (the test split) or a mapping attribute → {category: share}.
        oracle_labels: attribute → predicted classes of the synthetic images.

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
        for source, values in sources.items():
            records.append(distribution_record(generator, attr, source, values, train_manifest[attr], target_shares,
                                               config=config, seed=seed))
    return records
