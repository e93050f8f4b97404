"""The self-test's trial sets, one per task: which known-answer trials ``--task`` runs, and picking them by name.

``vc_lesion`` (the image classifier, the default) runs :data:`mammobench.selftest.trials.TRIALS`;
``vc_lesion_detect`` (the lesion detector) runs
:data:`mammobench.selftest.detection_trials.DETECTION_TRIALS`.

Example:
    >>> [t.name for t in select_trials(["null", "helpful"])]
    ['helpful', 'null']
"""
from __future__ import annotations

from mammobench.selftest.detection_trials import DETECTION_TASK, DETECTION_TRIALS
from mammobench.selftest.trials import TRIALS, Trial

TRIAL_SETS: dict[str, dict[str, Trial]] = {"vc_lesion": TRIALS, DETECTION_TASK: DETECTION_TRIALS}


def trials_for(task: str = "vc_lesion") -> dict[str, Trial]:
    """The known-answer trials of a self-test task (:data:`TRIAL_SETS`).

    ``vc_lesion`` (the image classifier): :data:`~mammobench.selftest.trials.TRIALS`; ``vc_lesion_detect`` (the
    lesion detector): :data:`~mammobench.selftest.detection_trials.DETECTION_TRIALS`.

    Raises:
        ConfigError: a task without a self-test.

    Example:
        >>> list(trials_for("vc_lesion_detect"))
        ['dense_helpful', 'detect_harmful', 'off_location']
    """
    from mammobench.errors import ConfigError

    if task not in TRIAL_SETS:
        raise ConfigError(f"--task {task!r}: the self-test runs on {', '.join(TRIAL_SETS)}")
    return TRIAL_SETS[task]


def select_trials(names: list[str] | None, task: str = "vc_lesion") -> list[Trial]:
    """The named trials of ``task`` (all when ``names`` is empty/None), in the table's order.

    Raises:
        ConfigError: an unknown trial name (the valid names are listed) or task.
    """
    from mammobench.errors import ConfigError

    known = trials_for(task)
    if not names:
        return list(known.values())
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ConfigError(f"--trials: unknown trial(s) {unknown} for task {task}; valid: {', '.join(known)}")
    return [t for t in known.values() if t.name in names]


__all__ = ["TRIAL_SETS", "select_trials", "trials_for"]
