"""Compare two perf results figure by figure (``mammobench perf --compare OLD.json NEW.json``).

For each figure present in both files: old value, new value, ``new ÷ old`` and a verdict that
takes the figure's direction into account (a time going down is ``better``). Changes within
``tolerance`` (default 10 %) are ``same``: single runs on a shared machine are that noisy.
Differences in machine (CPU count, device, versions) are listed first, because they explain
changes that the code does not.

Example:
    >>> old = {"figures": [{"benchmark": "b", "figure": "f", "value": 10.0, "unit": "s", "higher_is_better": False}]}
    >>> new = {"figures": [{"benchmark": "b", "figure": "f", "value": 5.0, "unit": "s", "higher_is_better": False}]}
    >>> compare_results(old, new)["rows"][0]["verdict"]
    'better'
"""
from __future__ import annotations

import os
from typing import Any

from mammobench.perf.runner import validate_perf

_MACHINE_KEYS = ("cpu_count", "usable_cpus", "device", "cuda_device", "torch_threads", "git_sha")


def load_perf(path: str | os.PathLike) -> dict:
    """Read and validate a perf JSON file.

    Raises:
        SchemaError: unreadable, not JSON, or not a perf result (the message names the file).
    """
    from mammobench.io import read_json

    return validate_perf(read_json(path), source=str(path))


def _verdict(ratio: float, higher_is_better: bool, tolerance: float) -> str:
    if abs(ratio - 1.0) <= tolerance:
        return "same"
    return "better" if (ratio > 1.0) == higher_is_better else "worse"


def compare_results(old: dict, new: dict, *, tolerance: float = 0.10) -> dict[str, Any]:
    """Per-figure ratios new ÷ old, figures only in one file, and machine differences."""
    index = {(f["benchmark"], f["figure"]): f for f in old["figures"]}
    rows, only_new = [], []
    for f in new["figures"]:
        key = (f["benchmark"], f["figure"])
        if key not in index:
            only_new.append(key)
            continue
        o = index.pop(key)
        ratio = f["value"] / o["value"] if o["value"] else float("nan")
        hib = bool(f.get("higher_is_better", True))
        rows.append({"benchmark": key[0], "figure": key[1], "unit": f["unit"], "old": o["value"], "new": f["value"],
                     "ratio": ratio, "verdict": _verdict(ratio, hib, tolerance) if ratio == ratio else "n/a"})
    om, nm = old.get("machine") or {}, new.get("machine") or {}
    machine = {k: (om.get(k), nm.get(k)) for k in _MACHINE_KEYS if om.get(k) != nm.get(k)}
    versions = {k: (v, (nm.get("versions") or {}).get(k)) for k, v in (om.get("versions") or {}).items()
                if v != (nm.get("versions") or {}).get(k)}
    return {"rows": rows, "only_old": sorted(index), "only_new": only_new, "machine_differences": machine,
            "version_differences": versions,
            "load_average": (om.get("load_average"), nm.get("load_average"))}


def format_comparison(cmp: dict) -> str:
    """The printed comparison table."""
    rows = [("benchmark", "figure", "old", "new", "unit", "new/old", "verdict")]
    rows += [(r["benchmark"], r["figure"], f"{r['old']:.4g}", f"{r['new']:.4g}", r["unit"], f"{r['ratio']:.3f}",
              r["verdict"]) for r in cmp["rows"]]
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for key, (a, b) in {**cmp["machine_differences"], **cmp["version_differences"]}.items():
        lines.append(f"note: {key} differs: {a} → {b}")
    lines.append(f"note: load average {cmp['load_average'][0]} → {cmp['load_average'][1]}")
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)) for r in rows]
    lines += [f"only in old: {b} / {f}" for b, f in cmp["only_old"]]
    lines += [f"only in new: {b} / {f}" for b, f in cmp["only_new"]]
    return "\n".join(lines)
