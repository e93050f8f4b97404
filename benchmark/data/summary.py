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


def reject_reasons(rejects: pd.DataFrame) -> pd.DataFrame:
    """Rejected rows per stage and reason category (paths and values stripped), most frequent first."""
    from mammobench.data.adapters.flow import reason_category

    if rejects.empty:
        return pd.DataFrame(columns=["stage", "reason", "n"])
    frame = rejects.assign(reason=rejects["reason"].map(reason_category))
    return (frame.groupby(["stage", "reason"]).size().rename("n").reset_index()
            .sort_values(["n", "stage"], ascending=[False, True]).reset_index(drop=True))


def _split_lines(splits: dict) -> list[str]:
    if not splits:
        return ["", "splits: not assigned (no --split-seed)"]
    given = ", ".join(splits.get("given_parts") or []) or "none"
    lines = ["", f"splits (seed {splits.get('seed')}; given by the dataset or the user: {given}):"]
    for name, part in splits.get("parts", {}).items():
        lines.append(f"  {name:<5} patients {part['n_patients']:>6}  images {part['n_images']:>7}  {part['origin']}")
    return lines


def _flow_lines(flow: list[dict]) -> list[str]:
    lines = ["cohort flow:"]
    for step in flow:
        extra = f"  excluded {step['excluded']}: {step['reason']}" if step["excluded"] else \
            (f"  ({step['reason']})" if step.get("reason") else "")
        pats = "-" if step.get("n_patients") is None else step["n_patients"]
        exams = "-" if step.get("n_exams") is None else step["n_exams"]
        lines.append(f"  {step['stage']:<38} patients {pats:>6}  exams {exams:>6}  images {step['n_images']:>7}{extra}")
    return lines


def format_summary(result, *, max_rows: int = 60) -> str:
    """Plain-text cohort summary of an :class:`AdapterResult`: warnings, flow, rejects per reason, splits, counts."""
    m = result.manifest
    lines = [f"dataset {result.dataset} at {result.root}"]
    lines += [f"WARNING: {w}" for w in result.warnings]
    lines += [""] + _flow_lines(result.flow)
    reasons = reject_reasons(result.rejects)
    lines += ["", f"rejected: {int(reasons['n'].sum()) if len(reasons) else 0} (per reason):"]
    lines += [f"  {r.n:>6}  [{r.stage}] {r.reason}" for r in reasons.head(max_rows).itertuples()] or ["  none"]
    if len(result.notes):
        notes = result.notes["note"].str.replace(r"'[^']*'", "…", regex=True).value_counts()
        lines += ["", f"notes: {len(result.notes)}"] + [f"  {n:>6}  {t}" for t, n in notes.head(10).items()]
    lines += _split_lines(getattr(result, "splits", {}))
    if len(m):
        lines += ["", "images per split × density × age band × lesion type:",
                  counts(m).head(max_rows).to_string(index=False)]
        for col in ("split", "label", "density", "age_band", "lesion_type", "view", "vendor"):
            if col in m:
                lines.append(f"  {col}: " + ", ".join(f"{k or 'unknown'}={v}" for k, v in m[col].value_counts().items()))
        miss = missingness(m)
        miss = miss[miss["missing"] > 0]
        lines += ["", "missing / unknown values:", miss.to_string() if len(miss) else "  none"]
    if len(result.rejects):
        lines += ["", f"first rejects (all {len(result.rejects)} in ingest_rejects.csv with `data prepare`):"]
        for r in result.rejects.head(min(max_rows, 20)).itertuples(index=False):
            lines.append(f"  [{r.stage}] {r.image_id or r.path}: {r.reason}")
    return "\n".join(lines)


def summary_record(result) -> dict:
    """The summary as JSON-ready data (``data inspect --json``)."""
    m = result.manifest
    return {"dataset": result.dataset, "root": str(result.root), "flow": result.flow, "warnings": result.warnings,
            "splits": getattr(result, "splits", {}), "labelled": getattr(result, "labelled", True),
            "reject_reasons": reject_reasons(result.rejects).to_dict("records"),
            "counts": counts(m).to_dict("records") if len(m) else [],
            "missingness": missingness(m).to_dict("index"), "rejects": result.rejects.to_dict("records"),
            "notes": result.notes.to_dict("records")}
