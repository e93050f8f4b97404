"""The cohort flow (STARD/CONSORT-style): metadata rows → included images, with each exclusion and its reason.

Stages run in :data:`STAGES` order; each row of the flow counts the patients, exams and images left after
that stage and how many metadata rows it excluded, with the three most frequent reasons. Two more rows say
how many metadata rows name an image file that is missing and how many image files on disk have no
metadata row (neither silently ignored).

Example:
    >>> import pandas as pd
    >>> src = pd.DataFrame({"_row": [0, 1], "patient_id": ["p", "q"], "exam_id": ["e", "f"], "image_id": ["a", "b"]})
    >>> rej = pd.DataFrame({"_row": [1], "stage": ["files"], "reason": ["file not found: x/y.dcm"]})
    >>> [s["stage"] for s in cohort_flow(src, rej, src.iloc[:1], unlisted=0)]
    ['metadata rows', 'after files checks', 'included', 'metadata rows without an image file']
"""
from __future__ import annotations

import re

import pandas as pd

#: exclusion stages in the order the checks run
STAGES = ("metadata", "labels", "files", "dicom", "acquisition", "consistency", "required")
STAGE_TEXT = {
    "metadata": "duplicate or unusable metadata rows", "labels": "label / vocabulary problems",
    "files": "image file missing", "dicom": "unreadable or incomplete DICOM",
    "acquisition": "not an acquired for-presentation mammogram", "consistency": "table contradicts the DICOM header",
    "required": "patient, laterality, view or label cannot be established",
}


def reason_category(reason: str) -> str:
    """Reason without file paths or details, for counting ('file not found', 'duplicate row' …)."""
    text = re.sub(r"\S*/\S*", "", str(reason)).replace("::", ":").strip(" :")
    text = re.sub(r"'[^']*'|\"[^\"]*\"", "…", text)
    return text.split("(")[0].split(";")[0].strip(" :,")[:80] or "other"


def _counts(df: pd.DataFrame) -> dict:
    if df.empty:
        return {"n_patients": 0, "n_exams": 0, "n_images": 0}
    return {"n_patients": int(df["patient_id"].nunique()), "n_exams": int(df["exam_id"].nunique()),
            "n_images": int(df["image_id"].nunique())}


def cohort_flow(source: pd.DataFrame, rejects: pd.DataFrame, manifest: pd.DataFrame, *, unlisted: int) -> list[dict]:
    """Flow rows from the candidate rows (with ``_row``), the rejects (with ``_row``) and the final manifest."""
    flow = [{"stage": "metadata rows", "n_rows": int(len(source)), **_counts(source), "excluded": 0, "reason": ""}]
    remaining = source
    for stage in STAGES:
        hit = rejects.loc[(rejects["stage"] == stage) & rejects["_row"].notna()]
        rows = set(hit["_row"].astype(int))
        if not rows:
            continue
        remaining = remaining.loc[~remaining["_row"].isin(rows)]
        top = "; ".join(f"{k} ({v})" for k, v in hit["reason"].map(reason_category).value_counts().head(3).items())
        flow.append({"stage": f"after {stage} checks", "n_rows": int(len(remaining)), **_counts(remaining),
                     "excluded": len(rows), "reason": f"{STAGE_TEXT[stage]}: {top}"})
    flow.append({"stage": "included", "n_rows": int(len(manifest)), **_counts(manifest), "excluded": 0, "reason": ""})
    missing = int((rejects["stage"] == "files").sum()) if len(rejects) else 0
    if missing:
        flow.append({"stage": "metadata rows without an image file", "n_rows": missing, "n_patients": None,
                     "n_exams": None, "n_images": missing, "excluded": 0, "reason": "counted in the files stage"})
    if unlisted:
        flow.append({"stage": "image files without a metadata row", "n_rows": 0, "n_patients": None,
                     "n_exams": None, "n_images": unlisted, "excluded": 0,
                     "reason": "on disk, not in the tables: not included (listed in the rejects, stage 'unlisted')"})
    return flow
