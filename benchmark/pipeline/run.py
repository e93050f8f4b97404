"""``run()``: one task or suite end to end, resumable, with progress per stage on stderr.

Stages (each timed, each resumable): cohort (make or reuse) → ingest (adapter, patient-level
splits, targets) → plan (analysis plan written and hashed BEFORE any test image is read) → cache
(memory-mapped images) → inputs (cell inputs) → generators (fit on the train view only, sample) →
audits → cells (detector per arm × ratio × seed; local, process pool or Ray) → evaluate →
result.json → report → sign. The run folder is locked while a run writes it.

Example:
    >>> # paths = run("smoke")            # the smoke suite; returns the run folders
    >>> default_run_id(find_task("vc_lesion"), "smoke", ())
    'vc_lesion-smoke'
"""
from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any, Callable, Sequence

import pandas as pd

from mammobench.errors import ConfigError
from mammobench.io import RunLock, sha256_file, sha256_json
from mammobench.pipeline import stages
from mammobench.pipeline.arms import ArmSpec, plan_arms
from mammobench.pipeline.augment import audit, synthesize
from mammobench.pipeline.cells import CellSpec, collect_predictions
from mammobench.pipeline.config import TaskConfig
from mammobench.pipeline.executors import execute
from mammobench.pipeline.profiles import profile_settings
from mammobench.pipeline.record import StageTimer, build_result, cohort_record
from mammobench.pipeline.suites import find_task, resolve  # noqa: F401  (find_task used in the doctest)
from mammobench.protocols import HoldoutView

Log = Callable[[str], None]


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def default_run_id(task: TaskConfig, profile: str, generators: Sequence[str]) -> str:
    """``<task>-<profile>[-<extra generators>]`` — stable, so re-running resumes the same folder."""
    from mammobench.pipeline.arms import arm_name

    extra = [arm_name(g) for g in generators if g not in task.augmentation.arms]
    return "-".join([task.task, profile, *extra])


def analysis_plan(task: TaskConfig, settings: dict[str, Any], prevalence: float) -> dict[str, Any]:
    """The frozen analysis plan (Contract 4) of a task at a profile.

    ``prevalence`` (for PPV/NPV) is the task's ``metrics.prevalence`` or, when null, the training
    split's — never the test split's.
    """
    return {"primary_metric": task.metrics.primary, "control_arm": task.analysis.control_arm,
            "subgroups": list(task.subgroups.attributes), "intersections": [list(p) for p in task.subgroups.intersections],
            "min_group_size": int(settings.get("min_group_size") or task.subgroups.min_group_size),
            "n_boot": int(settings.get("n_boot") or task.analysis.n_boot), "alpha": float(task.analysis.alpha),
            "multiplicity": task.analysis.multiplicity,
            "prevalence": float(task.metrics.prevalence or prevalence),
            "target_specificity": float(task.metrics.target_specificity), "seed": int(task.analysis.seed),
            **({"detection": task.detection.plan()} if _is_detection(task) else {})}


def _is_detection(task: TaskConfig) -> bool:
    """A task whose detector recipe produces marks (lesion detection; pipeline/detection_cells.py)."""
    from mammobench.pipeline.detection_cells import is_detection_recipe

    return is_detection_recipe(task.detector.recipe)


def _arms(task: TaskConfig, settings: dict, generators: Sequence[str]) -> list[ArmSpec]:
    arms = settings.get("arms") or task.augmentation.arms
    ratios = settings.get("ratios") or task.augmentation.ratios
    return plan_arms(list(arms), list(ratios), tuple(generators))


def _cells(run_dir: Path, task: TaskConfig, arms: list[ArmSpec], settings: dict, device: str,
           threads: int) -> list[CellSpec]:
    det = task.detector
    return [CellSpec(run_dir=str(run_dir), task=task.task, generator=a.generator, arm=a.arm, ratio=a.ratio, seed=s,
                     arch=det.arch, recipe=det.recipe, weights=det.weights,
                     epochs=int(settings.get("epochs") or det.epochs),
                     batch_size=int(settings.get("batch_size") or det.batch_size), lr=float(det.lr),
                     weight_decay=float(det.weight_decay), lr_schedule=det.lr_schedule, device=device, threads=threads,
                     detection=json.dumps(task.detection.options(), sort_keys=True) if _is_detection(task) else "")
            for a in arms for s in (settings.get("seeds") or task.seeds)]


def _prepare_run_dir(run_dir: Path, resume: bool) -> None:
    if resume or not run_dir.exists():
        return
    if not (run_dir / "analysis_plan.json").exists() and any(run_dir.iterdir()):
        raise ConfigError(f"{run_dir}: exists and is not a MammoBench run folder; refusing to delete it "
                          "(--no-resume only restarts run folders); choose another --out")
    with RunLock(run_dir):
        pass
    shutil.rmtree(run_dir)


def _data_stages(task: TaskConfig, run_dir: Path, settings: dict, cohort_dir: str | None, timer: StageTimer):
    size = int(settings.get("image_size") or task.preprocessing.image_size)
    with timer.stage("cohort", f"{task.dataset.adapter} ({settings['n_patients']} patients if made)"):
        root, _ = stages.ensure_cohort(task, n_patients=int(settings["n_patients"]),
                                       size=int(settings["cohort_size"]), cohort_dir=cohort_dir, log=timer.say)
    with timer.stage("ingest", str(root)):
        manifest, adapter_result = stages.ingest(task, root)
        manifest = stages.add_targets(manifest, task)
    with timer.stage("plan", "freeze the analysis plan before reading the test split"):
        from mammobench.report.plan import write_analysis_plan

        train_prevalence = float(manifest.loc[manifest["split"] == "train", "y_true"].mean())
        plan = analysis_plan(task, settings, train_prevalence)
        plan_sha = write_analysis_plan(run_dir, plan)
    patch = task.preprocessing.patch()
    what = f"one {patch['field_mm']:g} mm window per image" if patch else "whole images"
    with timer.stage("cache", f"{len(manifest)} images at {size} px ({what})"):
        cache = stages.build_images(manifest, root, size, workers=min(4, os.cpu_count() or 1), log=timer.say,
                                    patch=patch)
        manifest = manifest[manifest["image_id"].astype(str).isin(set(cache.index["image_id"].astype(str)))]
        manifest = manifest.reset_index(drop=True)
    with timer.stage("inputs", "cell inputs (cases.csv, images.npy)"):
        splits = stages.write_cell_inputs(run_dir, manifest, cache)
        if _is_detection(task):
            from mammobench.pipeline.detection_cells import write_lesions

            write_lesions(run_dir, manifest, cache)
    cohort = cohort_record(task.dataset.adapter, root, manifest, list(getattr(adapter_result, "flow", [])), splits)
    return manifest, cache, plan, plan_sha, cohort


def _synthetic_stages(task: TaskConfig, run_dir: Path, arms: list[ArmSpec], manifest: pd.DataFrame, cache,
                      settings: dict, timer: StageTimer) -> tuple[list[dict], list[dict]]:
    view = stages.train_view(manifest, cache)
    seed = task.augmentation.sample_seed
    records, audits, batches = [], [], {}
    records.append({"arm": "none", "generator": "none", "ratio": 0.0, "n_real": len(view), "n_synthetic": 0})
    with timer.stage("generators", ", ".join(a.arm for a in arms if a.adds_samples) or "none"):
        for arm in (a for a in arms if a.adds_samples):
            batches[arm.arm], rec = synthesize(run_dir, arm, view, policy=task.augmentation.conditioning, seed=seed,
                                               positive=list(task.target.positive),
                                               cache_dir=stages.cache_home() / "generators", log=timer.say)
            records.append(rec)
    if batches:
        with timer.stage("audits", f"{len(batches)} synthetic set(s)"):
            cards = {r["arm"]: r.get("generator_card") or None for r in records}
            requested = {r["arm"]: r.get("requested_shares") or None for r in records}
            audits = _audit_all(task, run_dir, arms, view, manifest, cache, batches, settings, cards, requested)
    return records, audits


def _audit_all(task, run_dir, arms, view, manifest, cache, batches, settings: dict, cards: dict,
               requested: dict) -> list[dict]:
    from mammobench.audits.encoder import load_or_train_domain_encoder

    epochs = int(settings["encoder_epochs"])
    encoder = load_or_train_domain_encoder(view, seed=task.augmentation.sample_seed, epochs=epochs,
                                           cache_dir=stages.cache_home() / "encoders")
    holdout = HoldoutView(*stages.holdout_images(manifest, cache, "val"))
    patients = {s: set(manifest.loc[manifest["split"] == s, "patient_id"].astype(str)) for s in ("train", "val", "test")}
    out = []
    for arm in (a for a in arms if a.arm in batches):
        out += audit(run_dir, arm, view=view, holdout=holdout, batch=batches[arm.arm], patients=patients,
                     encoder=encoder, card=cards.get(arm.arm), requested=requested.get(arm.arm),
                     config={"seed": task.augmentation.sample_seed, "cas_epochs": epochs, **settings.get("audit", {})})
    return out


def run_task(task: TaskConfig, *, profile: str = "quick", out: str | os.PathLike = "runs",
             generators: Sequence[str] = (), executor: str = "local", workers: int = 1, address: str | None = None,
             cohort_dir: str | None = None, resume: bool = True, device: str = "auto", threads: int | None = None,
             log: Log = _stderr) -> Path:
    """Run one task end to end into ``out/<run_id>``; return the run folder."""
    from mammobench.training.train import select_device

    settings = profile_settings(profile, task.profiles)
    run_dir = Path(out) / default_run_id(task, profile, generators)
    _prepare_run_dir(run_dir, resume)
    device = select_device(device)
    threads = threads or 1  # one torch thread per cell: fastest under load, identical on every executor
    timer = StageTimer(log)
    timer.say(f"run {run_dir} (task {task.task}, profile {profile}, executor {executor}, device {device})")
    with RunLock(run_dir):
        manifest, cache, plan, plan_sha, cohort = _data_stages(task, run_dir, settings, cohort_dir, timer)
        arms = _arms(task, settings, generators)
        arm_records, audits = _synthetic_stages(task, run_dir, arms, manifest, cache, settings, timer)
        specs = _cells(run_dir, task, arms, settings, device, threads)
        with timer.stage("cells", f"{len(specs)} cells ({len(arms)} arms × {len(specs) // max(len(arms), 1)} seeds)"):
            execute(specs, executor=executor, workers=workers, address=address, log=timer.say)
        _finish(task, run_dir, specs, plan, plan_sha, cohort, arm_records, audits, settings, profile, device, timer)
    timer.say(f"report: {run_dir / 'report.html'}")
    return run_dir


def _finish(task, run_dir, specs, plan, plan_sha, cohort, arm_records, audits, settings, profile, device, timer):
    from mammobench.evaluation import evaluate_run
    from mammobench.io import atomic_write_text
    from mammobench.results import write_result

    with timer.stage("evaluate", "metrics, CIs, paired comparisons, fairness"):
        preds = collect_predictions(specs)
        atomic_write_text(run_dir / "predictions.csv", preds.to_csv(index=False, float_format="%.17g"))
        marks = lesions = None
        if any(s.detection for s in specs):
            from mammobench.pipeline.detection_cells import collect_marks, read_lesions

            marks, lesions = collect_marks(specs), read_lesions(run_dir)
            atomic_write_text(run_dir / "marks.csv", marks.to_csv(index=False, float_format="%.17g"))
        evaluation = evaluate_run(preds, plan, marks=marks, lesions=lesions)
    config_sha = sha256_json({"task": task.to_dict(), "profile": profile, "settings": settings,
                              "arms": [(s.arm, s.generator, s.ratio) for s in specs]})
    predictions = {"path": "predictions.csv", "sha256": sha256_file(run_dir / "predictions.csv"),
                   "n_rows": int(len(preds))}
    result = build_result(run_id=run_dir.name, task=task, config_sha=config_sha, profile=profile,
                          seeds=sorted({s.seed for s in specs}), arms=arm_records, cohort=cohort, plan_sha=plan_sha,
                          evaluation=evaluation, audits=audits, timings=dict(timer.timings), predictions=predictions,
                          device=device, settings=settings)
    write_result(run_dir / "result.json", result)
    with timer.stage("report", "report.html"):
        from mammobench.report.render import render_report

        render_report(run_dir)
    with timer.stage("sign", "manifest.json + Ed25519 signature"):
        from mammobench.report.provenance import sign_run

        sign_run(run_dir)


def run(task_or_suite: str | None = None, *, profile: str | None = None, out: str | os.PathLike = "runs",
        generators: Sequence[str] = (), executor: str = "local", workers: int = 1, address: str | None = None,
        cohort_dir: str | None = None, resume: bool = True, device: str = "auto", threads: int | None = None,
        log: Log = _stderr) -> list[Path]:
    """Run a task or a suite (default: the ``quick`` suite); return the run folders.

    Args:
        task_or_suite: suite name, task name or path to a task.yaml (``None`` = suite ``quick``).
        profile: smoke | quick | full (default: the suite's profile, else quick).
        generators: extra generators to add as arms (names, entry points or ``module:Class``).
        executor: local | process | ray; ``workers`` for process, ``address`` for ray.
        cohort_dir: where the virtual cohort is made/reused (default ``~/.cache/mammobench/cohorts``).
        resume: keep finished cells (default); ``False`` restarts the run folder.
    """
    tasks, suite_profile = resolve(task_or_suite)
    profile = profile or suite_profile or "quick"
    return [run_task(t, profile=profile, out=out, generators=generators, executor=executor, workers=workers,
                     address=address, cohort_dir=cohort_dir, resume=resume, device=device, threads=threads, log=log)
            for t in tasks]
