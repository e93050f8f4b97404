"""``run_selftest``: planted generators through the pipeline, one shared run, a verdict table.

One pipeline run (:func:`mammobench.pipeline.runner.run_task`) on the self-test cohort
(:func:`selftest_task`) trains the control arm and the comparison trials' arms (helpful, harmful,
null) — so they share one cohort, one image cache and the control arm's cells; the pipeline's own
audits of those planted arms are skipped (no trial reads them). The audit trials (memoriser, leaker,
biased, off-condition) need no detector: their generators are fitted and sampled with the pipeline's own synthetic stage
(:func:`mammobench.pipeline.augment.synthesize`, same train view, conditioning policy and fit cache)
and audited with :func:`mammobench.audits.run_audits` in the same run folder, on the same cohort —
only the audit that must catch each one (``Trial.audit``). The leaker is fitted,
on purpose, on a view built from the *test* split; the leakage audit is given the patients it was
fitted on. Then the trial records go into ``result.json["selftest"]``, the report is re-rendered
(with its self-test section) and the run folder re-signed.

Example:
    >>> # records = run_selftest("smoke", out="runs/selftest", trials=["memoriser", "biased"])
    >>> [t.name for t in select_trials(["null", "helpful"])]
    ['helpful', 'null']
"""
from __future__ import annotations

import dataclasses
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import pandas as pd

from mammobench.protocols import HoldoutView
from mammobench.selftest.detection_trials import CHECK_AUDIT, DETECTION_TASK
from mammobench.selftest.trial_sets import select_trials
from mammobench.selftest.trials import MISSING_LESION_TYPES, Trial, trial_record
from mammobench.workers import default_workers

logger = logging.getLogger(__name__)
SELFTEST_TASK = "vc_lesion"
#: the comparison cohort's training part lacks these lesion types (weight 0; see selftest_task)
COMPARISON_TRAIN_LESION_TYPES = {t: 0.0 for t in MISSING_LESION_TYPES}
#: The comparison trials' design, sized for power >= 0.99 from pilot runs (docs/selftest.md, "Power design"):
#: patients outside the test part (training + validation), test patients, validation share of the former,
#: epochs and seeds. ``full`` runs the ``quick`` design (its power was measured there); ``smoke`` is for plumbing.
COMPARISON_DESIGN = {
    "smoke": {"train_patients": 80, "test_patients": 120, "val_share": 0.25},
    "quick": {"train_patients": 480, "test_patients": 840, "val_share": 0.25, "epochs": 10,
              "seeds": [0, 1, 2, 3, 4, 5], "image_size": 64, "cohort_size": 256},
}
COMPARISON_DESIGN["full"] = COMPARISON_DESIGN["quick"]
COMPARISON_RATIO = 0.5        # synthetic images per real training image
#: the planted null duplicates every training case exactly once (ratio 1): the same cases at the same weights,
#: only presented in another order. At 0.5 it doubled the weight of a random half of the training cases, a
#: small real change (overall delta < 0 in 8 of 10 repeats, one significant; docs/selftest.md, "Measured agreement
#: rates"). The detection self-test's dense-lesion supply is also one per real training image: at 0.5 the
#: density-D sensitivity gain was +0.043 (Holm p 0.008), at 1 +0.061 (p < 0.001) in the same pilot cohort.
COMPARISON_GENERATOR_RATIOS = {"planted_null": 1.0, "planted_dense_lesions": 1.0}
COMPARISON_STEP_BUDGET = "real"  # every arm takes the control's optimiser steps: the data differ, not the compute
#: the cells train in channels_last (detector.channels_last): ≈ 1.4× faster on CPU, which keeps a fresh self-test
#: within 15 min on 2 cores; other float rounding only, as another CPU gives (docs/selftest.md, "One shared run")
COMPARISON_CHANNELS_LAST = True
#: the pre-specified subgroup family of the comparison trials (the helpful generator acts on a lesion type)
COMPARISON_ATTRIBUTES = ("lesion_type",)
AUDIT_CONFIG = {"cas": False}  # the classification-accuracy score is not under test; skipping it saves minutes
#: The detection self-test's design (``--task vc_lesion_detect``): the classifier's training part (480
#: patients), a test part of 3,360 patients (840 lesions per density group: the dense groups' sensitivity
#: gain, ≈ +0.037 in density D, is ≈ 3.6 standard errors at 1,680 test patients, power ≈ 0.9 under Holm;
#: ≈ 5.1 at 3,360, power ≥ 0.99), whole images at 96 px and the task's 12 epochs, equal optimiser steps per
#: arm; sized from pilots and repeats (docs/selftest.md, "Detection self-test"). Its subgroup family is density.
DETECTION_DESIGN = {
    "smoke": {"train_patients": 80, "test_patients": 120, "val_share": 0.25},
    "quick": {"train_patients": 480, "test_patients": 3360, "val_share": 0.25, "epochs": 12,
              "seeds": [0, 1, 2, 3, 4, 5], "image_size": 96, "cohort_size": 256},
}
DETECTION_DESIGN["full"] = DETECTION_DESIGN["quick"]
#: the detection self-test's training part has no dense breasts (the helpful generator supplies them)
DETECTION_TRAIN_DENSITY_WEIGHTS = {"A": 1.0, "B": 1.0, "C": 0.0, "D": 0.0}
#: per self-test task: its design, pre-specified subgroup attributes, cohort and detector settings
TASK_DESIGNS = {
    SELFTEST_TASK: {"design": COMPARISON_DESIGN, "attributes": COMPARISON_ATTRIBUTES,
                    "cohort": {"train_lesion_type_weights": dict(COMPARISON_TRAIN_LESION_TYPES)},
                    "detector": {"step_budget": COMPARISON_STEP_BUDGET, "channels_last": COMPARISON_CHANNELS_LAST}},
    DETECTION_TASK: {"design": DETECTION_DESIGN, "attributes": ("density",),
                     "cohort": {"train_density_weights": dict(DETECTION_TRAIN_DENSITY_WEIGHTS)},
                     "detector": {"step_budget": COMPARISON_STEP_BUDGET}},
}


def task_design(task_name: str) -> dict:
    """The self-test design of ``task_name`` (:data:`TASK_DESIGNS`).

    Raises:
        ConfigError: a task without a self-test design.

    Example:
        >>> task_design("vc_lesion_detect")["attributes"]
        ('density',)
    """
    from mammobench.errors import ConfigError

    if task_name not in TASK_DESIGNS:
        raise ConfigError(f"self-test task {task_name!r}: designs exist for {', '.join(TASK_DESIGNS)}")
    return TASK_DESIGNS[task_name]


def comparison_seeds(profile: str, task_name: str = SELFTEST_TASK) -> list[int]:
    """Training seeds of the comparison trials at ``profile`` (the design's, else the profile's own).

    Example:
        >>> comparison_seeds("quick"), comparison_seeds("quick", "vc_lesion_detect")
        ([0, 1, 2, 3, 4, 5], [0, 1, 2, 3, 4, 5])
    """
    from mammobench.pipeline.profiles import load_profiles

    design = task_design(task_name)["design"].get(profile, {})
    return list(design.get("seeds") or load_profiles()[profile].seeds)


def comparison_ratios(generators: Sequence[str]) -> dict[str, float]:
    """The comparison arms' own ratios (:data:`COMPARISON_GENERATOR_RATIOS`) among ``generators``.

    Example:
        >>> comparison_ratios(["planted_harmful", "planted_null"])
        {'planted_null': 1.0}
    """
    return {g: r for g, r in COMPARISON_GENERATOR_RATIOS.items() if g in generators}


def selftest_task(task_name: str = SELFTEST_TASK, *, seeds: list[int] | None = None, sample_seed: int | None = None,
                  profile: str = "quick"):
    """The task with the control arm only (planted arms are added as extra generators).

    The self-test's analysis plan is fixed here, before any cell runs. Its hypotheses concern the overall
    metric and the lesion types — the helpful generator acts on a lesion type — so the subgroup attributes
    are ``[lesion_type]`` and the multiplicity family is the overall comparison plus the four lesion-type
    groups; the cohort follows :data:`COMPARISON_DESIGN` at ``profile``: a training part without asymmetries
    (:data:`COMPARISON_TRAIN_LESION_TYPES`) — the helpful generator's premise is a subgroup the training
    set lacks, and a missing lesion type is a deficit more data of the other kinds does not fill (a
    training part without dense breasts was not: a detector trained on A/B only reached the dense
    groups' AUC, docs/selftest.md) — a large test part balanced over density and lesion type, half a
    synthetic image per real training image (:data:`COMPARISON_RATIO`) and equal optimiser steps for every
    arm (:data:`COMPARISON_STEP_BUDGET`), so no arm gains from extra training — the planted null
    (duplicates, :data:`COMPARISON_GENERATOR_RATIOS`) gets no more steps than the control. The audit trials
    are audited on the same cohort (one cohort, one image cache, one encoder). A user's run keeps the
    task's own, wider family. ``vc_lesion_detect`` (the lesion detector) follows :data:`DETECTION_DESIGN`
    instead: density is its subgroup family and its training part has no dense breasts (:data:`TASK_DESIGNS`).

    Raises:
        ConfigError: a task without a self-test design, or a profile its design does not know.
    """
    from mammobench.pipeline.config import task_from_dict
    from mammobench.pipeline.suites import find_task

    design = task_design(task_name)
    task = find_task(task_name)
    data = task.to_dict()
    data["augmentation"] = {**data["augmentation"], "arms": ["none"]}
    for name, override in (data.get("profiles") or {}).items():  # a profile's own arms would add the task's arms back
        data["profiles"][name] = {k: v for k, v in (override or {}).items() if k != "arms"}
    data["subgroups"] = {**data["subgroups"], "attributes": list(design["attributes"]), "intersections": []}
    _comparison_design(data, profile, design)
    if sample_seed is not None:
        data["augmentation"]["sample_seed"] = int(sample_seed)
    if seeds is not None:
        data["seeds"] = list(seeds)
        for name in data.get("profiles") or {}:
            data["profiles"][name] = {**(data["profiles"][name] or {}), "seeds": list(seeds)}
    return task_from_dict(data, source=f"{task.source} (self-test)")


def _comparison_design(data: dict, profile: str, task: dict) -> None:
    """Apply the task's design at ``profile`` (cohort, splits, ratio, step budget, epochs, seeds)."""
    from mammobench.errors import ConfigError
    from mammobench.pipeline.profiles import load_profiles

    designs = task["design"]
    if profile not in designs:
        raise ConfigError(f"self-test profile {profile!r}: the comparison design knows {', '.join(designs)}")
    design = designs[profile]
    n_train, n_test = design["train_patients"], design["test_patients"]
    n = n_train + n_test
    base = load_profiles()[profile]
    over = dict((data.get("profiles") or {}).get(profile) or {})
    over.update({"n_patients": n, "ratios": [COMPARISON_RATIO],
                 "audit": {**(over["audit"] if over.get("audit") is not None else base.audit), **AUDIT_CONFIG}})
    over.update({k: design[k] for k in ("epochs", "seeds", "image_size", "cohort_size") if k in design})
    data["profiles"] = {**(data.get("profiles") or {}), profile: over}
    data["splits"] = {**data["splits"], "val_fraction": design["val_share"] * n_train / n}
    data["detector"] = {**data["detector"], **task["detector"]}
    data["dataset"] = {**data["dataset"], "cohort": {**dict(data["dataset"].get("cohort") or {}), **task["cohort"],
                                                     "test_fraction": n_test / n}}


def trial_cohort_dir(cohort_dir: str | os.PathLike | None) -> str | None:
    """The user's ``--cohort`` folder gets a ``selftest`` sub-folder (its cohort is not the task's own).

    Example:
        >>> trial_cohort_dir("cohorts"), trial_cohort_dir(None)
        ('cohorts/selftest', None)
    """
    if cohort_dir is None:
        return None
    return str(Path(cohort_dir) / "selftest")


def _register() -> None:
    from mammobench.baselines.planted import register

    register()


def _data(spec):
    """Manifest and image cache of a planned run (both cached by the pipeline, so this only re-reads them)."""
    from mammobench.pipeline import stages

    task, settings = spec.task, spec.settings
    root, _ = stages.ensure_cohort(task, settings, cohort_dir=spec.execution.cohort_dir)
    manifest = stages.add_targets(stages.ingest(task, root)[0], task)
    cache = stages.build_images(manifest, root, settings.image_size, workers=default_workers(),
                                patch=task.preprocessing.patch())
    keep = manifest["image_id"].astype(str).isin(set(cache.index["image_id"].astype(str)))
    return manifest[keep].reset_index(drop=True), cache


def _leak_view(manifest: pd.DataFrame, cache):
    """A TrainView over the TEST split (relabelled): what a cheating generator would be fitted on."""
    from mammobench.protocols import TrainView

    test = manifest[manifest["split"] == "test"].copy()
    test["split"] = "train"
    test = test.reset_index(drop=True)
    return TrainView(test, cache.images(test["image_id"]), [cache.findings(i) for i in test["image_id"]],
                     manifest_hash="selftest-leak", patch=cache.patch)


def _leaked_batch(arm, leak_view, policy: str, seed: int):
    """Fit the leaker on the test-split view and sample as the pipeline would; return (batch, its patients)."""
    from mammobench.pipeline.arms import make_synthetic

    # no fit cache: the leak view's manifest hash is a fixed label, not the identity of its data
    batch, leaker = make_synthetic(arm, leak_view, policy=policy, seed=seed, cache_dir=None)
    return batch, set(leaker.training_patients_)


@dataclass(frozen=True)
class _AuditData:
    """What every audit trial shares: the run folder, the audit task and its cohort's data and encoder."""

    run_dir: Path
    task: Any
    manifest: pd.DataFrame
    cache: Any
    view: Any
    encoder: Any


def _audit_trial(trial: Trial, data: _AuditData) -> list[dict]:
    from mammobench.audits import run_audits
    from mammobench.generators import get_generator
    from mammobench.io import atomic_write_json
    from mammobench.pipeline import stages
    from mammobench.pipeline.arms import ArmSpec
    from mammobench.pipeline.augment import synthesize

    task, manifest, cache, view = data.task, data.manifest, data.cache, data.view
    arm = ArmSpec(trial.generator, trial.generator, float(task.augmentation.ratios[0]))
    seed = task.augmentation.sample_seed
    if trial.name == "leaker":
        batch, fitted_on = _leaked_batch(arm, _leak_view(manifest, cache), task.augmentation.conditioning, seed)
        requested = batch.provenance.get("requested_shares")
    else:
        batch, record = synthesize(data.run_dir, arm, view, policy=task.augmentation.conditioning, seed=seed,
                                   positive=list(task.target.positive), cache_dir=stages.cache_home() / "generators")
        fitted_on, requested = view.patient_ids, record.get("requested_shares")
    holdout = HoldoutView(*stages.holdout_images(manifest, cache, "val"))
    test = HoldoutView(*stages.holdout_images(manifest, cache, "test"))
    patients = {s: set(manifest.loc[manifest["split"] == s, "patient_id"].astype(str)) for s in ("val", "test")}
    logger.info(f"selftest: auditing {trial.generator} ({len(batch)} images)")
    records = run_audits(generator_name=trial.generator, train=view, holdout=holdout, synthetic=batch,
                         generator_training_patients=fitted_on, val_patients=patients["val"],
                         test_patients=patients["test"], encoder=data.encoder, card=get_generator(trial.generator).card,
                         test=test, config={**AUDIT_CONFIG, "seed": seed}, out_dir=data.run_dir / "audits",
                         requested=requested or None, only=[trial.audit] if trial.audit else None)
    atomic_write_json(data.run_dir / "audits" / f"{trial.generator}.json", records)
    return records


def _audit_trials(trials: list[Trial], run_dir: Path, spec) -> list[dict]:
    """Run the audit trials on ``spec``'s cohort (the comparison run's: its cohort and image cache are reused).

    A trial whose records are already in the run folder (``audits/<generator>.json``, written atomically
    when it finished) is reused, as the pipeline reuses an arm's audits: a resumed self-test recomputes
    only the trials that had not finished.
    """
    from mammobench.audits.encoder import load_or_train_domain_encoder
    from mammobench.io import read_json
    from mammobench.pipeline import stages

    files = {t.name: run_dir / "audits" / f"{t.generator}.json" for t in trials}
    done = {name: read_json(path) for name, path in files.items() if path.is_file()}
    if done:
        logger.info(f"selftest: audit trial(s) {', '.join(done)} reused from {run_dir / 'audits'}")
    order, trials = list(files), [t for t in trials if t.name not in done]
    if not trials:
        return [r for name in order for r in done[name]]
    manifest, cache = _data(spec)
    view = stages.train_view(manifest, cache)
    encoder = load_or_train_domain_encoder(view, seed=spec.task.augmentation.sample_seed,
                                           epochs=spec.settings.encoder_epochs, cache_dir=stages.cache_home() / "encoders")
    data = _AuditData(run_dir=run_dir, task=spec.task, manifest=manifest, cache=cache, view=view, encoder=encoder)
    done.update({t.name: _audit_trial(t, data) for t in trials})
    return [r for name in order for r in done[name]]


def _check_record(trial: Trial, view) -> dict:
    """Run the conformance check ``trial.audit`` on the trial's generator fitted on ``view``; an audit-style record."""
    from mammobench.generators import box_checks, get_generator
    from mammobench.generators.checks import CheckContext
    from mammobench.testing import run_check

    check = getattr(box_checks, str(trial.audit))
    ctx = CheckContext(view)
    try:
        result = run_check(check, get_generator(trial.generator), ctx)
    finally:
        ctx.close()
    rank = result.evidence.get("mean_rank")
    return {"generator": trial.generator, "audit": CHECK_AUDIT, "check": trial.audit, "status": result.status,
            "value": None if rank is None else float(rank), "threshold": box_checks.FAIL_RANK, "message": result.reason,
            "evidence": {**result.evidence, "n_view_images": len(view.manifest),
                         "image_size": [int(v) for v in view.images.shape[-2:]]}}


def _check_trials(trials: list[Trial], run_dir: Path, spec) -> list[dict]:
    """Run the check trials on the run's training view (whole images at the task's size); reuse finished ones.

    Each trial's record is written atomically to ``audits/<generator>.json`` like an audit trial's, so a
    resumed self-test recomputes only the trials that had not finished.
    """
    from mammobench.io import atomic_write_json, read_json
    from mammobench.pipeline import stages

    out = []
    view = None
    for trial in trials:
        path = run_dir / "audits" / f"{trial.generator}.json"
        if path.is_file():
            out += read_json(path)
            continue
        if view is None:
            manifest, cache = _data(spec)
            view = stages.train_view(manifest, cache)
        logger.info(f"selftest: conformance check {trial.audit} on {trial.generator} ({len(view.manifest)} images)")
        records = [_check_record(trial, view)]
        atomic_write_json(path, records)
        out += records
    return out


def attach_selftest(run_dir: Path, records: list[dict], extra_audits: list[dict]) -> None:
    """Write the self-test records (and extra audits) into result.json, re-render the report, re-sign."""
    from mammobench.report.provenance import sign_run
    from mammobench.report.render import render_report
    from mammobench.results import load_result, write_result

    result = load_result(run_dir / "result.json")
    done = {(r["generator"], r["audit"], r["check"]) for r in extra_audits}
    result["audits"] = [r for r in result.get("audits", []) if (r["generator"], r["audit"], r["check"]) not in done]
    result["audits"] += extra_audits
    result["selftest"] = records
    write_result(run_dir / "result.json", result)
    render_report(run_dir)
    sign_run(run_dir)


def _trial_execution(execution):
    """The run's execution settings with the self-test cohort's own sub-folder (see :func:`trial_cohort_dir`)."""
    from mammobench.pipeline.spec import Execution

    execution = execution or Execution()
    return dataclasses.replace(execution, cohort_dir=trial_cohort_dir(execution.cohort_dir))


def run_selftest(profile: str = "quick", *, out: str | os.PathLike = "runs/selftest", trials: Sequence[str] | None = None,
                 execution=None, task_name: str = SELFTEST_TASK) -> list[dict]:
    """Run the known-answer trials and return their ``selftest`` records (also written to result.json).

    Args:
        profile: ``quick`` (default) or ``smoke``.
        out: parent folder of the self-test run.
        trials: trial names (default: all of the task's, see :func:`mammobench.selftest.trial_sets.trials_for`).
        execution: :class:`~mammobench.pipeline.spec.Execution` (device, cohort folder …; default auto).
        task_name: ``vc_lesion`` (the image classifier, default) or ``vc_lesion_detect`` (the lesion detector).

    Raises:
        ConfigError: unknown trial, task or profile.
    """
    from mammobench.pipeline.runner import run_task
    from mammobench.pipeline.spec import plan_run
    from mammobench.results import load_result

    _register()
    chosen = select_trials(list(trials or []), task_name)
    task = selftest_task(task_name, profile=profile)
    comparison = [t.generator for t in chosen if t.kind == "comparison"]
    spec = plan_run(task, profile, out=out, generators=comparison, execution=_trial_execution(execution),
                    generator_ratios=comparison_ratios(comparison), audits=False, report=False)
    run_dir = run_task(spec)
    extra = _audit_trials([t for t in chosen if t.kind == "audit"], run_dir, spec)
    extra += _check_trials([t for t in chosen if t.kind == "check"], run_dir, spec)
    result = load_result(run_dir / "result.json")
    result["audits"] = [r for r in result.get("audits", []) if r["generator"] not in {a["generator"] for a in extra}]
    result["audits"] += extra
    primary = task.metrics.primary
    records = [trial_record(t, result, primary, profile) for t in chosen]
    for rec in records:
        rec["evidence"]["run"] = str(run_dir)
    attach_selftest(run_dir, records, extra)
    return records
