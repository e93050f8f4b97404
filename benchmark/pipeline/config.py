"""Task and suite configuration: YAML data loaded into frozen, validated dataclasses.

A task lives in ``tasks/<name>/task.yaml`` (see ``tasks/_template/task.yaml`` for every key with a
comment). It is read with ``yaml.safe_load`` only, never executed. Validation teaches: an unknown
key, a wrong type or an impossible value raises :class:`~mammobench.errors.ConfigError` naming the
file, the dotted key, the bad value and the valid choices.

Suites (``tasks/suites.yaml``) are named selections of tasks with a default profile.

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
import difflib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mammobench.errors import ConfigError

CONDITIONING_POLICIES = ("match_train", "balance_density", "balance_age", "unconditional")
MULTIPLICITY = ("holm", "bonferroni", "fdr_bh", "none")
PRIMARY_METRICS = ("auc", "sensitivity", "specificity", "balanced_accuracy", "wafroc")
KNOWN_LABELS = ("normal", "benign", "malignant")
SUBGROUP_COLUMNS = ("density", "age_band", "lesion_type", "vendor", "site", "view")
PROFILE_NAMES = ("smoke", "quick", "full")
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")


def _field(default: Any, types: type | tuple[type, ...], choices: tuple | None = None,
           check: Any = None, hint: str = "") -> Any:
    """A dataclass field carrying its validation rule in ``metadata``."""
    meta = {"types": types, "choices": choices, "check": check, "hint": hint}
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda d=default: type(d)(d), metadata=meta)
    return field(default=default, metadata=meta)


def _positive(v: Any) -> bool:
    return v > 0


def _fraction(v: Any) -> bool:
    return 0 <= v < 1


@dataclass(frozen=True)
class DatasetSpec:
    adapter: str = _field("virtual_cohort", str)
    root: str | None = _field(None, (str, type(None)))
    revision: str | None = _field(None, (str, type(None)), check=lambda v: v is None or v.startswith("sha256:"),
                                  hint="write it as 'sha256:<64 hex digits>'")
    cohort: dict = _field({}, dict)


@dataclass(frozen=True)
class TargetSpec:
    positive: list = _field(["benign", "malignant"], list, check=lambda v: v and set(v) <= set(KNOWN_LABELS),
                            hint=f"a non-empty list drawn from {list(KNOWN_LABELS)}")
    negative: list | None = _field(None, (list, type(None)),
                                   check=lambda v: v is None or set(v) <= set(KNOWN_LABELS),
                                   hint=f"a list drawn from {list(KNOWN_LABELS)}")


@dataclass(frozen=True)
class SplitSpec:
    seed: int = _field(0, int)
    val_fraction: float = _field(0.15, (int, float), check=lambda v: 0 < v < 0.5, hint="between 0 and 0.5")
    test_fraction: float = _field(0.3, (int, float), check=lambda v: 0 < v < 0.9, hint="between 0 and 0.9")


@dataclass(frozen=True)
class PreprocessingSpec:
    image_size: int = _field(128, int, check=lambda v: 16 <= v <= 4096, hint="between 16 and 4096 pixels")
    #: null = whole image; a number = one window of this many mm per image (see benchmark/data/patches.py)
    patch_mm: float | None = _field(None, (int, float, type(None)), check=lambda v: v is None or 5 <= v <= 500,
                                    hint="null (whole image) or a field of view between 5 and 500 mm")
    patch_jitter: float = _field(0.25, (int, float), check=lambda v: 0 <= v < 0.5, hint="between 0 and 0.5")

    def patch(self) -> dict | None:
        """The patch geometry as stored in cache keys and TrainViews (``None`` for whole images)."""
        if self.patch_mm is None:
            return None
        return {"field_mm": float(self.patch_mm), "jitter": float(self.patch_jitter)}


@dataclass(frozen=True)
class DetectorSpec:
    recipe: str = _field("timm_classifier", str)
    arch: str = _field("test_resnet", str)
    weights: str | None = _field(None, (str, type(None)))
    epochs: int = _field(4, int, check=_positive, hint="a positive integer")
    batch_size: int = _field(64, int, check=_positive, hint="a positive integer")
    lr: float = _field(0.002, (int, float), check=_positive, hint="a positive number")
    weight_decay: float = _field(1e-4, (int, float), check=lambda v: v >= 0, hint="zero or positive")
    lr_schedule: str = _field("cosine", str, choices=("cosine", "constant"))


@dataclass(frozen=True)
class DetectionSpec:
    """Lesion-detection settings (read when ``detector.recipe`` is a detection recipe; docs/detection.md)."""

    hit_criterion: str = _field("centre", str, choices=("centre", "iou"))
    iou_threshold: float = _field(0.1, (int, float), check=lambda v: 0 < v <= 1, hint="between 0 and 1")
    max_marks: int = _field(10, int, check=lambda v: 1 <= v <= 100, hint="between 1 and 100 marks per image")
    fpi: float = _field(1.0, (int, float), check=_positive, hint="a positive number of false marks per image")
    fpi_points: list = _field([0.25, 0.5, 1.0, 2.0, 4.0], list,
                              check=lambda v: v and all(isinstance(f, (int, float)) and f > 0 for f in v),
                              hint="a non-empty list of positive numbers of false marks per image")
    train_crop: int | None = _field(None, (int, type(None)), check=lambda v: v is None or v >= 16,
                                    hint="null (whole images) or a crop side of at least 16 pixels")

    def options(self) -> dict[str, Any]:
        """What a detection cell needs (hit rule for checkpoint choice, mark budget, crop)."""
        return {"criterion": self.hit_criterion, "iou_threshold": float(self.iou_threshold),
                "max_marks": int(self.max_marks), "train_crop": self.train_crop}

    def plan(self) -> dict[str, Any]:
        """What the analysis plan freezes (evaluation/detection.py)."""
        return {"hit_criterion": self.hit_criterion, "iou_threshold": float(self.iou_threshold),
                "fpi": float(self.fpi), "fpi_points": [float(f) for f in self.fpi_points],
                "max_marks": int(self.max_marks)}


@dataclass(frozen=True)
class AugmentationSpec:
    arms: list = _field(["none", "classic", "physics"], list, check=lambda v: len(v) == len(set(v)) and v,
                        hint="a non-empty list of distinct generator names")
    ratios: list = _field([0.5], list, check=lambda v: v and all(isinstance(r, (int, float)) and 0 < r <= 10
                                                                 for r in v),
                          hint="a non-empty list of numbers in (0, 10]")
    conditioning: str = _field("balance_density", str, choices=CONDITIONING_POLICIES)
    sample_seed: int = _field(1234, int)


@dataclass(frozen=True)
class MetricsSpec:
    primary: str = _field("auc", str, choices=PRIMARY_METRICS)
    target_specificity: float = _field(0.9, (int, float), check=lambda v: 0 < v < 1, hint="between 0 and 1")
    prevalence: float | None = _field(None, (int, float, type(None)), check=lambda v: v is None or 0 < v < 1,
                                      hint="null (use the training split's) or a number between 0 and 1")


@dataclass(frozen=True)
class SubgroupSpec:
    attributes: list = _field(["density", "age_band", "lesion_type", "vendor"], list,
                              check=lambda v: set(v) <= set(SUBGROUP_COLUMNS), hint=f"columns from {SUBGROUP_COLUMNS}")
    intersections: list = _field([["density", "age_band"]], list,
                                 check=lambda v: all(isinstance(p, list) and len(p) == 2
                                                     and set(p) <= set(SUBGROUP_COLUMNS) for p in v),
                                 hint=f"a list of pairs of columns from {SUBGROUP_COLUMNS}")
    min_group_size: int = _field(20, int, check=_positive, hint="a positive integer")


@dataclass(frozen=True)
class AnalysisSpec:
    control_arm: str = _field("none", str)
    n_boot: int = _field(1000, int, check=lambda v: v >= 50, hint="at least 50")
    alpha: float = _field(0.05, (int, float), check=lambda v: 0 < v < 0.5, hint="between 0 and 0.5")
    multiplicity: str = _field("holm", str, choices=MULTIPLICITY)
    seed: int = _field(0, int)


@dataclass(frozen=True)
class TaskConfig:
    """One benchmark task (see ``tasks/_template/task.yaml``)."""

    task: str = _field("", str, check=lambda v: bool(_NAME_RE.match(v)),
                       hint="lowercase letters, digits and '_', starting with a letter")
    version: int = _field(1, int, check=_positive, hint="a positive integer")
    description: str = _field("", str)
    dataset: DatasetSpec = field(default_factory=DatasetSpec)
    target: TargetSpec = field(default_factory=TargetSpec)
    splits: SplitSpec = field(default_factory=SplitSpec)
    preprocessing: PreprocessingSpec = field(default_factory=PreprocessingSpec)
    detector: DetectorSpec = field(default_factory=DetectorSpec)
    detection: DetectionSpec = field(default_factory=DetectionSpec)
    augmentation: AugmentationSpec = field(default_factory=AugmentationSpec)
    seeds: list = _field([0, 1, 2], list, check=lambda v: v and all(type(s) is int and s >= 0 for s in v)
                         and len(set(v)) == len(v), hint="a non-empty list of distinct non-negative integers")
    metrics: MetricsSpec = field(default_factory=MetricsSpec)
    subgroups: SubgroupSpec = field(default_factory=SubgroupSpec)
    analysis: AnalysisSpec = field(default_factory=AnalysisSpec)
    profiles: dict = _field({}, dict, check=lambda v: set(v) <= set(PROFILE_NAMES),
                            hint=f"keys from {list(PROFILE_NAMES)}")
    source: str = ""  # file the task was read from (not a YAML key)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (the config hash is taken over this, without ``source``)."""
        data = dataclasses.asdict(self)
        data.pop("source")
        return data


_SECTIONS = {f.name: f.type for f in dataclasses.fields(TaskConfig)}
_SECTION_CLASSES = {"dataset": DatasetSpec, "target": TargetSpec, "splits": SplitSpec,
                    "preprocessing": PreprocessingSpec, "detector": DetectorSpec, "detection": DetectionSpec,
                    "augmentation": AugmentationSpec,
                    "metrics": MetricsSpec, "subgroups": SubgroupSpec, "analysis": AnalysisSpec}


def _type_name(types: type | tuple[type, ...]) -> str:
    types = types if isinstance(types, tuple) else (types,)
    return " or ".join("null" if t is type(None) else t.__name__ for t in types)


def _passes(check: Any, value: Any) -> bool:
    """Run a field check; a value the check cannot even inspect (e.g. nested lists) fails it."""
    try:
        return bool(check(value))
    except (TypeError, ValueError, AttributeError):
        return False


def _check_value(value: Any, f: dataclasses.Field, where: str) -> Any:
    meta = f.metadata
    types = meta["types"] if isinstance(meta["types"], tuple) else (meta["types"],)
    if isinstance(value, bool) and bool not in types or not isinstance(value, types):
        raise ConfigError(f"{where}: expected {_type_name(types)}, got {type(value).__name__} {value!r}")
    if meta["choices"] and value not in meta["choices"]:
        raise ConfigError(f"{where}: {value!r} is not a valid choice; valid choices: {list(meta['choices'])}")
    if meta["check"] is not None and not _passes(meta["check"], value):
        raise ConfigError(f"{where}: {value!r} is not allowed; expected {meta['hint']}")
    return value


def _build(cls: type, data: Any, source: str, prefix: str) -> Any:
    """Build dataclass ``cls`` from mapping ``data``, validating every key."""
    label = f"{source}: {prefix}" if prefix else source
    if not isinstance(data, dict):
        raise ConfigError(f"{label.rstrip('. ')}: expected a mapping, got {type(data).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.name != "source"}
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        if key not in fields:
            close = difflib.get_close_matches(str(key), list(fields), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise ConfigError(f"{source}: unknown key '{prefix}{key}'{hint}; valid keys: {sorted(fields)}")
        if key in _SECTION_CLASSES and cls is TaskConfig:
            kwargs[key] = _build(_SECTION_CLASSES[key], value if value is not None else {}, source, f"{key}.")
        else:
            kwargs[key] = _check_value(value, fields[key], f"{source}: {prefix}{key}")
    return cls(**kwargs)


def task_from_dict(data: Any, *, source: str = "task.yaml") -> TaskConfig:
    """Validate a parsed task mapping and return a :class:`TaskConfig`.

    Raises:
        ConfigError: unknown key, wrong type or impossible value (file, key and choices named).
    """
    if not isinstance(data, dict) or "task" not in data:
        raise ConfigError(f"{source}: a task file must be a mapping with at least a 'task' name "
                          "(copy tasks/_template/task.yaml)")
    cfg = _build(TaskConfig, data, source, "")
    if cfg.analysis.control_arm not in cfg.augmentation.arms:
        raise ConfigError(f"{source}: analysis.control_arm {cfg.analysis.control_arm!r} is not one of "
                          f"augmentation.arms {cfg.augmentation.arms}")
    for prof, over in cfg.profiles.items():
        from mammobench.pipeline.profiles import check_overrides

        check_overrides(over, where=f"{source}: profiles.{prof}")
    return dataclasses.replace(cfg, source=source)


def read_yaml(path: str | os.PathLike) -> Any:
    """``yaml.safe_load`` a file, turning I/O and syntax problems into :class:`ConfigError`."""
    path = Path(path)
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise ConfigError(f"{path}: file not found") from err
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML ({err})") from err
    except UnicodeDecodeError as err:
        raise ConfigError(f"{path}: not UTF-8 text ({err}); save the file as UTF-8") from err
    except OSError as err:
        raise ConfigError(f"{path}: cannot read ({type(err).__name__}: {err}); give the path of a YAML file") from err


def load_task(path: str | os.PathLike) -> TaskConfig:
    """Load and validate ``task.yaml`` (a task folder is accepted too)."""
    path = Path(path)
    if path.is_dir():
        path = path / "task.yaml"
    cfg = task_from_dict(read_yaml(path), source=str(path))
    if path.parent.name not in (cfg.task, "_template"):
        raise ConfigError(f"{path}: task name {cfg.task!r} must match its folder name {path.parent.name!r}")
    return cfg
