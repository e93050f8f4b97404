"""Requested sampling conditions: validation, completion from training data, label rows.

``sample(n, conditions=...)`` takes a DataFrame with ``n`` rows and any subset of the condition
columns (``label, lesion_type, density, age_band, view``). :func:`resolve_conditions` checks the
values against the manifest vocabularies and fills the missing columns by drawing, per row, a
training image that matches the given columns (falling back to fewer matching columns), so the
completed conditions follow the training distribution. ``conditions=None`` draws ``n`` rows from
the training manifest.

Example:
    >>> from mammobench.generators.fixtures import make_tiny_train_view
    >>> view = make_tiny_train_view(n=16, size=32, seed=0)
    >>> import pandas as pd, numpy as np
    >>> rows = resolve_conditions(3, pd.DataFrame({"label": ["malignant"] * 3}), view.manifest,
    ...                           np.random.default_rng(0))
    >>> sorted(set(rows["label"]))
    ['malignant']
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from mammobench.data.manifest import AGE_BANDS, DENSITIES, LABELS, LESION_TYPES, VIEWS
from mammobench.errors import ConfigError
from mammobench.protocols import CONDITION_COLUMNS

VOCABULARY: dict[str, tuple[str, ...]] = {
    "label": LABELS, "lesion_type": LESION_TYPES, "density": DENSITIES, "age_band": AGE_BANDS, "view": VIEWS,
}
LABEL_COLUMNS: tuple[str, ...] = CONDITION_COLUMNS + ("findings",)


def validate_conditions(n: int, conditions: pd.DataFrame | None) -> pd.DataFrame | None:
    """Check row count, column names and values; return a clean copy (or None).

    Raises:
        ConfigError: naming the column, row and value at fault.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ConfigError(f"sample: n must be a non-negative integer, got {n!r}")
    if conditions is None:
        return None
    if not isinstance(conditions, pd.DataFrame):
        raise ConfigError(f"sample: conditions must be a pandas DataFrame or None, got {type(conditions).__name__}")
    if len(conditions) != n:
        raise ConfigError(f"sample: conditions has {len(conditions)} rows but n={n}; give one row per image")
    unknown = [c for c in conditions.columns if c not in CONDITION_COLUMNS]
    if unknown:
        raise ConfigError(f"sample: unknown condition column(s) {unknown}; valid: {list(CONDITION_COLUMNS)}")
    out = conditions.reset_index(drop=True).astype(str)
    for col in out.columns:
        bad = ~out[col].isin(VOCABULARY[col])
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise ConfigError(f"sample: condition '{col}' row {row} is {out[col].iloc[row]!r}; "
                              f"allowed: {list(VOCABULARY[col])}")
    both = {"label", "lesion_type"} <= set(out.columns)
    if both:
        clash = (out["label"] == "normal") != (out["lesion_type"] == "none")
        if clash.any():
            row = int(np.flatnonzero(clash.to_numpy())[0])
            raise ConfigError(f"sample: condition row {row} asks for label={out['label'].iloc[row]!r} with "
                              f"lesion_type={out['lesion_type'].iloc[row]!r}; 'normal' goes with 'none' only")
    return out


def _match_row(train: pd.DataFrame, wanted: dict[str, str], rng: np.random.Generator) -> int:
    """Index of a random training row matching as many of the wanted columns as possible (in order)."""
    keys = list(wanted)
    while keys:
        mask = np.ones(len(train), bool)
        for k in keys:
            mask &= train[k].to_numpy() == wanted[k]
        hits = np.flatnonzero(mask)
        if len(hits):
            return int(rng.choice(hits))
        keys = keys[:-1]
    return int(rng.integers(len(train)))


def resolve_conditions(n: int, conditions: pd.DataFrame | None, train: pd.DataFrame,
                       rng: np.random.Generator) -> pd.DataFrame:
    """Complete the requested conditions to all columns of :data:`CONDITION_COLUMNS`.

    Returns a DataFrame with ``n`` rows, the condition columns and ``source_row`` (the matched
    training row, usable as a source image / background).
    """
    given = validate_conditions(n, conditions)
    train = train.reset_index(drop=True).copy()
    for col in CONDITION_COLUMNS:
        train[col] = train[col].fillna("").astype(str)
    rows = []
    for i in range(n):
        wanted = {} if given is None else {c: given[c].iloc[i] for c in CONDITION_COLUMNS if c in given}
        src = _match_row(train, wanted, rng) if len(train) else -1
        row = {c: train[c].iloc[src] if src >= 0 else "" for c in CONDITION_COLUMNS}
        row.update(wanted)
        if "label" in wanted and "lesion_type" not in wanted and (row["label"] == "normal") != (row["lesion_type"] == "none"):
            row["lesion_type"] = "none" if row["label"] == "normal" else "mass"
        if "lesion_type" in wanted and "label" not in wanted and (row["label"] == "normal") != (row["lesion_type"] == "none"):
            row["label"] = "normal" if row["lesion_type"] == "none" else "benign"
        row["source_row"] = src
        rows.append(row)
    return pd.DataFrame(rows, columns=list(CONDITION_COLUMNS) + ["source_row"])


def labels_frame(rows: pd.DataFrame, findings: list[list[dict]]) -> pd.DataFrame:
    """The ``SyntheticBatch.labels`` table: condition columns plus ``findings`` (list of dicts)."""
    out = rows.loc[:, list(CONDITION_COLUMNS)].reset_index(drop=True).copy()
    out["findings"] = [list(f) for f in findings]
    return out


__all__ = ["LABEL_COLUMNS", "VOCABULARY", "labels_frame", "resolve_conditions", "validate_conditions"]
