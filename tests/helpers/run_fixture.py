"""A realistic fake run folder (Contract 6) for report, provenance and leaderboard tests.

The records are computed, not typed in: AUCs with sklearn, patient-level bootstrap CIs, paired
bootstrap comparisons with Holm adjustment (statsmodels), fairness gaps and worst-group deltas.
Fake patient identifiers (DICOM-style names) are planted in ``predictions.csv`` and in one audit
evidence field so tests can grep every output for them.

Example:
    >>> import tempfile, pathlib
    >>> run = make_fake_run(pathlib.Path(tempfile.mkdtemp()))
    >>> (run / "result.json").exists()
    True
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import rankdata
from sklearn.metrics import roc_auc_score
from statsmodels.stats.multitest import multipletests

from mammobench.io import atomic_write_json, sha256_file
from mammobench.results import minimal_result, write_result
from mammobench.stats.margin import is_borderline

FAKE_PATIENT_NAMES = ("DOE^JANE", "MUSTERMANN^ERIKA", "ROSSI^MARIA")
SUBGROUPS = ("density", "age_band", "lesion_type", "vendor")
ARMS = (("real_only", "none", 0.0), ("ddpm_r0.5", "ddpm", 0.5), ("ddpm_r1", "ddpm", 1.0))
CONTROL = "real_only"
PLAN = {"primary_metric": "auc", "control_arm": CONTROL, "subgroups": list(SUBGROUPS), "intersections": [],
        "min_group_size": 10, "n_boot": 100, "alpha": 0.05, "multiplicity": "holm", "prevalence": 0.005,
        "target_specificity": 0.9, "seed": 7}


def _cases(rng: np.random.Generator, n_patients: int, split: str) -> pd.DataFrame:
    rows = []
    for p in range(n_patients):
        # a DICOM-style name as patient id: the worst case the report must never print
        pid = f"{FAKE_PATIENT_NAMES[p % 3]}-{split}{p:04d}"
        density = "ABCD"[rng.integers(4)]
        band = ("<50", "50-59", "60-69", "70+")[rng.integers(4)]
        vendor = ("SimVendor-1", "SimVendor-2")[rng.integers(2)]
        positive = rng.random() < 0.35
        lesion = ("mass", "calcification")[rng.integers(2)] if positive else "none"
        for view in ("CC", "MLO"):
            rows.append({"image_id": f"1.2.826.0.1.{split}.{p}.{view}", "patient_id": pid, "split": split,
                         "y_true": int(positive), "density": density, "age_band": band, "lesion_type": lesion,
                         "vendor": vendor, "site": "site-A", "view": view})
    return pd.DataFrame(rows)


def _predictions(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cases = pd.concat([_cases(rng, 40, "val"), _cases(rng, 80, "test")], ignore_index=True)
    dense = cases["density"].isin(["C", "D"]).to_numpy()
    frames = []
    for arm, generator, ratio in ARMS:
        for train_seed in (0, 1):
            signal = 1.2 + 0.5 * ratio - 0.6 * dense + 0.4 * ratio * dense
            score = cases["y_true"] * signal + rng.normal(0, 1, len(cases))
            frame = cases.assign(arm=arm, generator=generator, ratio=ratio, seed=train_seed,
                                 y_score=1 / (1 + np.exp(-score)))
            frames.append(frame)
    cols = ["image_id", "patient_id", "split", "arm", "generator", "ratio", "seed", "y_true", "y_score",
            "density", "age_band", "lesion_type", "vendor", "site", "view"]
    return pd.concat(frames, ignore_index=True)[cols]


def _auc_arrays(y: np.ndarray, s: np.ndarray) -> float:
    """Mann-Whitney AUC (ties count one half); equals sklearn's roc_auc_score."""
    ranks = rankdata(s)
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    return float((ranks[y == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _auc(frame: pd.DataFrame) -> float:
    per_seed = [roc_auc_score(g["y_true"], g["y_score"]) for _, g in frame.groupby("seed")]
    return float(np.mean(per_seed))


def _group_frames(test: pd.DataFrame):
    yield None, None, test
    for attr in SUBGROUPS:
        for group, frame in test.groupby(attr):
            if attr == "lesion_type" and group == "none":
                continue
            if attr == "lesion_type":
                frame = test[(test["lesion_type"] == group) | (test["y_true"] == 0)]
            yield attr, str(group), frame


def _boot_ids(test: pd.DataFrame, n_boot: int, rng: np.random.Generator) -> list[np.ndarray]:
    patients = np.array(sorted(test["patient_id"].unique()))
    return [rng.choice(patients, len(patients)) for _ in range(n_boot)]


def _boot_auc(frame: pd.DataFrame, boots: list[np.ndarray]) -> np.ndarray:
    per_seed = []
    for _, g in frame.groupby("seed"):
        rows = {pid: idx for pid, idx in g.reset_index(drop=True).groupby("patient_id").indices.items()}
        y, s = g["y_true"].to_numpy(), g["y_score"].to_numpy()
        out = []
        for ids in boots:
            idx = np.concatenate([rows[i] for i in ids if i in rows])
            out.append(_auc_arrays(y[idx], s[idx]))
        per_seed.append(out)
    with warnings.catch_warnings():  # a resample without both classes is NaN for that replicate
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(np.array(per_seed), axis=0)


def _records(pred: pd.DataFrame) -> tuple[list, list, list]:
    rng = np.random.default_rng(11)
    test = pred[pred["split"] == "test"]
    boots = _boot_ids(test, 60, rng)
    metrics, comparisons, values = [], [], {}
    for arm, _, _ in ARMS:
        arm_test = test[test["arm"] == arm]
        for attr, group, frame in _group_frames(arm_test):
            one = frame[frame["seed"] == 0]
            boot = _boot_auc(frame, boots)
            values[(arm, attr, group)] = (_auc(frame), boot)
            metrics.append({"metric": "auc", "split": "test", "arm": arm, "attribute": attr, "group": group,
                            "value": _auc(frame), "ci_low": float(np.nanpercentile(boot, 2.5)),
                            "ci_high": float(np.nanpercentile(boot, 97.5)), "n": int(len(one)),
                            "n_pos": int(one["y_true"].sum()), "status": "ok", "seed": None})
    val = pred[pred["split"] == "val"]
    val_boots = _boot_ids(val, 60, rng)
    for arm, _, _ in ARMS:  # overall validation AUC: what ratio selection may look at
        frame = val[val["arm"] == arm]
        boot, one = _boot_auc(frame, val_boots), frame[frame["seed"] == 0]
        metrics.append({"metric": "auc", "split": "val", "arm": arm, "attribute": None, "group": None,
                        "value": _auc(frame), "ci_low": float(np.nanpercentile(boot, 2.5)),
                        "ci_high": float(np.nanpercentile(boot, 97.5)), "n": int(len(one)),
                        "n_pos": int(one["y_true"].sum()), "status": "ok", "seed": None})
    for arm, lift in (("real_only", 0.0), ("ddpm_r1", 0.05)):  # lesion-level FROC points (detection records)
        for fpi, sens in ((0.25, 0.55), (0.5, 0.64), (1.0, 0.72), (2.0, 0.8)):
            metrics.append({"metric": "froc_sensitivity", "fpi": fpi, "split": "test", "arm": arm, "attribute": None,
                            "group": None, "value": sens + lift, "ci_low": sens + lift - 0.08,
                            "ci_high": sens + lift + 0.07, "n": 160, "n_pos": 44, "status": "ok", "seed": None})
    for (arm, attr, group), (value, boot) in values.items():
        if arm == CONTROL:
            continue
        c_value, c_boot = values[(CONTROL, attr, group)]
        diff = boot - c_boot
        p = float(min(1.0, 2 * min(np.nanmean(diff <= 0), np.nanmean(diff >= 0)) + 1 / len(diff)))
        n_rec = next(m for m in metrics if m["arm"] == arm and m["attribute"] == attr and m["group"] == group
                     and m["split"] == "test")
        comparisons.append({"metric": "auc", "arm": arm, "control": CONTROL, "attribute": attr, "group": group,
                            "estimate": value - c_value, "ci_low": float(np.nanpercentile(diff, 2.5)),
                            "ci_high": float(np.nanpercentile(diff, 97.5)), "p_value": p, "p_adjusted": None,
                            "adjustment": "holm", "significant": False, "method": "paired patient bootstrap",
                            "family": "patient_bootstrap", "primary": True,
                            "n": n_rec["n"], "n_pos": n_rec["n_pos"]})
    for arm in {c["arm"] for c in comparisons}:
        recs = [c for c in comparisons if c["arm"] == arm]
        reject, adj, _, _ = multipletests([c["p_value"] for c in recs], alpha=0.05, method="holm")
        for c, a, r in zip(recs, adj, reject):
            c["p_adjusted"], c["significant"] = float(a), bool(r)
            c["threshold"], c["borderline"] = 0.05, is_borderline(float(a), 0.05)
    return metrics, comparisons, _fairness(metrics, comparisons)


def _fairness(metrics: list, comparisons: list) -> list:
    out = []
    for arm, _, _ in ARMS:
        for attr in SUBGROUPS:
            recs = [m for m in metrics if m["arm"] == arm and m["attribute"] == attr]
            worst = min(recs, key=lambda m: m["value"])
            gap = max(m["value"] for m in recs) - worst["value"]
            out.append({"metric": "auc", "arm": arm, "attribute": attr, "kind": "gap", "value": gap,
                        "ci_low": None, "ci_high": None, "group": None, "delta_vs_control": None,
                        "delta_ci_low": None, "delta_ci_high": None})
            cmp_ = next((c for c in comparisons if c["arm"] == arm and c["attribute"] == attr
                         and c["group"] == worst["group"]), None)
            out.append({"metric": "auc", "arm": arm, "attribute": attr, "kind": "worst_group",
                        "value": worst["value"], "ci_low": worst["ci_low"], "ci_high": worst["ci_high"],
                        "group": worst["group"], "delta_vs_control": cmp_["estimate"] if cmp_ else None,
                        "delta_ci_low": cmp_["ci_low"] if cmp_ else None,
                        "delta_ci_high": cmp_["ci_high"] if cmp_ else None})
    return out


def _write_samples(run: Path, rng: np.random.Generator) -> dict:
    """``samples/ddpm.npz`` in the pipeline's layout: 8 real and 8 synthetic images per condition, lesion boxes."""
    yy, xx = np.mgrid[0:32, 0:32] / 32.0
    arrays = {}
    for cond, lesion in (("density=A", True), ("density=D", False), ("lesion_type=mass", True), ("label=normal", False)):
        base = np.exp(-((xx - 0.3) ** 2 + (yy - 0.5) ** 2) * 6)[None]
        for kind, noise in (("real", 0.05), ("synthetic", 0.08)):
            arrays[f"{kind}__{cond}"] = np.clip(base + rng.normal(0, noise, (8, 32, 32)), 0, 1).astype(np.float32)
            boxes = np.full((8, 1, 4), np.nan, np.float32)
            boxes[::2, 0] = [6, 12, 14, 20] if lesion else np.nan  # every other image has a finding
            arrays[f"boxes_{kind}__{cond}"] = boxes
    (run / "samples").mkdir(parents=True, exist_ok=True)
    np.savez(run / "samples" / "ddpm.npz", **arrays)
    pairs = {"synthetic": arrays["synthetic__density=A"][:3], "nearest": arrays["real__density=A"][:3],
             "similarity": np.array([0.91, 0.83, 0.80])}
    (run / "audits").mkdir(parents=True, exist_ok=True)
    np.savez(run / "audits" / "ddpm_nn_pairs.npz", **pairs)
    gallery = {"feature_synthetic_images": pairs["synthetic"], "feature_train_images": pairs["nearest"],
               "feature_distance": np.array([0.05, 0.09, 0.12]), "feature_threshold": np.array(0.1)}
    np.savez(run / "audits" / "ddpm_memorisation.npz", **gallery)  # layout of benchmark/audits/run.py
    return arrays


def _audits() -> list[dict]:
    dist = {"density": {"real": {"A": 0.1, "B": 0.4, "C": 0.4, "D": 0.1},
                        "synthetic": {"A": 0.15, "B": 0.45, "C": 0.33, "D": 0.07}}}
    return [
        {"generator": "ddpm", "audit": "fidelity", "check": "fd_domain", "status": "pass", "value": 12.5,
         "threshold": 40.0, "message": "domain-feature FD below threshold",
         "evidence": {"n": 64, "extractor": "domain_encoder", "resolution": 32, "ci": [9.1, 15.2]}},
        {"generator": "ddpm", "audit": "memorisation", "check": "nn_copy", "status": "warn", "value": 0.91,
         "threshold": 0.9, "message": "1 synthetic image closer to a training image than the calibrated threshold",
         "evidence": {"n": 64, "pairs_file": "audits/ddpm_nn_pairs.npz",
                      "nearest_train_patient": f"{FAKE_PATIENT_NAMES[0]}-train0001"}},
        {"generator": "ddpm_r1", "audit": "memorisation", "check": "copy_detection_feature", "status": "pass",
         "value": 0.05, "threshold": 0.1, "message": "closest pair above the calibrated distance threshold",
         "evidence": {"n": 64, "files": ["audits/ddpm_memorisation.npz"]}},
        {"generator": "ddpm_r1", "audit": "bias", "check": "age_band_distribution", "status": "pass", "value": 0.06,
         "threshold": 0.3, "message": "TV 0.06 vs target", "evidence": {
             "n": 64, "source": "labels", "synthetic": {"<50": 0.3, "50-59": 0.3, "60-69": 0.2, "70+": 0.2},
             "train": {"<50": 0.25, "50-59": 0.3, "60-69": 0.25, "70+": 0.2},
             "target": {"<50": 0.25, "50-59": 0.25, "60-69": 0.25, "70+": 0.25}, "tv_vs_target_ci": [0.02, 0.1]}},
        {"generator": "ddpm", "audit": "leakage", "check": "patient_overlap", "status": "pass", "value": 0,
         "threshold": 0, "message": "no generator-training patient in val/test", "evidence": {"n": 120}},
        {"generator": "ddpm", "audit": "bias", "check": "density_shift", "status": "pass", "value": 0.08,
         "threshold": 0.2, "message": "total-variation distance of density mix", "evidence": {"distributions": dist}},
    ]


def make_fake_run(root: Path, *, simulated: bool = True, selftest: bool = False, reader_study: bool = False,
                  run_id: str = "fake_run", training_data: tuple[str, ...] = ("virtual_cohort:train",)) -> Path:
    """Write a realistic run folder under ``root / run_id`` and return its path."""
    run = Path(root) / run_id
    run.mkdir(parents=True, exist_ok=True)
    atomic_write_json(run / "analysis_plan.json", PLAN)
    pred = _predictions(3)
    pred.to_csv(run / "predictions.csv", index=False)
    metrics, comparisons, fairness = _records(pred)
    _write_samples(run, np.random.default_rng(5))
    atomic_write_json(run / "audits" / "ddpm.json", _audits())
    result = _result(run, pred, metrics, comparisons, fairness, simulated, selftest)
    for arm in result["arms"]:
        if arm["generator"] == "ddpm":
            arm["generator_card"]["training_data"] = list(training_data)
    write_result(run / "result.json", result)
    if reader_study:
        atomic_write_json(run / "reader_study" / "vtt.json", {
            "design": "visual Turing test", "n_readers": 3, "n_cases": 40,
            "accuracy": 0.56, "ci_low": 0.48, "ci_high": 0.64, "method": "exact binomial"})
    return run


def _result(run: Path, pred, metrics, comparisons, fairness, simulated: bool, selftest: bool) -> dict:
    from mammobench.io import sha256_json

    card = {"name": "ddpm", "version": "0.3.0", "kind": "diffusion", "licence": "Apache-2.0",
            "intended_use": "augmentation of dense-breast cases", "conditioning": ["label", "density"],
            "training_data": ["virtual_cohort:train"], "hyperparameters": {"steps": 200}}
    result = minimal_result(run.name)
    result.update({
        "created": "2026-01-01T00:00:00Z", "simulated": simulated,
        "benchmark": {"version": "0.1.0", "git_sha": "0123456789abcdef0123456789abcdef01234567"},
        "task": {"name": "vc_malignancy", "version": "1.0", "config_sha256": sha256_json({"task": 1}),
                 "kind": "classification", "positive": "malignant", "description": "malignant vs not"},
        "cohort": {"adapter": "virtual_cohort", "root": "cohort", "manifest_sha256": "ab" * 32, "n_images": 960,
                   "n_patients": 240, "flow": [
                       {"stage": "DICOM files found", "n_patients": 250, "n_exams": 250, "n_images": 1000,
                        "excluded": 0, "reason": ""},
                       {"stage": "readable MG images", "n_patients": 245, "n_exams": 245, "n_images": 980,
                        "excluded": 20, "reason": "unreadable pixel data"},
                       {"stage": "with density and label", "n_patients": 240, "n_exams": 240, "n_images": 960,
                        "excluded": 20, "reason": "missing density"}],
                   "splits": {"train": {"n_patients": 120, "n_images": 480},
                              "val": {"n_patients": 40, "n_images": 160},
                              "test": {"n_patients": 80, "n_images": 320}}},
        "analysis_plan": {"sha256": sha256_file(run / "analysis_plan.json"), "path": "analysis_plan.json",
                          "written_before_test_read": True},
        "profile": "smoke", "seeds": [0, 1],
        "arms": [{"arm": a, "generator": g, "ratio": r, "n_real": 480, "n_synthetic": int(480 * r),
                  "generator_card": card if g == "ddpm" else {"name": "none", "version": "1.0", "kind": "control",
                                                               "licence": "Apache-2.0", "intended_use": "control"}}
                 for a, g, r in ARMS],
        "environment": {"python": "3.12.1", "platform": "Linux-x86_64", "torch": "2.14.1", "timm": "1.0.0",
                        "device": "cpu", "cpu_count": 2, "packages": {"numpy": "2.1.0"}},
        "metrics": metrics, "comparisons": comparisons, "fairness": fairness,
        "interactions": [{"metric": "auc", "arm": "ddpm_r1", "attribute": "density", "statistic": 3.2, "df": 3,
                          "p_value": 0.36, "method": "bootstrap Wald"}],
        "audits": _audits(), "timings": {"ingest": 3.1, "train": 41.0, "evaluate": 2.2},
        "predictions": {"path": "predictions.csv", "sha256": sha256_file(run / "predictions.csv"),
                        "n_rows": int(len(pred))},
    })
    if selftest:
        result["selftest"] = [{"trial": "planted_harm", "expected": "worse", "observed": "worse", "agree": True,
                               "evidence": "ΔAUC −0.08 [−0.12, −0.04]"}]
    return result


_BASE: dict[str, Path] = {}


def fake_run_copy(tmp_path: Path, **options) -> Path:
    """A fresh copy of a cached fake run (building the first one takes a few seconds)."""
    import shutil
    import tempfile

    key = repr(sorted(options.items()))
    if key not in _BASE:
        _BASE[key] = make_fake_run(Path(tempfile.mkdtemp(prefix="mb_fake_run_")), **options)
    dest = Path(tmp_path) / _BASE[key].name
    shutil.copytree(_BASE[key], dest)
    return dest


def rendered_run_copy(tmp_path: Path, **options) -> Path:
    """A fresh copy of a cached fake run whose report is already rendered (unsigned)."""
    import shutil
    import tempfile

    from mammobench.report.render import render_report

    key = "rendered" + repr(sorted(options.items()))
    if key not in _BASE:
        run = fake_run_copy(Path(tempfile.mkdtemp(prefix="mb_rendered_run_")), **options)
        render_report(run)
        _BASE[key] = run
    dest = Path(tmp_path) / _BASE[key].name
    shutil.copytree(_BASE[key], dest)
    return dest
