"""Subgroups of the test cases and the minimum-group-size policy (Contract 4).

A group is a boolean mask over the aligned test cases. Attributes come from the plan's
``subgroups`` (e.g. density, age_band, lesion_type, vendor, site) and ``intersections`` (lists of
attributes, e.g. ``["density", "vendor"]`` → attribute ``"density×vendor"``, group ``"c|GE"``).
For ``lesion_type`` a group is the positives of that type plus all negatives (so its AUC asks
"how well are cancers of this type told apart from normals").

Policy: every group is reported, never dropped — ``status`` is ``undefined`` when a class is absent
(including an empty group), ``insufficient_n`` when it has fewer than ``min_group_size`` positives
or negatives (the value is still computed, without a CI), else ``ok``.

Example:
    >>> cases = pd.DataFrame({"y_true": [0, 1, 1, 0], "density": ["a", "a", "b", "b"],
    ...                       "lesion_type": ["none", "mass", "calc", "none"]})
    >>> [(g.attribute, g.group, int(g.mask.sum())) for g in subgroup_masks(cases, ["lesion_type"], [])][1:]
    [('lesion_type', 'calc', 3), ('lesion_type', 'mass', 3)]
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mammobench.errors import StatisticsError

INTERSECTION_SEP = "×"


@dataclass(frozen=True)
class Subgroup:
    """One group: ``attribute``/``group`` are None for the overall population."""

    attribute: str | None
    group: str | None
    mask: np.ndarray


def group_status(n_pos: int, n_neg: int, min_group_size: int) -> str:
    """``undefined`` (a class absent), ``insufficient_n`` (< min positives or negatives) or ``ok``.

    Example:
        >>> group_status(3, 40, 5), group_status(0, 10, 5), group_status(10, 10, 5)
        ('insufficient_n', 'undefined', 'ok')
    """
    if n_pos == 0 or n_neg == 0:
        return "undefined"
    if n_pos < min_group_size or n_neg < min_group_size:
        return "insufficient_n"
    return "ok"


def _values(column: pd.Series) -> np.ndarray:
    return column.astype(str).fillna("nan").to_numpy()


def _single(cases: pd.DataFrame, attribute: str, y: np.ndarray) -> list[Subgroup]:
    values = _values(cases[attribute])
    if attribute == "lesion_type":
        kinds = sorted(set(values[y].tolist()))
        return [Subgroup(attribute, k, (y & (values == k)) | ~y) for k in kinds]
    return [Subgroup(attribute, v, values == v) for v in sorted(set(values.tolist()))]


def _intersection(cases: pd.DataFrame, attributes: list[str], y: np.ndarray) -> list[Subgroup]:
    name = INTERSECTION_SEP.join(attributes)
    key = pd.Series(["|".join(t) for t in zip(*[_values(cases[a]) for a in attributes])])
    return [Subgroup(name, k, key.to_numpy() == k) for k in sorted(set(key.tolist()))]


def subgroup_masks(cases: pd.DataFrame, subgroups: list[str], intersections: list[list[str]]) -> list[Subgroup]:
    """Overall group first, then every value of every attribute and intersection.

    Raises:
        StatisticsError: when an attribute is not a column of the predictions.
    """
    wanted = set(subgroups) | {a for combo in intersections for a in combo}
    missing = sorted(a for a in wanted if a not in cases.columns)
    if missing:
        raise StatisticsError(f"analysis plan names subgroup column(s) {missing} that predictions.csv lacks; "
                              f"available: {list(cases.columns)}")
    y = cases["y_true"].to_numpy().astype(bool)
    out = [Subgroup(None, None, np.ones(len(cases), dtype=bool))]
    for attribute in subgroups:
        out += _single(cases, attribute, y)
    for combo in intersections:
        out += _intersection(cases, list(combo), y)
    return out
