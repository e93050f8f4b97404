"""``mammobench generators acceptance``: acceptance measurement of the learned baselines on the virtual cohort.

Fits ``cgan`` and ``ddpm`` (quick settings) on the virtual cohort's training split, trains the
domain-encoder oracle on the same training split, asks each generator for a balanced set of lesion
types and reports how often the oracle recognises the requested type (vs chance and vs real
validation images), plus fit/sample minutes. A second oracle trained on the real lesion windows
judges the generated lesion alone (:func:`train_lesion_oracle`). Saves sample grids and training
curves.

It drives the pipeline's data stages, the generators and the audits, so it is a command (the top layer),
not a library helper.

Example:
    $ mammobench generators acceptance --out docs/img --json docs/generators_acceptance.json
    $ python -m mammobench.commands.acceptance --generators cgan --per-class 10   # the same
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from mammobench.io import atomic_write_json


def cohort_views(task_name: str, n_patients: int, cohort_size: int, image_size: int):
    """(train view, val rows, val images, val findings) of the task's virtual cohort (pipeline stages' caches).

    ``task_name`` is a built-in task name or a path to a ``task.yaml``."""
    from mammobench.pipeline import stages
    from mammobench.pipeline.profiles import resolve_settings
    from mammobench.pipeline.suites import find_task

    task = find_task(task_name)
    settings = resolve_settings(task, "quick", {"n_patients": n_patients, "cohort_size": cohort_size,
                                                "image_size": image_size})
    root, _ = stages.ensure_cohort(task, settings, cohort_dir=None)
    manifest, _ = stages.ingest(task, root)
    cache = stages.build_images(manifest, root, image_size, workers=2, patch=task.preprocessing.patch())
    view = stages.train_view(manifest, cache)
    val_rows, val_images = stages.holdout_images(manifest, cache, "val")
    return view, val_rows, val_images, [cache.findings(i) for i in val_rows["image_id"]]


CROP_SIZE = 32


def lesion_crops(images: np.ndarray, findings: list[list[dict]]) -> tuple[np.ndarray, list[str]]:
    """The lesion window of each image's first finding (side = 2 × box, as the generators' training
    patches), resized to ``CROP_SIZE``; returns (crops, lesion types). Images without findings are skipped."""
    from mammobench.generators.insertion import crop_lesion

    crops, types = [], []
    for img, fs in zip(images, findings):
        if fs:
            crops.append(crop_lesion(np.asarray(img, np.float32).reshape(img.shape[-2:]), fs[0]["box"], CROP_SIZE))
            types.append(str(fs[0]["lesion_type"]))
    return (np.stack(crops) if crops else np.zeros((0, CROP_SIZE, CROP_SIZE), np.float32)), types


def train_lesion_oracle(view, seed: int, epochs: int):
    """A second oracle that sees only the lesion: the domain encoder trained on the real training
    lesion windows (and tissue windows of normal images) that the generators are trained on.

    The whole-window oracle also reads the tissue around a lesion, so it judges lesion *and* background;
    this one judges the generated lesion alone (boxes are exact, so the same window can be cut from a
    synthetic image). Both are reported."""
    from mammobench.audits.encoder import train_domain_encoder
    from mammobench.generators.insertion import extract_patches

    patches, table = extract_patches(view, CROP_SIZE, np.random.default_rng(seed))
    return train_domain_encoder(_CropView(patches, table.assign(image_id=[f"crop{i}" for i in range(len(table))])),
                                seed=seed, epochs=epochs, resolution=(CROP_SIZE, CROP_SIZE))


class _CropView:
    """The minimal view the domain encoder trains on: images and their labels."""

    def __init__(self, images: np.ndarray, manifest: pd.DataFrame):
        self.images, self.manifest = images, manifest

    def __len__(self) -> int:
        return len(self.manifest)


def recognition(oracle, images: np.ndarray, wanted: np.ndarray, attr: str) -> dict:
    """Oracle agreement with the requested class, per class and overall, with a binomial test vs chance
    (the sized verdict is added by :func:`recognition_decision`).

    The oracle chooses among the requested classes only (for lesion type: *which* lesion, given that
    one was asked for — its ``none`` class is not a candidate), so chance is ``1 / n_classes``.
    """
    from scipy.stats import binomtest

    wanted = wanted.astype(str)
    classes = sorted(map(str, set(wanted)))
    proba = oracle.predict_proba(images)[attr]
    pred = proba.loc[:, [c for c in classes if c in proba.columns]].idxmax(axis=1).to_numpy().astype(str)
    hits = int((pred == wanted).sum())
    chance = 1 / len(classes)
    return {"accuracy": hits / len(wanted), "n": int(len(wanted)), "chance": chance,
            "p_value": float(binomtest(hits, len(wanted), chance, alternative="greater").pvalue),
            "per_class": {c: float((pred[wanted == c] == c).mean()) for c in classes},
            "confusion": pd.crosstab(pd.Series(wanted, name="requested"), pd.Series(pred, name="oracle")).to_dict()}


def recognition_decision(synthetic: dict, real: dict, *, alpha: float = 0.01, power: float = 0.99) -> dict:
    """The conformance check's sized test applied to a measured recognition (docs/generators.md).

    Null: chance ``1 / K``; alternative: the conformance check's, chance + 0.15 × (the oracle's
    class-balanced agreement on real validation images, mean per-class recall of ``real``, − chance);
    exact one-sided binomial at ``alpha`` on the ``n`` synthetic images this run drew. Returns the design at that ``n`` (its power against the
    alternative), the ``n`` that would reach ``power``, the exact 95 % CI and the verdict: *pass*, *fail*
    (the ``n`` had the power) or *inconclusive* (it had not, and the test did not pass).

    Example:
        >>> syn = {"accuracy": 0.5, "n": 120, "chance": 0.25}
        >>> d = recognition_decision(syn, {"per_class": {"a": 0.9, "b": 0.7, "c": 0.8, "d": 0.6}})
        >>> d["verdict"], d["n_needed"]  # 60 of 120 passes at α 0.01; 804 would give power 0.99 at p1
        ('pass', 804)
    """
    from mammobench.generators.binomial_design import conveyed_alternative, design_at, size_binomial_test
    from mammobench.stats.proportions import clopper_pearson

    chance, n = float(synthetic["chance"]), int(synthetic["n"])
    real_balanced = float(np.mean(list(real["per_class"].values())))
    hits = int(round(float(synthetic["accuracy"]) * n))
    if not real_balanced > chance or n < 1:
        return {"verdict": "inconclusive", "reason": f"the oracle is not informative on real images "
                                                    f"(balanced agreement {real_balanced:.2f}, chance {chance:.2f})"}
    p1 = conveyed_alternative(chance, real_balanced)
    design = design_at(n, chance, p1, alpha=alpha, power=power)
    needed = size_binomial_test(chance, p1, alpha=alpha, power=power, step=round(1 / chance), n_max=20000)
    return {"verdict": design.verdict(hits), "hits": hits, "ci": list(clopper_pearson(hits, n)),
            "real_balanced": real_balanced, "design": design.to_dict(),
            "n_needed": needed.n if needed.reached else None}


def memorisation_flags(name: str, gen, view, val_rows: pd.DataFrame, val_images: np.ndarray, oracle, seed: int,
                       n: int = 300) -> dict:
    """Copy-detection flag rates of a pipeline-like batch (training condition mix) against the training view,
    with the threshold calibrated on held-out validation images (calibrated FPR 1%)."""
    from mammobench.audits.run import run_audits
    from mammobench.pipeline.arms import draw_conditions
    from mammobench.protocols import HoldoutView

    conditions = draw_conditions("match_train", n, view.manifest, np.random.default_rng([seed, n]))
    batch = gen.sample(n, conditions=conditions, seed=seed + 3)
    records = run_audits(generator_name=name, train=view, holdout=HoldoutView(val_rows, val_images), synthetic=batch,
                         generator_training_patients=view.patient_ids, encoder=oracle,
                         config={"cas": False, "n_boot": 50, "n_boot_fd": 5, "ms_ssim_pairs": 10, "seed": seed})
    return {r["check"]: {"status": r["status"], "value": r["value"], "message": r["message"],
                         "ci": r["evidence"].get("flag_ci")}
            for r in records if r["audit"] == "memorisation"}


def measure(name: str, view, val_rows: pd.DataFrame, val_images: np.ndarray, oracle, out: Path,
            per_class: int, seed: int, params: dict | None = None, lesion_oracle=None,
            val_findings: list | None = None) -> dict:
    """Fit one generator, sample balanced lesion types, score with the oracle, save figures."""
    from mammobench.generators import get_generator
    from mammobench.generators.figures import sample_grid, training_curves

    from mammobench.generators.cache import fit_or_load
    from mammobench.pipeline.stages import cache_home

    start, info = time.perf_counter(), {}
    gen = fit_or_load(get_generator(name, **(params or {})), view, seed, cache_home() / "generators", info)
    fit_min = (info.get("fit_seconds") or (time.perf_counter() - start)) / 60
    types = sorted(t for t in set(view.manifest["lesion_type"].astype(str)) if t != "none")
    wanted = pd.DataFrame({"lesion_type": np.repeat(types, per_class)})
    start = time.perf_counter()
    batch = gen.sample(len(wanted), conditions=wanted, seed=seed + 1)
    sample_min = (time.perf_counter() - start) / 60
    lesion_rows = val_rows["lesion_type"].astype(str).isin(types).to_numpy()
    result = {"generator": name, "params": {k: repr(v) for k, v in gen.get_params().items()},
              "fit_minutes": fit_min, "sample_minutes_per_100": sample_min * 100 / len(wanted),
              "synthetic": recognition(oracle, batch.images[:, 0], wanted["lesion_type"].to_numpy(), "lesion_type"),
              "real_val": recognition(oracle, val_images[lesion_rows],
                                      val_rows.loc[lesion_rows, "lesion_type"].to_numpy(), "lesion_type")}
    result["synthetic"]["decision"] = recognition_decision(result["synthetic"], result["real_val"])
    if lesion_oracle is not None:
        crops, got = lesion_crops(batch.images[:, 0], list(batch.labels["findings"]))
        real_crops, real_types = lesion_crops(val_images[lesion_rows],
                                              [val_findings[i] for i in np.flatnonzero(lesion_rows)])
        result["synthetic_lesion_crops"] = recognition(lesion_oracle, crops, np.asarray(got), "lesion_type")
        result["real_val_lesion_crops"] = recognition(lesion_oracle, real_crops, np.asarray(real_types), "lesion_type")
        result["synthetic_lesion_crops"]["decision"] = recognition_decision(result["synthetic_lesion_crops"],
                                                                            result["real_val_lesion_crops"])
    real_idx = np.flatnonzero(view.manifest["lesion_type"].astype(str).isin(types + ["none"]).to_numpy())
    normals = gen.sample(per_class, conditions=pd.DataFrame({"lesion_type": ["none"] * per_class}), seed=seed + 2)
    synth_images = np.concatenate([batch.images, normals.images])
    synth_labels = pd.concat([batch.labels, normals.labels], ignore_index=True)
    grid = sample_grid(view.images[real_idx], view.manifest.iloc[real_idx], synth_images, synth_labels,
                       by="lesion_type", per_condition=4, title=f"{name}: real (left) vs synthetic (right)")
    grid.savefig(out / f"{name}_samples.png", dpi=130)
    result["memorisation"] = memorisation_flags(name, gen, view, val_rows, val_images, oracle, seed)
    training_curves({name: gen.history_}).savefig(out / f"{name}_training.png", dpi=110)
    return result


def build_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    """The command's options (added to ``parser`` when given, e.g. a sub-command parser)."""
    parser = parser or argparse.ArgumentParser(prog="mammobench generators acceptance",
                                               description=__doc__.split("\n\n")[0])
    parser.add_argument("--task", default="vc_lesion", help="task name or path to a task.yaml (virtual cohort)")
    parser.add_argument("--n-patients", type=int, default=480)
    parser.add_argument("--cohort-size", type=int, default=256)
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--generators", default="cgan,ddpm")
    parser.add_argument("--per-class", type=int, default=40)
    parser.add_argument("--oracle-epochs", type=int, default=15)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=None, help="override training steps of every generator")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument("--out", default="runs/acceptance", help="folder for the sample grids and training curves")
    parser.add_argument("--json", default="runs/acceptance/acceptance.json", help="where the figures are written")
    return parser


def _verdict(measured: dict) -> str:
    decision = measured.get("decision")
    if not decision or "design" not in decision:
        return (decision or {}).get("verdict", "n/a")
    d = decision["design"]
    return (f"{decision['verdict']} ({decision['hits']}/{d['n']}, needs ≥ {d['critical']}, α {d['alpha']:g}, "
            f"power {d['power']:.3f} vs {d['p1']:.2f}; n for 0.99: {decision['n_needed']})")


def _summary(name: str, res: dict) -> str:
    pick = lambda d, keys: {k: (round(d[k], 3) if isinstance(d[k], float) else d[k]) for k in keys}  # noqa: E731
    return (f"{name} {pick(res, ('fit_minutes', 'sample_minutes_per_100'))} "
            f"{pick(res['synthetic'], ('accuracy', 'chance', 'p_value', 'per_class'))} "
            f"verdict {_verdict(res['synthetic'])} / lesion crops {_verdict(res.get('synthetic_lesion_crops', {}))} "
            f"real val: {pick(res['real_val'], ('accuracy', 'per_class'))} "
            f"lesion crops: {pick(res['synthetic_lesion_crops'], ('accuracy', 'p_value', 'per_class'))} "
            f"real val crops: {pick(res['real_val_lesion_crops'], ('accuracy', 'per_class'))} "
            f"memorisation: { {k: (v['status'], round(v['value'], 3)) for k, v in res['memorisation'].items()} }")


def run_acceptance(args: argparse.Namespace) -> int:
    """Train the oracles once, then fit, sample, score and audit each generator; write the JSON after each."""
    import torch

    from mammobench.audits.encoder import train_domain_encoder

    torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    view, val_rows, val_images, val_findings = cohort_views(args.task, args.n_patients, args.cohort_size,
                                                            args.image_size)
    print(f"train view: {len(view)} images {view.image_size}; lesion types "
          f"{view.manifest['lesion_type'].value_counts().to_dict()}", flush=True)
    start = time.perf_counter()
    oracle = train_domain_encoder(view, seed=args.seed, epochs=args.oracle_epochs)
    print(f"oracle trained in {(time.perf_counter() - start) / 60:.1f} min", flush=True)
    lesion_oracle = train_lesion_oracle(view, args.seed, args.oracle_epochs)
    results = {"train_images": len(view), "image_size": list(view.image_size), "oracle_epochs": args.oracle_epochs,
               "generators": []}
    for name in args.generators.split(","):
        params = {"steps": args.steps} if args.steps else {}
        res = measure(name, view, val_rows, val_images, oracle, out, args.per_class, args.seed, params,
                      lesion_oracle=lesion_oracle, val_findings=val_findings)
        print(_summary(name, res), flush=True)
        results["generators"].append(res)
        atomic_write_json(args.json, results)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m mammobench.commands.acceptance`` (same options as the sub-command)."""
    return run_acceptance(build_parser().parse_args(argv))


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
