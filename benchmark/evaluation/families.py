"""Multiplicity adjustment of comparison records within their families (shared by the AUC and detection paths).

Example:
    >>> recs = [{"arm": "a", "family": "f", "p_value": p} for p in (0.01, 0.04)]
    >>> [r["significant"] for r in adjust_in_families(recs, {"multiplicity": "holm", "alpha": 0.05})]
    [True, True]
"""
from __future__ import annotations

import numpy as np

from mammobench.stats.margin import is_borderline
from mammobench.stats.multiplicity import adjust_p_values

__all__ = ["adjust_in_families"]


def adjust_in_families(records: list[dict], plan: dict, keys: tuple[str, ...] = ("arm", "family")) -> list[dict]:
    """Adjust p-values (``plan["multiplicity"]``) within each family of records sharing ``keys``; in place.

    Adds ``p_adjusted``, ``adjustment``, ``family_size``, ``significant`` (``p_adjusted < plan["alpha"]``) and
    the decision margin: ``threshold`` (α, compared with ``p_adjusted``) and ``borderline`` (``p_adjusted``
    within the machine-to-machine tolerance of α, :mod:`mammobench.stats.margin`).

    Example:
        >>> recs = [{"arm": "a", "family": "f", "p_value": p} for p in (0.01, 0.04)]
        >>> [r["p_adjusted"] for r in adjust_in_families(recs, {"multiplicity": "holm", "alpha": 0.05})]
        [0.02, 0.04]
        >>> [r["borderline"] for r in recs]
        [True, True]
    """
    families: dict[tuple, list[int]] = {}
    for i, r in enumerate(records):
        families.setdefault(tuple(r[k] for k in keys), []).append(i)
    for idx in families.values():
        adjusted = adjust_p_values([records[i]["p_value"] for i in idx], plan["multiplicity"])
        for i, q in zip(idx, adjusted):
            records[i].update(p_adjusted=float(q), adjustment=plan["multiplicity"], family_size=len(idx),
                              significant=bool(np.isfinite(q) and q < plan["alpha"]), threshold=float(plan["alpha"]),
                              borderline=is_borderline(q, plan["alpha"]))
    return records
