"""Write the virtual clinical-trial cohort in VinDr-Mammo's layout (docs/architecture.md, Contract 1).

One study per patient with four images (R/L × CC/MLO); a patient has at most one lesion, in one
breast, visible in both views of that breast. Per-image seeds come from
``SeedSequence([seed, patient_index, image_index])``, and rows are written in patient order, so
the output does not depend on the number of worker processes.

Example:
    >>> import tempfile
    >>> root = make_cohort(tempfile.mkdtemp(), n_patients=2, seed=0, size=64, workers=1)
    >>> sorted(p.name for p in root.iterdir())[:3]
    ['breast-level_annotations.csv', 'cohort.json', 'finding_annotations.csv']
"""
from __future__ import annotations

import hashlib
import io
import multiprocessing as mp
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from mammobench.cohort.composition import CohortComposition, PatientPlan, plan_patients
from mammobench.cohort.dicom import dicom_bytes
from mammobench.errors import ConfigError, DataError
from mammobench.io import atomic_write_bytes, atomic_write_json, atomic_write_text, read_json, sha256_file
from mammobench.progress import progress
from mammobench.simulator import sample_case, simulate_image
from mammobench.simulator.presentation import to_stored
from mammobench.simulator.throughput import limit_threads

MAKER_VERSION = "mammobench-cohort 1.1"  # 1.1: test findings stratified per density × lesion type
IMAGE_ORDER = (("R", "CC"), ("L", "CC"), ("R", "MLO"), ("L", "MLO"))
FINDING_CATEGORY = {"mass": "Mass", "calcification": "Suspicious Calcification",
                    "architectural_distortion": "Architectural Distortion", "asymmetry": "Focal Asymmetry"}
BREAST_COLUMNS = ["study_id", "series_id", "image_id", "laterality", "view_position", "height", "width",
                  "breast_birads", "breast_density", "split"]
FINDING_COLUMNS = BREAST_COLUMNS[:-1] + ["finding_categories", "finding_birads", "xmin", "ymin", "xmax", "ymax", "split"]
TRUTH_COLUMNS = ["image_id", "study_id", "patient_id", "age", "vbd", "density", "lesion_type", "pathology",
                 "lesion_size_mm", "vendor", "site", "seed", "view", "laterality", "pd", "compressed_thickness_mm",
                 "local_density", "photometric", "bits_stored", "lesion_shape", "lesion_margin"]
CSV_NAMES = ("breast-level_annotations.csv", "finding_annotations.csv", "synth_truth.csv")


def _hex_id(*parts: object) -> str:
    return hashlib.sha256(":".join(str(p) for p in parts).encode()).hexdigest()[:32]


def image_seed(seed: int, patient_index: int, image_index: int) -> int:
    """The per-image simulator seed (independent of worker count and order)."""
    return int(np.random.SeedSequence([int(seed), int(patient_index), int(image_index)]).generate_state(1)[0])


def _birads(rng: np.random.Generator, pathology: str) -> str:
    choices = {"normal": (1,), "benign": (2, 3), "malignant": (4, 5)}[pathology]
    return f"BI-RADS {choices[int(rng.integers(len(choices)))]}"


def _patient_specs(plan: PatientPlan, seed: int, population: str) -> list:
    prng = np.random.default_rng(np.random.SeedSequence([int(seed), plan.index, 0xBEEF]))
    base = sample_case(prng, age=plan.age, density=plan.density, lesion_type=plan.lesion_type,
                       pathology=plan.pathology, view="CC", laterality=plan.lesion_side or "L", population=population)
    normal = replace(base, lesion_type="none", pathology="normal", lesion_size_mm=0.0, lesion_shape="", lesion_margin="")
    return [replace(base if lat == plan.lesion_side else normal, view=view, laterality=lat) for lat, view in IMAGE_ORDER]


def _write_image(root: Path, spec, img, ids: dict, seed_value: int, plan: PatientPlan, k: int) -> None:
    meta = img.meta
    stored = to_stored(img.pixels, meta["bits_stored"], meta["photometric"])
    info = {"patient_id": ids["patient_id"], "patient_name": f"Virtual^P{plan.index:05d}", "age": spec.age,
            "laterality": spec.laterality, "view": spec.view, "vendor": spec.vendor, "site": spec.site,
            "pixel_spacing_mm": meta["pixel_spacing_mm"], "bits_stored": meta["bits_stored"],
            "photometric": meta["photometric"], "uid_key": f"{ids['seed']}:{plan.index}:{k}",
            "study_date": f"2020{1 + plan.index % 12:02d}{1 + plan.index % 28:02d}", "image_number": k + 1}
    atomic_write_bytes(root / "images" / ids["study_id"] / f"{ids['image_id']}.dcm", dicom_bytes(stored, info))
    from PIL import Image

    for j, finding in enumerate(img.findings):
        buf = io.BytesIO()
        Image.fromarray(finding["mask"].astype(np.uint8) * 255).save(buf, format="PNG")
        atomic_write_bytes(root / "masks" / f"{ids['image_id']}_{j}.png", buf.getvalue())


def _image_rows(spec, img, ids: dict, plan: PatientPlan, seed_value: int, brng) -> tuple[dict, list[dict], dict]:
    size = img.pixels.shape[0]
    pathology = img.findings[0]["pathology"] if img.findings else "normal"
    common = {"study_id": ids["study_id"], "series_id": ids["series_id"], "image_id": ids["image_id"],
              "laterality": spec.laterality, "view_position": spec.view, "height": size, "width": size,
              "breast_birads": _birads(brng, pathology), "breast_density": f"DENSITY {spec.density}"}
    split = {"split": plan.split}
    findings = [dict(common, finding_categories=f"['{FINDING_CATEGORY[f['lesion_type']]}']",
                     finding_birads=common["breast_birads"], xmin=f["box"][0], ymin=f["box"][1],
                     xmax=f["box"][2], ymax=f["box"][3], **split) for f in img.findings]
    if not findings:
        findings = [dict(common, finding_categories="['No Finding']", finding_birads="", xmin=None, ymin=None,
                         xmax=None, ymax=None, **split)]
    lesion_type = img.findings[0]["lesion_type"] if img.findings else "none"
    m = img.meta
    truth = {"image_id": ids["image_id"], "study_id": ids["study_id"], "patient_id": ids["patient_id"],
             "age": spec.age, "vbd": round(m["vbd"], 6), "density": spec.density, "lesion_type": lesion_type,
             "pathology": pathology, "lesion_size_mm": round(spec.lesion_size_mm, 3) if img.findings else 0.0,
             "vendor": spec.vendor, "site": spec.site, "seed": seed_value, "view": spec.view,
             "laterality": spec.laterality, "pd": round(m["pd"], 6),
             "compressed_thickness_mm": round(spec.compressed_thickness_mm, 3),
             "local_density": round(m["local_density"], 6) if img.findings else None,
             "photometric": m["photometric"], "bits_stored": m["bits_stored"],
             "lesion_shape": spec.lesion_shape if img.findings else "",
             "lesion_margin": spec.lesion_margin if img.findings else ""}
    return dict(common, **split), findings, truth


def _render_patient(job: tuple) -> tuple[list, list, list]:
    plan, seed, size, root, population = job
    root = Path(root)
    study_id = _hex_id("study", seed, plan.index)
    patient_id = f"VC{_hex_id('patient', seed, plan.index)[:10].upper()}"
    brng = np.random.default_rng(np.random.SeedSequence([int(seed), plan.index, 0xB1]))
    breast_rows, finding_rows, truth_rows = [], [], []
    for k, spec in enumerate(_patient_specs(plan, seed, population)):
        seed_value = image_seed(seed, plan.index, k)
        img = simulate_image(spec, size=size, seed=seed_value)
        ids = {"study_id": study_id, "series_id": _hex_id("series", seed, plan.index, k),
               "image_id": _hex_id("image", seed, plan.index, k), "patient_id": patient_id, "seed": seed}
        _write_image(root, spec, img, ids, seed_value, plan, k)
        b, f, t = _image_rows(spec, img, ids, plan, seed_value, brng)
        breast_rows.append(b), finding_rows.extend(f), truth_rows.append(t)
    return breast_rows, finding_rows, truth_rows


def _request(n_patients: int, seed: int, size: int, composition: CohortComposition) -> dict:
    return {"maker_version": MAKER_VERSION, "n_patients": int(n_patients), "seed": int(seed), "size": int(size),
            "composition": composition.to_dict()}


def _existing(root: Path, request: dict) -> bool:
    """True when ``root`` already holds this exact cohort (intact); DataError when it holds another."""
    info_path = root / "cohort.json"
    if not info_path.exists():
        return False
    info = read_json(info_path)
    if {k: info.get(k) for k in request} != request:
        raise DataError(f"{root}: already holds a different virtual cohort (cohort.json {info.get('seed')=}, "
                        f"{info.get('n_patients')=}, {info.get('size')=}); use another --out or delete the folder")
    return all((root / name).exists() and sha256_file(root / name) == info["sha256"].get(name) for name in CSV_NAMES)


def _render_all(jobs: list, workers: int) -> list:
    """Render every patient (in ``workers`` processes), reporting progress per patient."""
    results = []
    if workers == 1:
        iterator = map(_render_patient, jobs)
        pool = None
    else:
        pool = mp.get_context("spawn").Pool(workers, initializer=limit_threads)
        iterator = pool.imap(_render_patient, jobs, chunksize=1)
    try:
        with progress(len(jobs), "cohort", unit="patient") as bar:
            for result in iterator:
                results.append(result)
                bar.update()
    finally:
        if pool is not None:
            pool.close()
            pool.join()
    return results


def _csv_text(rows: list[dict], columns: list[str]) -> str:
    return pd.DataFrame(rows, columns=columns).to_csv(index=False, lineterminator="\n")


def make_cohort(out_dir: str | Path, *, n_patients: int, seed: int, size: int = 256,
                composition: CohortComposition | None = None, workers: int = 2) -> Path:
    """Simulate and write a virtual cohort (Contract 1); reuse it when it is already there.

    Args:
        out_dir: cohort root; created if missing.
        n_patients: number of patients (one four-image study each).
        seed: master seed; the same seed gives byte-identical CSVs and identical pixel data.
        size: image side in pixels (field of view 240 mm).
        composition: :class:`CohortComposition` (default: 30 % balanced test, 50 % with a lesion,
            dense breasts under-represented in training).
        workers: simulator processes (1 = in this process).

    Progress (patients rendered, rate, ETA) is reported through :mod:`mammobench.progress`.

    Returns:
        the cohort root.
    """
    composition = composition or CohortComposition()
    if int(workers) < 1 or not 32 <= int(size) <= 4096:
        raise ConfigError(f"make_cohort: workers={workers} must be ≥ 1 and size={size} in [32, 4096]")
    root = Path(out_dir)
    request = _request(n_patients, seed, size, composition)
    plans = plan_patients(int(n_patients), seed=int(seed), composition=composition)
    if _existing(root, request):
        return root
    root.mkdir(parents=True, exist_ok=True)
    jobs = [(plan, int(seed), int(size), str(root), composition.population) for plan in plans]
    results = _render_all(jobs, int(workers))
    tables = [[row for result in results for row in result[i]] for i in range(3)]
    for name, rows, cols in zip(CSV_NAMES, tables, (BREAST_COLUMNS, FINDING_COLUMNS, TRUTH_COLUMNS)):
        atomic_write_text(root / name, _csv_text(rows, cols))
    truth = pd.DataFrame(tables[2])
    split_of = {row["image_id"]: row["split"] for row in tables[0]}
    truth["split"] = truth["image_id"].map(split_of)
    counts = truth.drop_duplicates("patient_id").groupby(["split", "density"]).size()
    info = dict(request, sha256={name: sha256_file(root / name) for name in CSV_NAMES},
                n_images=len(tables[0]), patients_by_split_density={f"{s}/{d}": int(n) for (s, d), n in counts.items()},
                finding_categories=FINDING_CATEGORY, simulated=True,
                note="Simulated images (MammoBench virtual clinical trial); results on them are simulated.")
    atomic_write_json(root / "cohort.json", info)
    return root
