"""``run()``: one task or suite end to end, resumable, logging each stage (``mammobench.progress`` shows it).

Stages (each timed, each resumable): cohort (make or reuse) → ingest (adapter, patient-level
splits, targets) → plan (analysis plan written and hashed BEFORE any test image is read) → cache
(memory-mapped images) → inputs (cell inputs) → generators (fit on the train view only, sample) →
audits → cells (detector per arm × ratio × seed; local, process pool or Ray) → evaluate →
result.json → report → sign. The run folder is locked while a run writes it.

The run is specified once (:class:`~mammobench.pipeline.spec.RunSpec`: task × resolved settings ×
execution × output folder), checked before any file is written (:func:`~mammobench.pipeline.spec.plan_run`),
and every stage below reads that one object.

Example:
    >>> # paths = run("smoke")            # the smoke suite; returns the run folders
    >>> spec = plan_run(find_task("vc_lesion"), "smoke", execution=Execution(executor="local", device="cpu"))
    >>> spec.run_dir.name
    'vc_lesion-smoke'
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import time
from pathlib import Path
from typing import Any, Mapping, Sequence

import pandas as pd

from mammobench.errors import ConfigError
from mammobench.io import RunLock, sha256_file, sha256_json
from mammobench.pipeline import stages
from mammobench.pipeline.arms import ArmSpec, plan_arms
from mammobench.pipeline.augment import AuditInputs, audit, synthesize
from mammobench.pipeline.cells import CellSpec, collect_predictions
from mammobench.pipeline.config import ProfileOverrides
from mammobench.pipeline.executors import execute
from mammobench.pipeline.record import StageTimer, build_result, cohort_record
from mammobench.pipeline.spec import Execution, RunSpec, analysis_plan, is_detection_task, plan_run
from mammobench.pipeline.suites import find_task, resolve  # noqa: F401  (find_task used in the doctest)
from mammobench.progress import progress
from mammobench.protocols import HoldoutView
from mammobench.workers import default_workers

logger = logging.getLogger(__name__)


def _cells(spec: RunSpec, arms: list[ArmSpec]) -> list[CellSpec]:
    det, settings, ex = spec.task.detector, spec.settings, spec.execution
    return [CellSpec(run_dir=str(spec.run_dir), task=spec.task.task, generator=a.generator, arm=a.arm, ratio=a.ratio,
                     seed=s, arch=det.arch, recipe=det.recipe, weights=spec.weights, epochs=settings.epochs,
                     batch_size=settings.batch_size, lr=float(det.lr), weight_decay=float(det.weight_decay),
                     lr_schedule=det.lr_schedule, step_budget=det.step_budget, channels_last=det.channels_last,
                     device=ex.device, threads=ex.threads,
                     detection=json.dumps(spec.task.detection.options(), sort_keys=True)
                     if is_detection_task(spec.task) else "")
            for a in arms for s in settings.seeds]


def _prepare_run_dir(run_dir: Path, resume: bool) -> None:
    if resume or not run_dir.exists():
        return
    if not (run_dir / "analysis_plan.json").exists() and any(run_dir.iterdir()):
        raise ConfigError(f"{run_dir}: exists and is not a MammoBench run folder; refusing to delete it "
                          "(--no-resume only restarts run folders); choose another --out")
    with RunLock(run_dir):
        pass
    shutil.rmtree(run_dir)


def _data_stages(spec: RunSpec, timer: StageTimer):
    task, settings = spec.task, spec.settings
    with timer.stage("cohort", f"{task.dataset.adapter} ({settings.n_patients} patients if made)"):
        root, _ = stages.ensure_cohort(task, settings, cohort_dir=spec.execution.cohort_dir)
    with timer.stage("ingest", str(root)):
        manifest, adapter_result = stages.ingest(task, root)
        root = Path(adapter_result.root)  # the release root the adapter found (at, above or below dataset.root)
        manifest = stages.add_targets(manifest, task)
        _check_ingested_size(spec, len(manifest))
    with timer.stage("plan", "freeze the analysis plan before reading the test split"):
        from mammobench.report.plan import write_analysis_plan

        train_prevalence = float(manifest.loc[manifest["split"] == "train", "y_true"].mean())
        plan = analysis_plan(spec, train_prevalence)
        plan_sha = write_analysis_plan(spec.run_dir, plan)
    patch = task.preprocessing.patch()
    what = f"one {patch['field_mm']:g} mm window per image" if patch else "whole images"
    with timer.stage("cache", f"{len(manifest)} images at {settings.image_size} px ({what})"):
        cache = stages.build_images(manifest, root, settings.image_size, workers=default_workers(),
                                    patch=patch)
        manifest = manifest[manifest["image_id"].astype(str).isin(set(cache.index["image_id"].astype(str)))]
        manifest = stages.check_cached(manifest.reset_index(drop=True), cache)
    with timer.stage("inputs", "cell inputs (cases.csv, images.npy)"):
        splits = stages.write_cell_inputs(spec.run_dir, manifest, cache)
        if is_detection_task(task):  # lesion boxes for the detection cells and evaluation
            from mammobench.pipeline.detection_cells import write_lesions

            write_lesions(spec.run_dir, manifest, cache)
    cohort = cohort_record(task.dataset.adapter, root, manifest, list(getattr(adapter_result, "flow", [])), splits)
    return manifest, cache, plan, plan_sha, cohort


def _check_ingested_size(spec: RunSpec, n_images: int) -> None:
    """A real dataset's size is known only now: refuse it before the cache if it cannot fit in memory."""
    from mammobench.pipeline.preflight import check_memory

    workers = spec.execution.workers if spec.execution.executor == "process" else 1
    check_memory(n_images, spec.settings, workers=workers, where=f"{spec.task.source}: dataset")


def _synthetic_stages(spec: RunSpec, arms: list[ArmSpec], manifest: pd.DataFrame, cache,
                      timer: StageTimer) -> tuple[list[dict], list[dict]]:
    task = spec.task
    view = stages.train_view(manifest, cache)
    records, audits, batches = [], [], {}
    records.append({"arm": "none", "generator": "none", "ratio": 0.0, "n_real": len(view), "n_synthetic": 0})
    synthetic = [a for a in arms if a.adds_samples]
    with timer.stage("generators", ", ".join(a.arm for a in synthetic) or "none"), \
            progress(len(synthetic), "generators", unit="arm") as bar:
        for arm in synthetic:
            start = time.perf_counter()
            batches[arm.arm], rec = synthesize(spec.run_dir, arm, view, policy=task.augmentation.conditioning,
                                               seed=task.augmentation.sample_seed, positive=list(task.target.positive),
                                               cache_dir=stages.cache_home() / "generators")
            records.append(rec)
            bar.update(line=f"generator {arm.arm}: {rec['n_synthetic']} synthetic images for {rec['n_real']} real "
                            f"({time.perf_counter() - start:.1f}s)")
    if batches and spec.audits:
        with timer.stage("audits", f"{len(batches)} synthetic set(s)"):
            audits = _audit_all(spec, arms, view, manifest, cache, batches, records)
    return records, audits


def _audit_all(spec: RunSpec, arms: list[ArmSpec], view, manifest, cache, batches: dict, records: list[dict]) -> list[dict]:
    from mammobench.audits.encoder import load_or_train_domain_encoder

    seed, epochs = spec.task.augmentation.sample_seed, spec.settings.encoder_epochs
    encoder = load_or_train_domain_encoder(view, seed=seed, epochs=epochs, cache_dir=stages.cache_home() / "encoders")
    inputs = AuditInputs(view=view, holdout=HoldoutView(*stages.holdout_images(manifest, cache, "val")),
                         patients={s: set(manifest.loc[manifest["split"] == s, "patient_id"].astype(str))
                                   for s in ("train", "val", "test")},
                         encoder=encoder, config={"seed": seed, "cas_epochs": epochs, **spec.settings.audit})
    by_arm = {r["arm"]: r for r in records}
    todo, out = [a for a in arms if a.arm in batches], []
    with progress(len(todo), "audits", unit="arm") as bar:
        for arm in todo:
            start = time.perf_counter()
            found = audit(spec.run_dir, arm, batches[arm.arm], inputs, by_arm.get(arm.arm, {}))
            out += found
            counts = {s: sum(r["status"] == s for r in found) for s in ("pass", "warn", "fail", "skip")}
            bar.update(line=f"audits {arm.arm}: {len(found)} checks, " + ", ".join(f"{n} {s}" for s, n in counts.items()
                                                                                 if n) + f" ({time.perf_counter() - start:.1f}s)")
    return out


def run_task(spec: RunSpec) -> Path:
    """Run one planned task end to end into ``spec.run_dir``; return the run folder."""
    run_dir, ex = spec.run_dir, spec.execution
    _prepare_run_dir(run_dir, ex.resume)
    timer = StageTimer()
    logger.info(f"run {run_dir} (task {spec.task.task}, profile {spec.profile}, executor {ex.executor}, "
                f"device {ex.device})")
    with RunLock(run_dir):
        manifest, cache, plan, plan_sha, cohort = _data_stages(spec, timer)
        arms = plan_arms(list(spec.settings.arms), list(spec.settings.ratios), spec.generators,
                         dict(spec.generator_ratios))
        arm_records, audits = _synthetic_stages(spec, arms, manifest, cache, timer)
        cells = _cells(spec, arms)
        with timer.stage("cells", f"{len(cells)} cells ({len(arms)} arms × {len(spec.settings.seeds)} seeds)"):
            execute(cells, executor=ex.executor, workers=ex.workers, address=ex.address)
        _finish(spec, cells, plan, plan_sha, cohort, arm_records, audits, timer)
    if spec.report:
        logger.info(f"report: {run_dir / 'report.html'}")
    return run_dir


def _finish(spec: RunSpec, cells: list[CellSpec], plan, plan_sha: str, cohort: dict, arm_records: list[dict],
            audits: list[dict], timer: StageTimer) -> None:
    from mammobench.evaluation import evaluate_run
    from mammobench.io import atomic_write_text
    from mammobench.results import write_result

    run_dir = spec.run_dir
    with timer.stage("evaluate", "metrics, CIs, paired comparisons, fairness"):
        preds = collect_predictions(cells)
        atomic_write_text(run_dir / "predictions.csv", preds.to_csv(index=False, float_format="%.17g"))
        marks = lesions = None
        if any(c.detection for c in cells):
            from mammobench.pipeline.detection_cells import collect_marks, read_lesions

            marks, lesions = collect_marks(cells), read_lesions(run_dir)
            atomic_write_text(run_dir / "marks.csv", marks.to_csv(index=False, float_format="%.17g"))
        evaluation = evaluate_run(preds, plan, marks=marks, lesions=lesions)
    config_sha = sha256_json({"task": spec.task.to_dict(), "profile": spec.profile,
                              "settings": spec.settings.to_dict(), "arms": [(s.arm, s.generator, s.ratio) for s in cells]})
    predictions = {"path": "predictions.csv", "sha256": sha256_file(run_dir / "predictions.csv"),
                   "n_rows": int(len(preds))}
    result = build_result(spec, config_sha=config_sha, seeds=sorted({s.seed for s in cells}), arms=arm_records,
                          cohort=cohort, plan_sha=plan_sha, evaluation=evaluation, audits=audits,
                          timings=dict(timer.timings), predictions=predictions)
    result["cpu_timings"] = dict(timer.cpu_timings)  # CPU seconds per stage (this process + reaped workers)
    write_result(run_dir / "result.json", result)
    if spec.report:
        with timer.stage("report", "report.html"):
            from mammobench.report.render import render_report

            render_report(run_dir)
    with timer.stage("sign", "manifest.json + Ed25519 signature"):
        from mammobench.report.provenance import sign_run

        sign_run(run_dir)


def run(task_or_suite: str | None = None, *, profile: str | None = None, out: str | os.PathLike = "runs",
        generators: Sequence[str] = (), overrides: Mapping[str, Any] | ProfileOverrides | None = None,
        execution: Execution | None = None) -> list[Path]:
    """Run a task or a suite (default: the ``quick`` suite); return the run folders.

    Every task of a suite is planned and checked (:func:`~mammobench.pipeline.spec.plan_run`) before
    the first one starts, so a bad setting in the last task does not fail an hour in.

    Args:
        task_or_suite: suite name, task name or path to a task.yaml (``None`` = suite ``quick``).
        profile: smoke | quick | full (default: the suite's profile, else quick).
        out: parent folder of the run folders.
        generators: extra generators to add as arms (names, entry points or ``module:Class``).
        overrides: profile settings to override (``{"epochs": 2}``; the same keys and rules as ``profiles:``).
        execution: executor, workers, Ray address, device, threads, cohort folder, resume
            (:class:`~mammobench.pipeline.spec.Execution`; default: ``auto`` everything, resume).
    """
    tasks, suite_profile = resolve(task_or_suite)
    profile = profile or suite_profile or "quick"
    specs = [plan_run(t, profile, out=out, generators=generators, overrides=overrides, execution=execution)
             for t in tasks]
    return [run_task(spec) for spec in specs]
