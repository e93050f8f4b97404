"""Arms: each arm's training set is the real training split plus synthetic images at ratio r.

The control arm ``none`` trains on real images only. Every other arm names a generator (a
built-in such as ``classic`` or ``physics``, an entry-point name, or ``package.module:Class``),
which is fitted on the :class:`~mammobench.protocols.TrainView` only and asked for
``round(r × n_real)`` images. Which conditions it is asked for is the task's
``augmentation.conditioning`` policy:

* ``match_train`` — condition rows drawn from the training manifest (the training mix);
* ``balance_density`` — densities chosen to fill the deficit of each density so that real +
  synthetic is as balanced across A–D as ``n`` allows (the rest is completed from training rows
  of that density by the generator);
* ``balance_age`` — the same for age bands;
* ``unconditional`` — no conditions; the generator decides.

Example:
    >>> import pandas as pd, numpy as np
    >>> train = pd.DataFrame({"density": ["A"] * 6 + ["B"] * 2})
    >>> c = draw_conditions("balance_density", 8, train, np.random.default_rng(0))
    >>> dict(sorted(c["density"].value_counts().items()))
    {'B': 2, 'C': 3, 'D': 3}
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from mammobench.errors import ConfigError
from mammobench.protocols import CONDITION_COLUMNS, SyntheticBatch, TrainView

_BALANCE_VOCAB = {"density": ("A", "B", "C", "D"), "age_band": ("<50", "50-59", "60-69", "70+")}


@dataclass(frozen=True)
class ArmSpec:
    """One arm of the grid: a generator name and a ratio (``none`` has ratio 0)."""

    arm: str
    generator: str
    ratio: float

    @property
    def adds_samples(self) -> bool:
        return self.generator != "none" and self.ratio > 0


def arm_name(generator: str) -> str:
    """A folder-safe arm name for a generator name or ``package.module:Class`` spec.

    Example:
        >>> arm_name("my_pkg.gens:FancyGAN")
        'FancyGAN'
    """
    base = generator.rsplit(":", 1)[-1] if ":" in generator else generator
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", base)


def plan_arms(arms: list[str], ratios: list[float], extra: list[str] | tuple[str, ...] = (),
              ratio_of: Mapping[str, float] | None = None) -> list[ArmSpec]:
    """The arms of a run: the task's arms plus generators named on the command line, × ratios.

    With one ratio an arm is named after its generator; with several, ``<name>_r<ratio>``. ``ratio_of``
    gives a generator its own single ratio instead (the self-test's null arm duplicates every training
    case once: ratio 1).

    Example:
        >>> [(a.arm, a.ratio) for a in plan_arms(["none", "classic"], [0.5], ["planted_null"], {"planted_null": 1.0})]
        [('none', 0.0), ('classic', 0.5), ('planted_null', 1.0)]
    """
    ratio_of = dict(ratio_of or {})
    out, seen = [], set()
    for gen in [*arms, *[g for g in extra if g not in arms]]:
        name = arm_name(gen)
        if name in seen:
            raise ConfigError(f"two generators map to the same arm name '{name}'; rename one")
        seen.add(name)
        if gen == "none":
            out.append(ArmSpec("none", "none", 0.0))
        elif gen in ratio_of:
            out.append(ArmSpec(name, gen, float(ratio_of[gen])))
        else:
            out.extend(ArmSpec(name if len(ratios) == 1 else f"{name}_r{float(r):g}", gen, float(r)) for r in ratios)
    return out


def synthetic_count(ratio: float, n_real: int) -> int:
    """Number of synthetic images for ``ratio`` synthetic per real image."""
    return int(round(float(ratio) * n_real))


def _balance(column: str, n: int, train: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Fill the per-group deficit of ``column`` towards an even split of real + synthetic."""
    groups = _BALANCE_VOCAB[column]
    have = train[column].astype(str).value_counts().reindex(groups, fill_value=0).to_numpy(float)
    target = (have.sum() + n) / len(groups)
    deficit = np.clip(target - have, 0, None)
    if deficit.sum() <= 0:
        deficit = np.ones(len(groups))
    counts = np.floor(deficit / deficit.sum() * n).astype(int)
    remainder = n - counts.sum()
    order = np.argsort(-(deficit / deficit.sum() * n - counts), kind="stable")
    counts[order[:remainder]] += 1
    values = np.repeat(np.array(groups, dtype=object), counts)
    return pd.DataFrame({column: rng.permutation(values)})


def draw_conditions(policy: str, n: int, train: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame | None:
    """Conditions for ``n`` synthetic images under a conditioning policy (``None`` = unconditional).

    Raises:
        ConfigError: unknown policy.
    """
    if policy == "unconditional" or n == 0:
        return None
    if policy == "match_train":
        rows = train.iloc[rng.integers(0, len(train), n)]
        return rows.loc[:, list(CONDITION_COLUMNS)].fillna("").astype(str).reset_index(drop=True)
    if policy == "balance_density":
        return _balance("density", n, train, rng)
    if policy == "balance_age":
        return _balance("age_band", n, train, rng)
    raise ConfigError(f"augmentation.conditioning {policy!r}; valid choices: "
                      "match_train, balance_density, balance_age, unconditional")


def make_synthetic(arm: ArmSpec, view: TrainView, *, policy: str, seed: int, cache_dir: Path | None,
                   params: dict[str, Any] | None = None) -> tuple[SyntheticBatch, Any]:
    """Fit (or load from the fit cache) the arm's generator on the train view and sample its images.

    Returns the batch and the fitted generator (for its card and parameters).
    """
    from mammobench.generators import get_generator
    from mammobench.generators.cache import fit_or_load

    generator = fit_or_load(get_generator(arm.generator, **(params or {})), view, seed=seed, cache_dir=cache_dir)
    n = synthetic_count(arm.ratio, len(view))
    rng = np.random.default_rng([seed, n])
    conditions = draw_conditions(policy, n, view.manifest, rng)
    batch = generator.sample(n, conditions=conditions, seed=seed)
    _check_batch(arm, batch, n, view.image_size)
    batch.provenance["requested_shares"] = requested_shares(conditions)
    return batch, generator


def requested_shares(conditions: pd.DataFrame | None) -> dict[str, dict[str, float]]:
    """Shares of each requested value per condition column (empty for unconditional sampling).

    Example:
        >>> requested_shares(pd.DataFrame({"density": ["C", "D", "D", "D"], "view": ["", "", "", ""]}))
        {'density': {'C': 0.25, 'D': 0.75}}
    """
    if conditions is None or not len(conditions):
        return {}
    out = {}
    for col in conditions.columns:
        values = conditions[col].fillna("").astype(str)
        values = values[values != ""]
        if len(values):
            out[col] = {str(k): float(v) for k, v in values.value_counts(normalize=True).sort_index().items()}
    return out


def _check_batch(arm: ArmSpec, batch: SyntheticBatch, n: int, size: tuple[int, int]) -> None:
    shape = tuple(batch.images.shape)
    if shape != (n, 1, *size) or len(batch.labels) != n or "label" not in batch.labels:
        raise ConfigError(f"generator '{arm.generator}' returned images {shape} with {len(batch.labels)} label rows; "
                          f"expected ({n}, 1, {size[0]}, {size[1]}) and a 'label' column "
                          "(run mammobench check-generator on it)")
    if not np.isfinite(batch.images).all() or batch.images.min() < 0 or batch.images.max() > 1:
        raise ConfigError(f"generator '{arm.generator}' returned values outside [0, 1] or non-finite")


def save_synthetic(path: Path, batch: SyntheticBatch, positive: list[str]) -> None:
    """Write a batch as ``.npz`` (images, 0/1 targets, findings as JSON, condition columns) atomically."""
    import io
    import json

    from mammobench.io import atomic_write_bytes

    labels = batch.labels.reset_index(drop=True)
    cols = {c: labels[c].fillna("").astype(str).to_numpy() if c in labels else np.full(len(labels), "")
            for c in CONDITION_COLUMNS}
    y = labels["label"].astype(str).isin(positive).to_numpy(np.float32)
    findings = np.array([json.dumps(f if isinstance(f, list) else [], default=float) for f in
                         (labels["findings"] if "findings" in labels else [[]] * len(labels))], dtype=str)
    buf = io.BytesIO()
    np.savez(buf, images=batch.images.astype(np.float32), y=y, findings=findings,  # boxes: detection cells
             **{f"cond_{k}": v.astype(str) for k, v in cols.items()})
    atomic_write_bytes(path, buf.getvalue())
