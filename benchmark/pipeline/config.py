"""Task configuration: YAML data loaded into frozen, validated dataclasses.

A task lives in ``tasks/<name>/task.yaml`` (see ``tasks/_template/task.yaml`` for every key with a
comment). It is read with the bounded safe loader (:mod:`mammobench.yamlio`), never executed. Every
key has one rule (:mod:`mammobench.fields`); a quantity that can be written in several places —
``detector.epochs`` and ``profiles.quick.epochs``, ``seeds`` and ``profiles.full.seeds``,
``analysis.alpha`` and ``analysis_plan.json`` — is checked by the same rule wherever it appears.
Cross-field checks (control arm among the arms, a label in both target lists, virtual-cohort
options) run here too, so ``mammobench validate`` and the start of ``run`` refuse what would fail
mid-run. An error names the file, the dotted key, the bad value and what is allowed.

Example:
    >>> cfg = task_from_dict({"task": "demo", "version": 1}, source="demo.yaml")
    >>> cfg.augmentation.conditioning
    'balance_density'
    >>> try:
    ...     task_from_dict({"task": "demo", "version": 1, "seedz": [0]}, source="demo.yaml")
    ... except ConfigError as err:
    ...     print(str(err).split(";")[0])
    demo.yaml: unknown key 'seedz' (did you mean 'seeds'?)
"""
from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mammobench.errors import ConfigError
from mammobench.evaluation import plan as P
from mammobench.fields import SEED, Rule, between, build, check_value, optional, section, section_map, setting
from mammobench.yamlio import load_yaml

CONDITIONING_POLICIES = ("match_train", "balance_density", "balance_age", "unconditional")
MULTIPLICITY = P.MULTIPLICITY
PRIMARY_METRICS = P.PRIMARY_METRICS
KNOWN_LABELS = ("normal", "benign", "malignant")
PROFILE_NAMES = ("smoke", "quick", "full")
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")

# ---------------------------------------------------------------- rules used in several places
EPOCHS = between(1, 10_000)
BATCH_SIZE = between(1, 65_536)
IMAGE_SIZE = between(16, 4096, unit="pixels")
N_BOOT = between(50, 100_000)
N_PATIENTS = between(10, 200_000)
COHORT_SIZE = between(64, 4096, unit="pixels (side of the simulated mammograms)")
SEEDS = Rule((list,), check=lambda v: bool(v) and len(v) <= 1000 and len(set(v)) == len(v)
             and all(type(s) is int and SEED.check(s) for s in v),
             hint="a non-empty list of distinct integers from 0 to 4294967295 (2**32 - 1), at most 1000")
ARMS = Rule((list,), check=lambda v: bool(v) and len(v) <= 100 and all(
    isinstance(a, str) and 0 < len(a) <= 200 and not any(c.isspace() for c in a) for a in v) and len(set(v)) == len(v),
    hint="a non-empty list of distinct generator names (registered names, entry points or package.module:Class)")
RATIOS = Rule((list,), check=lambda v: bool(v) and len(v) <= 20 and len(set(v)) == len(v) and all(
    isinstance(r, (int, float)) and not isinstance(r, bool) and 0 < r <= 10 for r in v),
    hint="a non-empty list of distinct numbers in (0, 10]: synthetic images per real image of every synthetic "
         "arm (a ratio of 0 is not an arm — the real-only control is the arm 'none')")
LABELS = Rule((list,), check=lambda v: bool(v) and all(isinstance(x, str) for x in v) and set(v) <= set(KNOWN_LABELS),
              hint=f"a non-empty list drawn from {list(KNOWN_LABELS)}")


def _audit_overrides_ok(value: dict) -> bool:
    from mammobench.audits.run import DEFAULT_CONFIG

    def same_kind(v: Any, default: Any) -> bool:
        if isinstance(default, bool) or isinstance(v, bool):
            return isinstance(v, bool) and (default is None or isinstance(default, bool))
        return v is None or isinstance(v, (int, float)) and (default is None or isinstance(default, (int, float)))

    return all(isinstance(k, str) and k in DEFAULT_CONFIG and same_kind(v, DEFAULT_CONFIG[k]) for k, v in value.items())


AUDIT = Rule((dict,), check=_audit_overrides_ok,
             hint="a mapping of audit threshold names (see DEFAULT_CONFIG in benchmark/audits/run.py, docs/audits.md) "
                  "to numbers, true/false or null")


@dataclass(frozen=True)
class DatasetSpec:
    adapter: str = setting("virtual_cohort", Rule((str,), check=lambda v: bool(_NAME_RE.match(v)),
                                                  hint="a registered adapter name (mammobench ls adapters)"))
    root: str | None = setting(None, optional(Rule((str,), check=bool, hint="a folder path")))
    revision: str | None = setting(None, optional(Rule((str,), check=lambda v: bool(
        re.fullmatch(r"sha256:[0-9a-f]{64}", v)), hint="'sha256:<64 lowercase hex digits>'")))
    cohort: dict = setting({}, Rule((dict,)))
    #: adapter options, e.g. {labels: labels.xlsx, key_column: ..., label_column: ...} for the dicom adapter
    options: dict = setting({}, Rule((dict,)))


@dataclass(frozen=True)
class TargetSpec:
    positive: list = setting(["benign", "malignant"], LABELS)
    negative: list | None = setting(None, optional(LABELS))

    def negatives(self) -> list[str]:
        """The negative labels: ``negative`` or every known label that is not positive."""
        return list(self.negative) if self.negative else [x for x in KNOWN_LABELS if x not in self.positive]


@dataclass(frozen=True)
class SplitSpec:
    seed: int = setting(0, SEED)
    val_fraction: float = setting(0.15, between(0, 0.5, float, low_open=True, high_open=True))
    test_fraction: float = setting(0.3, between(0, 0.9, float, low_open=True, high_open=True))


@dataclass(frozen=True)
class PreprocessingSpec:
    image_size: int = setting(128, IMAGE_SIZE)
    #: null = whole image; a number = one window of this many mm per image (see benchmark/data/patches.py)
    patch_mm: float | None = setting(None, optional(between(5, 500, float), "null (whole image) or a field of "
                                                                             "view between 5 and 500 mm"))
    patch_jitter: float = setting(0.25, between(0, 0.5, float, high_open=True))

    def patch(self) -> dict | None:
        """The patch geometry as stored in cache keys and TrainViews (``None`` for whole images)."""
        if self.patch_mm is None:
            return None
        return {"field_mm": float(self.patch_mm), "jitter": float(self.patch_jitter)}


@dataclass(frozen=True)
class DetectorSpec:
    recipe: str = setting("timm_classifier", Rule((str,), check=bool, hint="a registered recipe name"))
    arch: str = setting("test_resnet", Rule((str,), check=bool, hint="an architecture name"))
    #: a local state-dict file (relative paths: against the task's folder); checked by pipeline/preflight.py
    weights: str | None = setting(None, optional(Rule((str,), check=bool, hint="a file path")))
    epochs: int = setting(4, EPOCHS)
    batch_size: int = setting(64, BATCH_SIZE)
    lr: float = setting(0.002, between(0, 10, float, low_open=True))
    weight_decay: float = setting(1e-4, between(0, 1, float))
    lr_schedule: str = setting("cosine", Rule((str,), choices=("cosine", "constant")))
    #: ``all``: an epoch passes over every training image (real + synthetic, so an augmented arm takes more
    #: optimiser steps); ``real``: every arm takes the control's steps (an epoch = as many images as the real
    #: training part, drawn afresh from the combined set each epoch) — the data, not the compute, differs
    step_budget: str = setting("all", Rule((str,), choices=("all", "real")))
    #: CPU: train in ``channels_last`` memory format (≈ 1.3× faster for timm ResNets; other float rounding,
    #: as another CPU's kernels give — the numbers of a cell change, not their distribution)
    channels_last: bool = setting(False, Rule((bool,)))


@dataclass(frozen=True)
class DetectionSpec:
    """Lesion-detection settings (read when ``detector.recipe`` is a detection recipe; docs/detection.md)."""

    hit_criterion: str = setting("centre", Rule((str,), choices=("centre", "iou")))
    iou_threshold: float = setting(0.1, between(0, 1, float, low_open=True))
    max_marks: int = setting(10, between(1, 100))
    fpi: float = setting(1.0, between(0, 100, float, low_open=True))
    fpi_points: list = setting([0.25, 0.5, 1.0, 2.0, 4.0], Rule((list,), check=lambda v: bool(v) and all(
        isinstance(f, (int, float)) and not isinstance(f, bool) and f > 0 for f in v),
        hint="a non-empty list of positive numbers of false marks per image"))
    train_crop: int | None = setting(None, optional(between(16, 4096, unit="pixels"),
                                                    "null (whole images) or a crop side of at least 16 pixels"))
    validate_every: int = setting(1, between(1, 1000, unit="epochs"))

    def options(self) -> dict[str, Any]:
        """What a detection cell needs (hit rule for checkpoint choice, mark budget, crop, validation schedule;
        ``validate_every`` only when not the default 1, so existing cells keep their identity)."""
        return {"criterion": self.hit_criterion, "iou_threshold": float(self.iou_threshold),
                "max_marks": int(self.max_marks), "train_crop": self.train_crop,
                **({"validate_every": int(self.validate_every)} if self.validate_every != 1 else {})}

    def plan(self) -> dict[str, Any]:
        """What the analysis plan freezes (evaluation/detection.py)."""
        return {"hit_criterion": self.hit_criterion, "iou_threshold": float(self.iou_threshold),
                "fpi": float(self.fpi), "fpi_points": [float(f) for f in self.fpi_points],
                "max_marks": int(self.max_marks)}


@dataclass(frozen=True)
class AugmentationSpec:
    arms: list = setting(["none", "classic", "physics"], ARMS)
    ratios: list = setting([0.5], RATIOS)
    conditioning: str = setting("balance_density", Rule((str,), choices=CONDITIONING_POLICIES))
    sample_seed: int = setting(1234, SEED)


@dataclass(frozen=True)
class MetricsSpec:
    primary: str = setting("auc", P.PRIMARY_METRIC)
    target_specificity: float = setting(0.9, P.TARGET_SPECIFICITY)
    prevalence: float | None = setting(None, optional(P.PREVALENCE, "null (use the training split's) or a "
                                                                    "number between 0 and 1"))


@dataclass(frozen=True)
class SubgroupSpec:
    attributes: list = setting(["density", "age_band", "lesion_type", "vendor"], P.SUBGROUPS)
    intersections: list = setting([["density", "age_band"]], P.INTERSECTIONS)
    min_group_size: int = setting(20, P.MIN_GROUP_SIZE)


@dataclass(frozen=True)
class AnalysisSpec:
    control_arm: str = setting("none", Rule((str,), check=bool, hint="an arm name"))
    n_boot: int = setting(1000, N_BOOT)
    alpha: float = setting(0.05, P.ALPHA)
    multiplicity: str = setting("holm", P.MULTIPLICITY_RULE)
    seed: int = setting(0, SEED)
    acceptance_criteria: list = setting([], P.ACCEPTANCE_CRITERIA)


def _unset_or(rule: Rule) -> Rule:
    """``rule``, also accepting null (= not set at this layer); the hint stays the rule's own."""
    return optional(rule, say_null=False)


@dataclass(frozen=True)
class ProfileOverrides:
    """One profile's settings (``tasks/profiles.yaml``) or a task's override of them (``profiles:``).

    ``None`` = not set here. Each key shares its rule with the task key it overrides.
    """

    n_patients: int | None = setting(None, _unset_or(N_PATIENTS))
    cohort_size: int | None = setting(None, _unset_or(COHORT_SIZE))
    image_size: int | None = setting(None, _unset_or(IMAGE_SIZE))
    epochs: int | None = setting(None, _unset_or(EPOCHS))
    batch_size: int | None = setting(None, _unset_or(BATCH_SIZE))
    seeds: list | None = setting(None, _unset_or(SEEDS))
    n_boot: int | None = setting(None, _unset_or(N_BOOT))
    min_group_size: int | None = setting(None, _unset_or(P.MIN_GROUP_SIZE))
    arms: list | None = setting(None, _unset_or(ARMS))
    ratios: list | None = setting(None, _unset_or(RATIOS))
    encoder_epochs: int | None = setting(None, _unset_or(EPOCHS))
    audit: dict | None = setting(None, _unset_or(AUDIT))

    def given(self) -> dict[str, Any]:
        """The keys set here (not ``None``)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if getattr(self, f.name) is not None}


@dataclass(frozen=True)
class TaskConfig:
    """One benchmark task (see ``tasks/_template/task.yaml``)."""

    task: str = setting("", Rule((str,), check=lambda v: bool(_NAME_RE.match(v)),
                                 hint="lowercase letters, digits and '_', starting with a letter"))
    version: int = setting(1, between(1, 1_000_000))
    description: str = setting("", Rule((str,)))
    dataset: DatasetSpec = section(DatasetSpec)
    target: TargetSpec = section(TargetSpec)
    splits: SplitSpec = section(SplitSpec)
    preprocessing: PreprocessingSpec = section(PreprocessingSpec)
    detector: DetectorSpec = section(DetectorSpec)
    detection: DetectionSpec = section(DetectionSpec)
    augmentation: AugmentationSpec = section(AugmentationSpec)
    seeds: list = setting([0, 1, 2], SEEDS)
    metrics: MetricsSpec = section(MetricsSpec)
    subgroups: SubgroupSpec = section(SubgroupSpec)
    analysis: AnalysisSpec = section(AnalysisSpec)
    profiles: dict = section_map(ProfileOverrides, PROFILE_NAMES)
    source: str = ""  # file the task was read from (not a YAML key)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (the config hash is taken over this, without ``source``; unset overrides omitted)."""
        data = dataclasses.asdict(self)
        data.pop("source")
        data["profiles"] = {name: over.given() for name, over in self.profiles.items()}
        return data


def _check_cohort_options(cfg: TaskConfig, source: str) -> None:
    """The virtual-cohort maker options (``dataset.cohort``) must build a CohortComposition."""
    from mammobench.cohort import CohortComposition

    options = dict(cfg.dataset.cohort)
    if "seed" in options:
        check_value(options.pop("seed"), SEED, f"{source}: dataset.cohort.seed")
    valid = ["seed", *(f.name for f in dataclasses.fields(CohortComposition))]
    unknown = sorted(str(k) for k in options if k not in valid)
    if unknown:
        raise ConfigError(f"{source}: dataset.cohort: unknown key(s) {unknown}; valid keys: {valid}")
    try:
        CohortComposition(**options)
    except (ConfigError, TypeError, ValueError, AttributeError) as err:
        raise ConfigError(f"{source}: dataset.cohort: {err}; see tasks/_template/task.yaml") from None


def check_task(cfg: TaskConfig, source: str) -> None:
    """Cross-field checks of a task (each one would otherwise fail or mislead mid-run).

    Raises:
        ConfigError: control arm not among the arms (of the task or of a profile override), a label in
            both target lists, no negative label left, or invalid virtual-cohort options.
    """
    control = cfg.analysis.control_arm
    for where, arms in [("augmentation.arms", cfg.augmentation.arms),
                        *((f"profiles.{n}.arms", o.arms) for n, o in cfg.profiles.items() if o.arms is not None)]:
        if control not in arms:
            raise ConfigError(f"{source}: analysis.control_arm {control!r} is not one of {where} {list(arms)}; "
                              "add it to the arms or choose another control arm")
    both = sorted(set(cfg.target.positive) & set(cfg.target.negative or []))
    if both:
        raise ConfigError(f"{source}: target: label(s) {both} are in both target.positive and target.negative; "
                          "each label must be either positive or negative")
    if not cfg.target.negatives():
        raise ConfigError(f"{source}: target.positive {cfg.target.positive} leaves no negative label; "
                          "a detector needs both classes")
    if cfg.dataset.adapter == "virtual_cohort" and cfg.dataset.cohort:
        _check_cohort_options(cfg, source)


def task_from_dict(data: Any, *, source: str = "task.yaml") -> TaskConfig:
    """Validate a parsed task mapping and return a :class:`TaskConfig`.

    Raises:
        ConfigError: unknown key, wrong type, impossible value or inconsistent keys (file, key and choices named).
    """
    if not isinstance(data, dict) or "task" not in data:
        raise ConfigError(f"{source}: a task file must be a mapping with at least a 'task' name "
                          "(copy tasks/_template/task.yaml)")
    cfg = build(TaskConfig, data, source=source)
    check_task(cfg, source)
    return dataclasses.replace(cfg, source=source)


def load_task(path: str | os.PathLike) -> TaskConfig:
    """Load and validate ``task.yaml`` (a task folder is accepted too)."""
    path = Path(path)
    if path.is_dir():
        path = path / "task.yaml"
    cfg = task_from_dict(load_yaml(path, what="task file"), source=str(path))
    if path.parent.name not in (cfg.task, "_template"):
        raise ConfigError(f"{path}: task name {cfg.task!r} must match its folder name {path.parent.name!r}")
    return cfg
