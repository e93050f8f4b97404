"""The analysis plan (Contract 4) as one frozen, validated object: :class:`AnalysisPlan`.

The plan fixes, before any test prediction is read, what is analysed and how: primary metric,
control arm, subgroup attributes and intersections, minimum group size, bootstrap resamples and
seed, α, the multiplicity correction, the prevalence for PPV/NPV and the operating point. The
pipeline builds it from the task and the run settings, ``report/plan.py`` writes and hashes its
:meth:`~AnalysisPlan.to_dict` form, and :func:`~mammobench.evaluation.evaluate_run` reads it. Every
key is checked here and only here (:meth:`AnalysisPlan.from_mapping`); the task's ``analysis:`` and
``metrics:`` keys reuse these rules.

Example:
    >>> plan = AnalysisPlan.from_mapping({"n_boot": 200, "subgroups": ["density"]})
    >>> plan.n_boot, plan.subgroups, plan.multiplicity
    (200, ('density',), 'holm')
    >>> try:
    ...     AnalysisPlan.from_mapping({"alpha": 2.0}, source="analysis_plan.json")
    ... except ConfigError as err:
    ...     print(err)
    analysis_plan.json: alpha: 2.0 is not allowed; expected a number between 0 and 0.5 (both excluded)
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Mapping

from mammobench.errors import ConfigError
from mammobench.evaluation.replicates import BOOTSTRAPPED
from mammobench.evaluation.table import SUBGROUP_COLUMNS
from mammobench.fields import SEED, Rule, between, build, optional, setting

__all__ = ["AnalysisPlan", "MULTIPLICITY", "PRIMARY_METRICS"]

PRIMARY_METRICS = ("auc", "sensitivity", "specificity", "balanced_accuracy", "wafroc")  # wafroc: detection tasks
MULTIPLICITY = ("holm", "bonferroni", "fdr_bh", "none")

# rules shared with the task file's `analysis:`, `metrics:` and `subgroups:` keys (pipeline/config.py)
PRIMARY_METRIC = Rule((str,), choices=PRIMARY_METRICS)
ALPHA = between(0, 0.5, float, low_open=True, high_open=True)
MULTIPLICITY_RULE = Rule((str,), choices=MULTIPLICITY)
TARGET_SPECIFICITY = between(0, 1, float, low_open=True, high_open=True)
PREVALENCE = between(0, 1, float, low_open=True, high_open=True)
MIN_GROUP_SIZE = between(1, 1_000_000)
N_BOOT = between(1, 1_000_000)
SUBGROUPS = Rule((list, tuple), check=lambda v: all(isinstance(a, str) for a in v) and set(v) <= set(SUBGROUP_COLUMNS),
                 hint=f"a list of columns from {list(SUBGROUP_COLUMNS)}")
INTERSECTIONS = Rule((list, tuple), check=lambda v: all(
    isinstance(p, (list, tuple)) and len(p) == 2 and all(isinstance(a, str) for a in p) and set(p) <= set(SUBGROUP_COLUMNS)
    for p in v), hint=f"a list of pairs of columns from {list(SUBGROUP_COLUMNS)}")
_CRITERION_KEYS = {"metric", "arm", "attribute", "group", "statistic", "op", "threshold"}


def _criterion_ok(c: Any) -> bool:
    return (isinstance(c, Mapping) and set(c) <= _CRITERION_KEYS and isinstance(c.get("metric"), str)
            and isinstance(c.get("threshold"), (int, float)) and not isinstance(c.get("threshold"), bool)
            and c.get("statistic", "ci_low") in ("value", "ci_low", "ci_high") and c.get("op", ">=") in (">=", "<=")
            and all(c.get(k) is None or isinstance(c[k], str) for k in ("arm", "attribute", "group")))


ACCEPTANCE_CRITERIA = Rule((list, tuple), check=lambda v: len(v) <= 100 and all(_criterion_ok(c) for c in v),
                           hint="a list of {metric, threshold, statistic: value|ci_low|ci_high, op: '>='|'<=', "
                                "arm, attribute, group} (pre-specified pass/fail criteria)")
METRICS = Rule((list, tuple), check=lambda v: bool(v) and all(isinstance(m, str) for m in v) and set(v) <= set(BOOTSTRAPPED),
               hint=f"a non-empty list drawn from {list(BOOTSTRAPPED)}")


def _tuples(value: Any) -> Any:
    """Lists (from JSON/YAML) → tuples, so the frozen plan is hashable and immutable."""
    return tuple(_tuples(v) for v in value) if isinstance(value, (list, tuple)) else value


@dataclass(frozen=True)
class AnalysisPlan:
    """The frozen analysis plan of a run (see the module docstring for each key)."""

    primary_metric: str = setting("auc", PRIMARY_METRIC)
    control_arm: str | None = setting(None, optional(Rule((str,)), "null (the real-only arm) or an arm name"))
    subgroups: tuple[str, ...] = setting(("density", "age_band", "lesion_type"), SUBGROUPS)
    intersections: tuple[tuple[str, str], ...] = setting((), INTERSECTIONS)
    min_group_size: int = setting(10, MIN_GROUP_SIZE)
    n_boot: int = setting(1000, N_BOOT)
    alpha: float = setting(0.05, ALPHA)
    multiplicity: str = setting("holm", MULTIPLICITY_RULE)
    prevalence: float = setting(0.005, PREVALENCE)
    target_specificity: float = setting(0.9, TARGET_SPECIFICITY)
    seed: int = setting(0, SEED)
    metrics: tuple[str, ...] = setting(BOOTSTRAPPED, METRICS)
    acceptance_criteria: tuple[dict, ...] = setting((), ACCEPTANCE_CRITERIA)
    #: lesion-detection runs only: hit rule and FPI points (pipeline/config.py DetectionSpec.plan; evaluation/detection.py)
    detection: dict | None = setting(None, optional(Rule((dict,)), "null or a mapping of detection settings"))

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            object.__setattr__(self, f.name, _tuples(getattr(self, f.name)))
        object.__setattr__(self, "alpha", float(self.alpha))
        object.__setattr__(self, "prevalence", float(self.prevalence))
        object.__setattr__(self, "target_specificity", float(self.target_specificity))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | "AnalysisPlan", *, source: str = "analysis plan") -> "AnalysisPlan":
        """Validate a mapping (missing keys take their defaults); an :class:`AnalysisPlan` passes through.

        Raises:
            ConfigError: unknown key, wrong type or a value out of range, naming ``source`` and the key.
        """
        if isinstance(data, AnalysisPlan):
            return data
        if not isinstance(data, Mapping):
            raise ConfigError(f"{source}: the analysis plan must be a mapping, got {type(data).__name__}")
        return build(cls, dict(data), source=source)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form (tuples as lists) — what ``analysis_plan.json`` holds and is hashed over."""
        def plain(v: Any) -> Any:
            return [plain(x) for x in v] if isinstance(v, tuple) else dict(v) if isinstance(v, Mapping) else v

        return {f.name: plain(getattr(self, f.name)) for f in dataclasses.fields(self)}
