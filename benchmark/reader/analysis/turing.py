"""Visual Turing test analysis: can readers tell synthetic images from real ones?

Implements ``reference/statistics.md`` B-7 on a long table (``truth`` 1 = synthetic, ``rating`` =
reader's confidence that the image is synthetic, optional ``call`` 1 = called synthetic):

1. per-reader accuracy with exact Clopper–Pearson CIs, exact binomial test against 0.5,
   sensitivity for synthetic and specificity for real;
2. pooled accuracy: exact CI over all reads (ignores clustering, shown for reference) and a
   two-way (readers × images) bootstrap CI that respects the clustering;
3. reader AUC for detecting synthetic images from the ratings, and the reader-averaged AUC with the
   single-test OR–Hillis CI (generalises to new readers and images);
4. an equivalence test (TOST) against ``0.5 ± margin``: "indistinguishable" only when the
   ``1 − 2α`` CIs (exact and clustered bootstrap) of pooled accuracy lie inside the margin;
5. Fleiss' κ of the binary calls over the images read by every reader.

Example:
    >>> import pandas as pd
    >>> t = pd.DataFrame({"reader": ["a"] * 4 + ["b"] * 4, "treatment": "turing",
    ...                   "case": list("wxyz") * 2, "truth": [0, 0, 1, 1] * 2,
    ...                   "rating": [1, 4, 2, 5, 2, 1, 5, 4]})
    >>> turing_analysis(t, n_boot=200)["pooled"]["accuracy"]  # calls: rating > 3 (mid-scale)
    0.75
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from mammobench.errors import DataError, StatisticsError
from mammobench.reader.analysis.io import to_mrmc_data
from mammobench.stats.mrmc import empirical_auc, jackknife_cov, reader_aucs
from mammobench.stats.obuchowski_rockette import single_treatment_cis
from mammobench.stats.proportions import clopper_pearson


def tost_binomial(successes: int, n: int, margin: float, alpha: float = 0.05) -> dict[str, Any]:
    """Exact two one-sided binomial tests of ``|p − 0.5| < margin``.

    ``p_lower = P(X ≥ x | p = 0.5 − margin)``, ``p_upper = P(X ≤ x | p = 0.5 + margin)``; equivalence
    is declared when both are below ``alpha`` (the ``1 − 2α`` exact CI lies inside the margin).

    Example:
        >>> tost_binomial(110, 214, 0.1)["equivalent"]
        True
    """
    p_lower = float(stats.binom.sf(successes - 1, n, 0.5 - margin))
    p_upper = float(stats.binom.cdf(successes, n, 0.5 + margin))
    ci = clopper_pearson(successes, n, 2 * alpha)
    return {"margin": margin, "p_lower": p_lower, "p_upper": p_upper, "p_value": max(p_lower, p_upper),
            "ci_low": ci[0], "ci_high": ci[1], "ci_level": 1 - 2 * alpha,
            "equivalent": bool(max(p_lower, p_upper) < alpha)}


def fleiss_kappa(counts: np.ndarray) -> float:
    """Fleiss' κ from an ``[N items, k categories]`` table of rater counts (equal raters per item).

    Example:
        >>> round(fleiss_kappa(np.array([[2, 0], [0, 2], [1, 1]])), 4)
        0.3333
    """
    counts = np.asarray(counts, dtype=float)
    n_raters = counts.sum(axis=1)
    if counts.shape[0] < 1 or np.any(n_raters != n_raters[0]) or n_raters[0] < 2:
        raise StatisticsError("Fleiss' kappa needs every item rated by the same number (>= 2) of raters")
    n = n_raters[0]
    p_j = counts.sum(axis=0) / counts.sum()
    p_i = ((counts ** 2).sum(axis=1) - n) / (n * (n - 1))
    p_bar, p_e = p_i.mean(), (p_j ** 2).sum()
    if p_e == 1.0:
        return float("nan")
    return float((p_bar - p_e) / (1 - p_e))


def add_calls(table: pd.DataFrame, threshold: float | None = None) -> pd.DataFrame:
    """Ensure a 0/1 ``call`` column (1 = called synthetic); derive ``rating > threshold`` if absent.

    The default threshold is the midpoint of the observed rating range.
    """
    out = table.copy()
    if "call" in out.columns and threshold is None and out["call"].notna().all():
        calls = pd.to_numeric(out["call"], errors="coerce")
        if not calls.isin([0, 1]).all():
            raise DataError("ratings: column 'call' must be 0 (real) or 1 (synthetic)")
        out["call"] = calls.astype(int)
        return out
    if threshold is None:
        threshold = (out["rating"].min() + out["rating"].max()) / 2.0
    out["call"] = (out["rating"] > threshold).astype(int)
    return out


def _reader_row(reads: pd.DataFrame, alpha: float) -> dict[str, Any]:
    correct = int((reads["call"] == reads["truth"]).sum())
    n = len(reads)
    synth, real = reads[reads["truth"] == 1], reads[reads["truth"] == 0]
    low, high = clopper_pearson(correct, n, alpha)
    try:
        auc = empirical_auc(reads["truth"], reads["rating"])
    except StatisticsError:
        auc = float("nan")
    return {"n": n, "correct": correct, "accuracy": correct / n, "ci_low": low, "ci_high": high,
            "p_value": float(stats.binomtest(correct, n, 0.5).pvalue),
            "sensitivity_synthetic": float((synth["call"] == 1).mean()) if len(synth) else float("nan"),
            "specificity_real": float((real["call"] == 0).mean()) if len(real) else float("nan"),
            "auc": auc}


def _two_way_bootstrap(table: pd.DataFrame, n_boot: int, seed: int, alpha: float) -> tuple[float, float]:
    """Percentile CI of pooled accuracy resampling readers and images (both with replacement)."""
    wide = table.assign(ok=(table["call"] == table["truth"]).astype(float)).pivot_table(
        index="reader", columns="case", values="ok", aggfunc="mean")
    values, present = np.nan_to_num(wide.to_numpy()), ~np.isnan(wide.to_numpy())
    rng = np.random.default_rng(seed)
    n_r, n_c = values.shape
    accs = np.empty(n_boot)
    for b in range(n_boot):
        ri, ci = rng.integers(0, n_r, n_r), rng.integers(0, n_c, n_c)
        mask = present[np.ix_(ri, ci)]
        accs[b] = values[np.ix_(ri, ci)].sum() / max(mask.sum(), 1)
    return float(np.quantile(accs, alpha / 2)), float(np.quantile(accs, 1 - alpha / 2))


def _fleiss(table: pd.DataFrame) -> dict[str, Any]:
    readers = table["reader"].nunique()
    by_case = table.groupby("case")["call"].agg(["sum", "count"])
    full = by_case[by_case["count"] == readers]
    if readers < 2 or full.empty:
        return {"kappa": float("nan"), "n_items": 0, "n_raters": readers}
    counts = np.column_stack([full["count"] - full["sum"], full["sum"]])
    return {"kappa": fleiss_kappa(counts), "n_items": int(len(full)), "n_raters": readers}


def _reader_averaged_auc(table: pd.DataFrame, alpha: float) -> dict[str, Any] | None:
    """Reader-averaged AUC with the single-test OR–Hillis CI (needs ≥ 2 readers, fully crossed)."""
    single = table.assign(treatment="turing")
    try:
        data = to_mrmc_data(single, source="turing reads")
    except DataError:
        return None
    if len(data.readers) < 2:
        return None
    return single_treatment_cis(reader_aucs(data), jackknife_cov(data), ["turing"], alpha)[0]


def turing_analysis(table: pd.DataFrame, *, margin: float = 0.1, alpha: float = 0.05, n_boot: int = 2000,
                    seed: int = 0, threshold: float | None = None) -> dict[str, Any]:
    """Analyse a visual Turing test (B-7); returns a JSON-ready dict.

    Args:
        table: long table, ``truth`` 1 = synthetic, ``rating`` = confidence synthetic.
        margin: equivalence margin δ around 0.5 for TOST.
        alpha: level of CIs and tests (TOST uses ``1 − 2α`` CIs).
        n_boot: two-way bootstrap replicates; seed: its RNG seed.
        threshold: derive calls as ``rating > threshold`` when the table has no ``call`` column.

    Example:
        >>> # see the module docstring
    """
    if not 0 < margin < 0.5:
        raise StatisticsError(f"margin must be in (0, 0.5); got {margin}")
    table = add_calls(table, threshold)
    per_reader = [{"reader": r, **_reader_row(g, alpha)} for r, g in table.groupby("reader", sort=True)]
    correct, n = int((table["call"] == table["truth"]).sum()), len(table)
    boot_low, boot_high = _two_way_bootstrap(table, n_boot, seed, 2 * alpha)
    pooled = {"n_reads": n, "n_readers": int(table["reader"].nunique()), "n_images": int(table["case"].nunique()),
              "correct": correct, "accuracy": correct / n, **dict(zip(("ci_low", "ci_high"),
                                                                       clopper_pearson(correct, n, alpha)))}
    tost = tost_binomial(correct, n, margin, alpha)
    tost.update({"bootstrap_low": boot_low, "bootstrap_high": boot_high,
                 "bootstrap_inside": bool(0.5 - margin < boot_low and boot_high < 0.5 + margin)})
    indistinguishable = tost["equivalent"] and tost["bootstrap_inside"]
    return {"design": "turing", "alpha": alpha, "per_reader": per_reader, "pooled": pooled, "tost": tost,
            "reader_averaged_auc": _reader_averaged_auc(table, alpha), "fleiss": _fleiss(table),
            "conclusion": "indistinguishable within the margin" if indistinguishable else
            "not shown indistinguishable (equivalence not established)"}
