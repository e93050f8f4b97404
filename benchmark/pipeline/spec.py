"""One run, specified once: :class:`RunSpec` = task × resolved settings × how to execute × where.

:func:`plan_run` builds it from a task, a profile and overrides, checks everything that can be
checked before the first file is written (settings, plug-ins, detector weights, memory, device),
and every stage of :mod:`mammobench.pipeline.runner` reads it instead of a dozen loose parameters.
:func:`analysis_plan` derives the frozen :class:`~mammobench.evaluation.plan.AnalysisPlan` from it.

Example:
    >>> from mammobench.pipeline.suites import find_task
    >>> spec = plan_run(find_task("vc_lesion"), "smoke", out="runs", execution=Execution(executor="local",
    ...                 device="cpu"))
    >>> spec.run_dir.name, spec.settings.epochs, spec.execution.workers
    ('vc_lesion-smoke', 1, 1)
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from mammobench.evaluation.plan import AnalysisPlan
from mammobench.fields import Rule, between, build, optional, setting
from mammobench.pipeline.config import RATIOS, ProfileOverrides, TaskConfig
from mammobench.pipeline.profiles import RunSettings, resolve_settings

__all__ = ["Execution", "RunSpec", "analysis_plan", "plan_run"]

EXECUTORS = ("auto", "local", "process", "ray")


@dataclass(frozen=True)
class Execution:
    """How and where the work runs; never changes the numbers (cells fix their own thread count)."""

    executor: str = setting("auto", Rule((str,), choices=EXECUTORS))
    workers: int | None = setting(None, optional(between(1, 256)))
    address: str | None = setting(None, optional(Rule((str,))))
    device: str = setting("auto", Rule((str,), choices=("auto", "cpu", "cuda")))
    threads: int | None = setting(None, optional(between(1, 256)))
    cohort_dir: str | None = setting(None, optional(Rule((str,))))
    resume: bool = setting(True, Rule((bool,)))

    @classmethod
    def from_options(cls, *, source: str = "command line", prefix: str = "--", **options: Any) -> "Execution":
        """Validate keyword options (e.g. parsed command-line flags) with the same rules as every other setting.

        Raises:
            ConfigError: an unknown option or a value out of range (``--workers 0``).
        """
        return build(cls, dict(options), source=source, prefix=prefix)

    def resolved(self) -> "Execution":
        """``auto`` executor, workers and device made concrete for this machine."""
        from mammobench.pipeline.executors import resolve_executor
        from mammobench.torchutil import resolve_device

        device = str(resolve_device(self.device))
        executor, workers = resolve_executor(self.executor, self.workers, device)
        return dataclasses.replace(self, executor=executor, workers=workers, device=device, threads=self.threads or 1)


@dataclass(frozen=True)
class RunSpec:
    """Everything one run of one task depends on, validated (see :func:`plan_run`)."""

    task: TaskConfig
    settings: RunSettings
    execution: Execution
    out: Path
    generators: tuple[str, ...] = ()
    weights: str | None = None  # detector.weights resolved to an absolute, checked path
    generator_ratios: tuple[tuple[str, float], ...] = ()  # (generator, its own ratio) pairs, see plan_arms
    audits: bool = True  # audit every synthetic arm (the self-test skips its planted comparison arms' audits)
    report: bool = True  # render report.html at the end (the self-test renders it once, with its own section)

    @property
    def profile(self) -> str:
        return self.settings.profile

    @property
    def run_dir(self) -> Path:
        return Path(self.out) / default_run_id(self.task, self.profile, self.generators)


def default_run_id(task: TaskConfig, profile: str, generators: Sequence[str]) -> str:
    """``<task>-<profile>[-<extra generators>]`` — stable, so re-running resumes the same folder.

    Example:
        >>> from mammobench.pipeline.suites import find_task
        >>> default_run_id(find_task("vc_lesion"), "smoke", ["pkg.mod:MyGen"])
        'vc_lesion-smoke-MyGen'
    """
    from mammobench.pipeline.arms import arm_name

    extra = [arm_name(g) for g in generators if g not in task.augmentation.arms]
    return "-".join([task.task, profile, *extra])


def plan_run(task: TaskConfig, profile: str = "quick", *, out: str | os.PathLike = "runs", generators: Sequence[str] = (),
             overrides: Mapping[str, Any] | ProfileOverrides | None = None,
             execution: Execution | None = None, generator_ratios: Mapping[str, float] | None = None,
             audits: bool = True, report: bool = True) -> RunSpec:
    """Resolve and check one run before anything is written.

    ``generator_ratios`` gives a named generator its own ratio instead of the profile's (one arm);
    ``audits=False`` skips the synthetic-data audits (the report then shows none); ``report=False`` leaves
    rendering ``report.html`` to the caller (:func:`mammobench.report.render.render_report`).

    Raises:
        ConfigError: an invalid override, unknown plug-in, unusable weights, images that cannot fit in
            memory, or an unavailable device.
    """
    from mammobench.errors import ConfigError
    from mammobench.pipeline.preflight import preflight

    settings = resolve_settings(task, profile, overrides)
    execution = (execution or Execution()).resolved()
    workers = execution.workers if execution.executor == "process" else 1
    weights = preflight(task, settings, generators=generators, workers=workers, import_specs=True)
    ratios = tuple(sorted((str(g), float(r)) for g, r in (generator_ratios or {}).items()))
    bad = [f"{g}: {r}" for g, r in ratios if not RATIOS.check([r])]  # the task's own ratio rule
    if bad:
        raise ConfigError(f"generator ratios {', '.join(bad)}: each must be as in {RATIOS.hint}")
    return RunSpec(task=task, settings=settings, execution=execution, out=Path(out), generators=tuple(generators),
                   weights=weights, generator_ratios=ratios, audits=bool(audits),
                   report=bool(report))


def analysis_plan(spec: RunSpec, train_prevalence: float) -> AnalysisPlan:
    """The frozen analysis plan (Contract 4) of a run.

    ``prevalence`` (for PPV/NPV) is the task's ``metrics.prevalence`` or, when null, the training
    split's — never the test split's.
    """
    task, settings = spec.task, spec.settings
    return AnalysisPlan.from_mapping({
        "primary_metric": task.metrics.primary, "control_arm": task.analysis.control_arm,
        "subgroups": list(task.subgroups.attributes), "intersections": [list(p) for p in task.subgroups.intersections],
        "min_group_size": settings.min_group_size, "n_boot": settings.n_boot, "alpha": float(task.analysis.alpha),
        "multiplicity": task.analysis.multiplicity, "prevalence": float(task.metrics.prevalence or train_prevalence),
        "target_specificity": float(task.metrics.target_specificity), "seed": int(task.analysis.seed),
        "acceptance_criteria": list(task.analysis.acceptance_criteria),
        **({"detection": task.detection.plan()} if is_detection_task(task) else {})},
        source=f"{task.source}: analysis plan")


def is_detection_task(task) -> bool:
    """A task whose detector recipe produces marks (lesion detection; pipeline/detection_cells.py)."""
    from mammobench.pipeline.detection_cells import is_detection_recipe

    return is_detection_recipe(task.detector.recipe)
