"""Cohort summaries for ``mammobench data inspect`` and the report: counts, missingness, flow.

Example:
    >>> import pandas as pd
    >>> m = pd.DataFrame({"split": ["train", "test"], "density": ["A", ""], "age_band": ["<50", "70+"],
    ...                   "lesion_type": ["none", "mass"], "age": [45.0, None]})
    >>> counts(m)["n_images"].tolist()
    [1, 1]
    >>> int(missingness(m).loc["density", "missing"])
    1
"""
from __future__ import annotations

import pandas as pd

STRATA = ("split", "density", "age_band", "lesion_type")
_MISSING_TOKENS = {"density": {""}, "age_band": {"unknown"}, "lesion_type": {"unknown"}, "label": {"unknown"},
                   "vendor": {""}, "site": {""}, "view": {"other"}}


def counts(manifest: pd.DataFrame, by: tuple[str, ...] = STRATA) -> pd.DataFrame:
    """Images and patients per combination of ``by`` (unknown density shown as 'unknown')."""
    frame = manifest.copy()
    cols = [c for c in by if c in frame.columns]
    for c in cols:
        frame[c] = frame[c].fillna("").astype(str).replace("", "unknown")
    agg = {"n_images": ("split", "size")}
    if "patient_id" in frame.columns:
        agg["n_patients"] = ("patient_id", "nunique")
    return frame.groupby(cols, dropna=False).agg(**agg).reset_index()


def missingness(manifest: pd.DataFrame) -> pd.DataFrame:
    """Per column: number and fraction of rows whose value is missing/unknown."""
    rows = {}
    for col in manifest.columns:
        values = manifest[col]
        missing = values.isna() | values.astype(str).isin(_MISSING_TOKENS.get(col, {""}) | {"nan"})
        rows[col] = {"missing": int(missing.sum()), "fraction": round(float(missing.mean()) if len(values) else 0.0, 4)}
    return pd.DataFrame.from_dict(rows, orient="index")


def format_summary(result, *, max_rows: int = 60) -> str:
    """Plain-text cohort summary of an :class:`AdapterResult` (flow, counts, missingness, rejects)."""
    m, lines = result.manifest, [f"dataset {result.dataset} at {result.root}", "", "cohort flow:"]
    for step in result.flow:
        extra = f"  excluded {step['excluded']}: {step['reason']}" if step["excluded"] else ""
        lines.append(f"  {step['stage']:<22} patients {step['n_patients']:>6}  exams {step['n_exams']:>6}  "
                     f"images {step['n_images']:>7}{extra}")
    if len(m):
        lines += ["", "images per split × density × age band × lesion type:",
                  counts(m).head(max_rows).to_string(index=False)]
        for col in ("split", "label", "density", "age_band", "lesion_type", "view", "vendor"):
            if col in m:
                lines.append(f"  {col}: " + ", ".join(f"{k or 'unknown'}={v}" for k, v in m[col].value_counts().items()))
        miss = missingness(m)
        miss = miss[miss["missing"] > 0]
        lines += ["", "missing / unknown values:", miss.to_string() if len(miss) else "  none"]
    lines += ["", f"rejects: {len(result.rejects)}"]
    for r in result.rejects.head(max_rows).itertuples(index=False):
        lines.append(f"  [{r.stage}] {r.image_id}: {r.reason}")
    return "\n".join(lines)
