"""Build a blinded, randomised reader-study folder (layout in :mod:`mammobench.reader.study`).

* ``turing``: half real, half synthetic images, matched pair by pair within (density, lesion type)
  strata taken round-robin so every stratum is represented; truth 1 = synthetic.
* ``diagnostic``: real images enriched to half malignant, spread round-robin over density and
  lesion-type strata; truth 1 = malignant; treatments ``unaided`` and (with ``ai_scores``) ``aided``.

Images are exported as 8-bit PNGs with no metadata under opaque random case ids; the truth and
provenance go to ``key/key.csv`` only, which the app never reads. A power/sample-size statement
(``power.json``/``power.md``) and reader instructions (``README.md``) are written alongside, and
each reader gets a sign-in code (:mod:`mammobench.reader.access`; the owner's list is
``key/reader_codes.csv``). By default the study enforces each reader's assigned reading order.

Example:
    >>> # build_study(real="cohort_cache", synthetic="gen_samples", design="turing", out="study",
    >>> #             n_cases=100, seed=0)
"""
from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from PIL import Image

from mammobench.errors import DataError
from mammobench.io import atomic_write_bytes, atomic_write_json, atomic_write_text
from mammobench.reader.access import CODES_FILE, check_reader_ids, default_reader_ids, issue_codes
from mammobench.reader.deid import png_metadata_chunks
from mammobench.reader.power import power_statement
from mammobench.reader.sources import ImageSource, open_source
from mammobench.reader.study import IMAGES_DIR, KEY_COLUMNS, KEY_FILE, STUDY_FILE

_STRATA = ["density", "lesion_type"]


def _shuffled_groups(table: pd.DataFrame, keys: list[str], rng: np.random.Generator) -> dict[tuple, list[int]]:
    groups = {k: list(rng.permutation(idx.to_numpy())) for k, idx in table.groupby(keys if len(keys) > 1 else keys[0]).groups.items()}
    return {k if isinstance(k, tuple) else (k,): v for k, v in groups.items()}


def round_robin(table: pd.DataFrame, keys: list[str], n: int, rng: np.random.Generator) -> pd.DataFrame:
    """Pick ``n`` rows spread as evenly as possible over the strata defined by ``keys``.

    Example:
        >>> t = pd.DataFrame({"d": list("AAAAB"), "x": range(5)})
        >>> sorted(round_robin(t, ["d"], 2, np.random.default_rng(0))["d"])
        ['A', 'B']
    """
    groups = _shuffled_groups(table, keys, rng)
    order = [list(groups)[k] for k in rng.permutation(len(groups))]
    picked: list[int] = []
    while len(picked) < n and any(groups[g] for g in order):
        for g in order:
            if groups[g] and len(picked) < n:
                picked.append(groups[g].pop())
    return table.loc[picked]


def select_turing(real: pd.DataFrame, synth: pd.DataFrame, n_cases: int, rng: np.random.Generator) -> pd.DataFrame:
    """Matched real/synthetic pairs round-robin over shared strata, then unmatched fill if needed."""
    n_real, n_synth = n_cases // 2, n_cases - n_cases // 2
    if len(real) < n_real or len(synth) < n_synth:
        raise DataError(f"turing design with {n_cases} cases needs {n_real} real and {n_synth} synthetic images; "
                        f"have {len(real)} real and {len(synth)} synthetic")
    greal, gsyn = _shuffled_groups(real, _STRATA, rng), _shuffled_groups(synth, _STRATA, rng)
    shared = sorted(set(greal) & set(gsyn))
    shared = [shared[k] for k in rng.permutation(len(shared))]
    pr: list[int] = []
    ps: list[int] = []
    while len(pr) < n_real and any(greal[s] and gsyn[s] for s in shared):
        for s in shared:
            if greal[s] and gsyn[s] and len(pr) < n_real:
                pr.append(greal[s].pop())
                ps.append(gsyn[s].pop())
    matched = len(pr)
    pr += list(rng.permutation(real.index.difference(pr).to_numpy()))[: n_real - len(pr)]
    ps += list(rng.permutation(synth.index.difference(ps).to_numpy()))[: n_synth - len(ps)]
    out = pd.concat([real.loc[pr].assign(source="real", truth=0), synth.loc[ps].assign(source="synthetic", truth=1)])
    return out.assign(matched=[k < matched for k in range(len(pr))] + [k < matched for k in range(len(ps))])


def select_diagnostic(real: pd.DataFrame, n_cases: int, rng: np.random.Generator) -> pd.DataFrame:
    """Enriched case set: up to half malignant (round-robin over strata), the rest non-malignant."""
    truth = (real["label"] == "malignant").astype(int)
    pos, neg = real[truth == 1], real[truth == 0]
    if pos.empty or neg.empty:
        raise DataError("diagnostic design needs malignant and non-malignant real images (column 'label')")
    n_pos = min(n_cases // 2, len(pos))
    n_neg = n_cases - n_pos
    if n_neg > len(neg):
        raise DataError(f"diagnostic design with {n_cases} cases needs {n_neg} non-malignant images; have {len(neg)}")
    picked = pd.concat([round_robin(pos, _STRATA, n_pos, rng).assign(truth=1),
                        round_robin(neg, _STRATA, n_neg, rng).assign(truth=0)])
    return picked.assign(source="real", matched=False)


def _png_bytes(image: np.ndarray) -> bytes:
    arr = np.asarray(image, dtype=np.float32)
    if arr.ndim != 2:
        raise DataError(f"expected a 2-D grey image, got shape {arr.shape}")
    buf = io.BytesIO()
    Image.fromarray(np.round(np.clip(arr, 0, 1) * 255).astype(np.uint8), mode="L").save(buf, format="PNG")
    return buf.getvalue()


def _case_ids(n: int, rng: np.random.Generator) -> list[str]:
    ids: list[str] = []
    while len(ids) < n:
        new = "c" + rng.bytes(5).hex()
        if new not in ids:
            ids.append(new)
    return ids


def _ai_score_map(path: Path | None) -> dict[str, float]:
    if path is None:
        return {}
    table = pd.read_csv(path, dtype={"image_id": str})
    if not {"image_id", "score"} <= set(table.columns):
        raise DataError(f"{path}: AI scores need columns 'image_id' and 'score'")
    scores = pd.to_numeric(table["score"], errors="coerce")
    if scores.isna().any():
        raise DataError(f"{path}: column 'score' has non-numeric values")
    scale = 100.0 if scores.max() <= 1.0 else 1.0
    return dict(zip(table["image_id"], (scores * scale).round(1)))


def _readme(design: str, n_cases: int, treatments: list[str], power_text: str) -> str:
    task = ("For each image decide whether it is a REAL mammogram or a SYNTHETIC (computer-generated) one, "
            "and give your confidence from 1 (guess) to 5 (certain). Half of the images may or may not be "
            "synthetic; judge each image on its own." if design == "turing" else
            "For each case give the likelihood of malignancy (0-100) and click the most suspicious finding. "
            "Cases are read first without AI support, then with the AI suspicion score shown (sequential design).")
    return (f"# Reader study instructions\n\n{n_cases} cases, treatments: {', '.join(treatments)}.\n\n"
            "1. Open the personal link the study owner gave you (or open the app and enter your reader code). "
            f"Your code is yours alone: do not share it.\n2. {task}\n"
            "3. Use the Window, Level and Zoom sliders as you would at a workstation; 'Reset display' restores them.\n"
            "4. Every answer is saved the moment you submit it; cases come in your own fixed order. 'Stop' ends the "
            "session; sign in again with your code to resume at the next unread case. Answers cannot be changed once "
            "submitted.\n"
            "5. Do not discuss cases with other readers.\n\n"
            f"## Study size\n\n{power_text}\n")


def _write_images(out: Path, cases: pd.DataFrame, sources: dict[str, ImageSource],
                  ai: dict[str, float] | None) -> list[dict[str, Any]]:
    """Export each case as a metadata-free PNG; return the public case list (ids, AI scores)."""
    public = []
    for row in cases.itertuples():
        path = out / IMAGES_DIR / f"{row.case_id}.png"
        atomic_write_bytes(path, _png_bytes(sources[row.source].load(row.origin_id)))
        if png_metadata_chunks(path):
            raise DataError(f"{path}: exported PNG carries metadata chunks {png_metadata_chunks(path)}")
        entry: dict[str, Any] = {"case_id": row.case_id}
        if ai is not None:
            entry["ai_score"] = ai.get(row.origin_id)
        public.append(entry)
    return public


def build_study(*, real: str | os.PathLike, synthetic: str | os.PathLike | None, design: str,
                out: str | os.PathLike, n_cases: int, seed: int, margin: float = 0.1, n_readers: int = 4,
                ai_scores: str | os.PathLike | None = None,
                real_manifest: str | os.PathLike | None = None, readers: list[str] | None = None,
                enforce_order: bool = True, base_url: str = "http://127.0.0.1:8765") -> dict[str, Any]:
    """Build the study folder and return a summary (counts per source and stratum, readers, codes file).

    Args:
        readers: reader ids to issue codes for (default ``R01 … R{n_readers}``).
        enforce_order: readers must answer in their assigned order (recorded in ``study.json``).
        base_url: where the app will run, for the links in ``key/reader_codes.csv``.
    """
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise DataError(f"{out}: folder exists and is not empty; choose a new --out (studies are never overwritten)")
    if design not in ("turing", "diagnostic") or n_cases < 2:
        raise DataError(f"design must be 'turing' or 'diagnostic' and --n-cases >= 2 (got {design!r}, {n_cases})")
    readers = check_reader_ids(list(readers) if readers else default_reader_ids(n_readers))
    rng = np.random.default_rng(seed)
    real_src = open_source(real, real_manifest)
    sources: dict[str, ImageSource] = {"real": real_src}
    if design == "turing":
        if synthetic is None:
            raise DataError("turing design needs --synthetic FOLDER (a folder submission of generated images)")
        sources["synthetic"] = open_source(synthetic)
        cases = select_turing(real_src.table, sources["synthetic"].table, n_cases, rng)
        treatments = ["turing"]
    else:
        cases = select_diagnostic(real_src.table, n_cases, rng)
        treatments = ["unaided", "aided"] if ai_scores else ["unaided"]
    cases = cases.assign(case_id=_case_ids(len(cases), rng)).sort_values("case_id").reset_index(drop=True)
    ai = _ai_score_map(Path(ai_scores) if ai_scores else None) if "aided" in treatments else None
    public = _write_images(out, cases, sources, ai)
    atomic_write_text(out / KEY_FILE, cases.loc[:, list(KEY_COLUMNS) + ["matched"]].to_csv(index=False))
    power = power_statement(design, n_cases=n_cases, n_readers=n_readers, margin=margin)
    atomic_write_json(out / "power.json", power)
    atomic_write_text(out / "power.md", f"# Power / sample size\n\n{power['text']}\n")
    atomic_write_text(out / "README.md", _readme(design, n_cases, treatments, power["text"]))
    issue_codes(out, readers, base_url=base_url)
    atomic_write_json(out / STUDY_FILE, {"schema_version": 2, "design": design, "seed": seed, "margin": margin,
                                         "enforce_order": bool(enforce_order), "treatments": treatments,
                                         "cases": public,
                                         "rating": "turing: call + confidence 1-5 (rating 1-10 = synthetic)"
                                         if design == "turing" else "malignancy 0-100 + lesion click"})
    summary = cases.groupby(["source", *_STRATA]).size().rename("n").reset_index()
    return {"study": str(out), "design": design, "n_cases": int(len(cases)),
            "matched_pairs": int(cases["matched"].sum() // 2), "power": power["text"], "readers": readers,
            "reader_codes": str(out / CODES_FILE), "enforce_order": bool(enforce_order),
            "strata": summary.to_dict(orient="records")}
