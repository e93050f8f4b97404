"""Power of a self-test comparison trial, computed beforehand from a pilot run's own variance.

The comparison trials are judged by the OR–Hillis test with training seeds as random readers
(:func:`mammobench.evaluation.seed_variance.paired_or_hillis`). For two arms and ``r`` seeds its
standard error and Hillis denominator degrees of freedom are

``SE² = (2/r)·[MS(TR) + r·max(Cov2 − Cov3, 0)]``, ``ddf = (r − 1)·[MS(TR) + r·max(Cov2 − Cov3, 0)]² / MS(TR)²``,

where ``MS(TR)`` (arm × seed mean square: seed-to-seed variation of the difference plus its per-seed
case noise) does not depend on ``r`` in expectation and ``Cov2 − Cov3`` (the case-sampling covariance
of two seeds' differences, from the patient jackknife) does not either. A pilot run with ``r₀`` seeds
estimates both; the design then projects SE and ddf to any ``r`` and gives the power of the two-sided
t test at level ``α'`` for an effect ``Δ``: ``P(|T| > t_{1−α'/2, ddf})`` with ``T`` non-central t
(``ddf``, ``Δ/SE``) — :func:`scipy.stats.nct`.

Holm over ``m`` hypotheses first compares the smallest p with ``α/m``; a trial that needs one planted
hypothesis rejected is therefore powered at least as well as a single test at ``α/m`` (the bound used
here, conservative).

Example:
    >>> v = ComparisonVariance(delta=0.06, ms_tr=1e-4, cov_case=2e-5)
    >>> round(projected_power(v, n_seeds=5, alpha=0.01), 4)
    0.9996
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from mammobench.errors import StatisticsError
from mammobench.selftest.trials import MISSING_LESION_TYPES, TRIALS


@dataclass(frozen=True)
class ComparisonVariance:
    """A paired arm-vs-control comparison as a pilot measured it.

    Args:
        delta: the effect (arm − control, seed-averaged figure of merit).
        ms_tr: arm × seed mean square ``MS(TR)`` of the ``[2, r]`` figure-of-merit table.
        cov_case: ``Cov2 − Cov3`` of the OR covariance (case sampling, between seeds).
        n_seeds: seeds of the pilot (for the record).
    """

    delta: float
    ms_tr: float
    cov_case: float
    n_seeds: int = 0


def projected_se_ddf(v: ComparisonVariance, n_seeds: int) -> tuple[float, float]:
    """OR–Hillis SE of the difference and its denominator df with ``n_seeds`` seeds.

    Example:
        >>> se, ddf = projected_se_ddf(ComparisonVariance(0.0, 1e-4, 0.0), 4)
        >>> round(se, 5), round(ddf, 6)
        (0.00707, 3.0)
    """
    if n_seeds < 2:
        raise StatisticsError(f"the seeds-as-readers test needs >= 2 seeds; got {n_seeds}")
    denom = v.ms_tr + n_seeds * max(v.cov_case, 0.0)
    if not denom > 0:
        raise StatisticsError("the pilot's error term MS(TR) + r·max(Cov2 − Cov3, 0) is 0: no variance to project")
    ddf = float("inf") if v.ms_tr <= 0 else (n_seeds - 1) * denom ** 2 / v.ms_tr ** 2
    return float(np.sqrt(2.0 * denom / n_seeds)), float(ddf)


def projected_power(v: ComparisonVariance, *, n_seeds: int, alpha: float) -> float:
    """Power of the two-sided OR–Hillis t test at level ``alpha`` for the effect ``v.delta``.

    Example:
        >>> round(projected_power(ComparisonVariance(0.0, 1e-4, 1e-5), n_seeds=3, alpha=0.05), 3)
        0.05
    """
    se, ddf = projected_se_ddf(v, n_seeds)
    ncp = abs(v.delta) / se
    if not np.isfinite(ddf):
        crit = stats.norm.ppf(1 - alpha / 2)
        return float(stats.norm.sf(crit - ncp) + stats.norm.cdf(-crit - ncp))
    crit = stats.t.ppf(1 - alpha / 2, ddf)
    # lower tail by symmetry, P(T(ncp) < −c) = P(T(−ncp) > c): scipy's nct.cdf far in the tail returns NaN
    return float(stats.nct.sf(crit, ddf, ncp) + stats.nct.sf(crit, ddf, -ncp))


def pilot_variance(predictions: pd.DataFrame, arm: str, control: str, *, attribute: str | None = None,
                   group: str | None = None) -> ComparisonVariance:
    """OR variance components of ``arm`` vs ``control`` from a run's test predictions (``cells/*/predictions.csv``).

    Runs the evaluator's own test (:func:`~mammobench.evaluation.seed_variance.seeds_as_readers_test`) on the
    seeds both arms share, restricted to one subgroup when ``attribute``/``group`` are given, and keeps
    the variance components it reports. A ``lesion_type`` group is the positives of that type and every
    negative, as in the evaluator (:mod:`mammobench.evaluation.stratify`).

    Raises:
        StatisticsError: fewer than 2 shared seeds, or a subgroup without both classes.
    """
    from mammobench.evaluation.seed_variance import seeds_as_readers_test
    from mammobench.evaluation.stratify import subgroup_masks

    d = predictions[predictions["split"] == "test"]
    if attribute is not None:
        masks = {g.group: g.mask for g in subgroup_masks(d, [attribute], [])[1:]}
        d = d[masks.get(str(group), np.zeros(len(d), dtype=bool))]
    seeds = sorted(set(d.loc[d["arm"] == arm, "seed"]) & set(d.loc[d["arm"] == control, "seed"]))
    if len(seeds) < 2:
        raise StatisticsError(f"{arm} vs {control}: {len(seeds)} shared seed(s); the pilot needs >= 2")
    tables = {a: d[d["arm"] == a].pivot_table(index="image_id", columns="seed", values="y_score")[seeds]
              for a in (arm, control)}
    ids = tables[arm].index.intersection(tables[control].index)
    meta = d.drop_duplicates("image_id").set_index("image_id").loc[ids]
    y, patients = meta["y_true"].to_numpy().astype(bool), meta["patient_id"].to_numpy()
    if y.all() or not y.any():
        raise StatisticsError(f"{attribute}={group}: the pilot's test cases hold one class only")
    test = seeds_as_readers_test(y, tables[arm].loc[ids].to_numpy().T, tables[control].loc[ids].to_numpy().T,
                                 patients=patients)
    return ComparisonVariance(delta=test["difference"], ms_tr=test["ms_tr"], cov_case=test["cov_case"],
                              n_seeds=len(seeds))


#: trial → (hypotheses that can carry it, as (attribute, group)); the trial needs one of them rejected
TRIAL_HYPOTHESES = {"helpful": ((None, None), *(("lesion_type", t) for t in MISSING_LESION_TYPES)),
                    "harmful": ((None, None),)}


def design_rows(run_dir, *, n_seeds: int, alpha: float = 0.05, family_size: int = 5, control: str = "none") -> list[dict]:
    """Projected power of the helpful and harmful trials from a pilot run's predictions.

    A trial whose planted arm is not in the run (a pilot of the other trial only) is left out. Each
    hypothesis is projected to ``n_seeds`` seeds at the Holm first-step level ``alpha / family_size``
    (conservative); a trial's power is that of its best hypothesis.

    Args:
        run_dir: a finished self-test comparison run (``cells/*/predictions.csv``).
        n_seeds: seeds per arm of the design being sized.
        alpha, family_size: the plan's level and the number of primary hypotheses per arm (overall + 4 lesion types).
        control: the control arm.

    Raises:
        StatisticsError / DataError: no predictions, no trial arm, or a pilot without both classes or 2 seeds.
    """
    from pathlib import Path

    from mammobench.errors import DataError

    files = sorted(Path(run_dir).glob("cells/*/predictions.csv"))
    if not files:
        raise DataError(f"{run_dir}: no cells/*/predictions.csv — not a finished run folder")
    preds = pd.concat([pd.read_csv(f, dtype={"image_id": str, "patient_id": str}, keep_default_na=False)
                       for f in files], ignore_index=True)
    level = alpha / family_size
    rows = []
    arms = set(preds["arm"].astype(str))
    present = [t for t in TRIAL_HYPOTHESES if TRIALS[t].generator in arms]  # a one-trial pilot projects that trial
    if not present:
        raise DataError(f"{run_dir}: none of the trial arms "
                        f"({', '.join(TRIALS[t].generator for t in TRIAL_HYPOTHESES)}) has predictions")
    for trial in present:
        arm = TRIALS[trial].generator
        for attribute, group in TRIAL_HYPOTHESES[trial]:
            v = pilot_variance(preds, arm, control, attribute=attribute, group=group)
            se, ddf = projected_se_ddf(v, n_seeds)
            rows.append({"trial": trial, "hypothesis": f"{attribute}={group}" if attribute else "overall",
                         "delta": v.delta, "ms_tr": v.ms_tr, "cov_case": v.cov_case, "pilot_seeds": v.n_seeds,
                         "n_seeds": n_seeds, "se": se, "ddf": ddf, "level": level,
                         "power": projected_power(v, n_seeds=n_seeds, alpha=level)})
    return rows


def format_design(rows: list[dict]) -> str:
    """The design rows as an aligned text table.

    Example:
        >>> print(format_design([{"trial": "harmful", "hypothesis": "overall", "delta": -0.09, "se": 0.012,
        ...     "ddf": 13.0, "level": 0.01, "power": 0.9995, "n_seeds": 5, "pilot_seeds": 5}]).splitlines()[1])
        harmful  overall                 -0.0900  0.0120   13.0  0.0100  5 (pilot 5)  0.9995
    """
    head = f"{'trial':8s} {'hypothesis':22s} {'delta':>8s} {'SE':>7s} {'ddf':>6s} {'level':>7s}  seeds        power"
    lines = [head]
    for r in rows:
        lines.append(f"{r['trial']:8s} {r['hypothesis']:22s} {r['delta']:+8.4f} {r['se']:7.4f} {r['ddf']:6.1f} "
                     f"{r['level']:7.4f}  {r['n_seeds']} (pilot {r['pilot_seeds']})  {r['power']:.4f}")
    return "\n".join(lines)


__all__ = ["ComparisonVariance", "TRIAL_HYPOTHESES", "design_rows", "format_design", "pilot_variance",
           "projected_power", "projected_se_ddf"]
