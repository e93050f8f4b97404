"""Perf records kept in the repository, and the ratio check that catches regressions.

A *record* is a ``mammobench perf --json`` result of the main branch saved under
:data:`RECORDS_DIR` (``benchmark/perf/records/<date>-<sha7>-<scale>.json``, shipped with the
package) by ``mammobench perf --save-record``. It carries the machine description (CPU model,
cores, load average at start and end), so each figure can be labelled *idle* or *under load*
(:func:`mammobench.perf.machine.load_condition`).

:func:`ratio_regressions` compares two results by their **ratios** (ours ÷ baseline speed, measured
in the same process, so they transfer between machines far better than absolute times) and lists
every figure whose ratio fell by more than ``max_drop`` (new < old ÷ max_drop). ``mammobench perf
--compare`` exits non-zero when that list is not empty.

Example:
    >>> old = {"figures": [{"benchmark": "b", "figure": "f", "value": 1.0, "unit": "s", "ratio": 100.0}]}
    >>> new = {"figures": [{"benchmark": "b", "figure": "f", "value": 9.0, "unit": "s", "ratio": 20.0}]}
    >>> [(r["benchmark"], round(r["drop"], 1)) for r in ratio_regressions(old, new, max_drop=2.0)]
    [('b', 5.0)]
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from mammobench.errors import ConfigError, SchemaError
from mammobench.perf.compare import load_perf
from mammobench.perf.machine import load_condition
from mammobench.perf.suite import CI_BENCHMARKS

__all__ = ["CI_BENCHMARKS", "CI_MAX_DROP", "DEFAULT_MAX_DROP", "RECORDS_DIR", "check_ratios", "list_records",
           "load_condition", "newest_record", "ratio_regressions", "record_name", "save_record"]

RECORDS_DIR = Path(__file__).resolve().parent / "records"
DEFAULT_MAX_DROP = 2.0
# The ratio check of `make test` (`mammobench perf --ci --compare`) fails on a fall of more than 5x: five
# consecutive --ci runs at load 2-3 on the 2-core machine spread by at most 2.4x in any ratio (cache
# 4,276-7,851, bootstrap 114-271, DeLong 9.9-23, detector 0.63-1.11), so 5x leaves a 2x margin, and the
# regressions it guards move a ratio by more than 10x (the counting bootstrap, the image cache or the fast
# DeLong replaced by their baselines take their ratio to about 1).
CI_MAX_DROP = 5.0


def record_name(result: dict) -> str:
    """``<YYYY-MM-DD>-<sha7>-<scale>.json`` for a perf result.

    Example:
        >>> record_name({"created": "2026-12-05T18:00:00Z", "machine": {"git_sha": "abcdef123456"}, "scale": "tiny"})
        '2026-12-05-abcdef1-tiny.json'
    """
    sha = str((result.get("machine") or {}).get("git_sha") or "nogit")
    dirty = "-dirty" if sha.endswith("-dirty") else ""
    return f"{str(result.get('created', ''))[:10] or 'undated'}-{sha[:7]}{dirty}-{result.get('scale', 'default')}.json"


def save_record(result: dict, directory: str | os.PathLike = RECORDS_DIR) -> Path:
    """Write ``result`` as a record into ``directory`` (atomic); return its path.

    Example:
        >>> import tempfile
        >>> res = {"created": "2026-12-05T18:00:00Z", "machine": {"git_sha": "ab12"}, "scale": "tiny"}
        >>> save_record(res, tempfile.mkdtemp()).name
        '2026-12-05-ab12-tiny.json'
    """
    from mammobench.io import atomic_write_json

    path = Path(directory) / record_name(result)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_json(path, result)
    return path


def list_records(directory: str | os.PathLike = RECORDS_DIR, *, scale: str | None = None) -> list[tuple[Path, dict]]:
    """Valid records in ``directory`` (optionally of one ``scale``), oldest first by ``created``.

    Raises:
        SchemaError: a file in the folder is not a perf result (the message names it).

    Example:
        >>> [p.name for p, _ in list_records(scale="tiny")][-1].endswith("-tiny.json")
        True
    """
    out = []
    for path in sorted(Path(directory).glob("*.json")):
        data = load_perf(path)
        if scale is None or data.get("scale") == scale:
            out.append((path, data))
    return sorted(out, key=lambda item: (str(item[1].get("created", "")), item[0].name))


def newest_record(scale: str, directory: str | os.PathLike = RECORDS_DIR) -> tuple[Path, dict]:
    """The newest record of ``scale`` (``default``, ``selected``, ``ci`` or ``tiny``).

    Raises:
        ConfigError: no record of that scale (the message says how to make one).

    Example:
        >>> newest_record("tiny")[1]["scale"]
        'tiny'
    """
    found = list_records(directory, scale=scale)
    if not found:
        how = {"tiny": " --tiny --only " + ",".join(CI_BENCHMARKS), "ci": " --ci", "selected": " --only NAMES"}
        raise ConfigError(f"no perf record of scale {scale!r} in {directory}; make one on main with "
                          f"`mammobench perf{how.get(scale, ' --quick-only')} --save-record`")
    return found[-1]


def ratio_regressions(old: dict, new: dict, *, max_drop: float = DEFAULT_MAX_DROP) -> list[dict[str, Any]]:
    """Figures whose ratio (ours ÷ baseline, higher is better) fell below ``old ÷ max_drop``.

    Only figures with a positive ratio in both results are compared; ``drop = old ratio ÷ new ratio``.

    Raises:
        ConfigError: ``max_drop`` not above 1.

    Example:
        >>> f = lambda r: {"figures": [{"benchmark": "b", "figure": "f", "ratio": r}]}
        >>> ratio_regressions(f(10.0), f(6.0)), len(ratio_regressions(f(10.0), f(4.0)))
        ([], 1)
    """
    if not max_drop > 1.0:
        raise ConfigError(f"--max-drop {max_drop}: must be > 1 (the factor a ratio may fall by)")
    before = {(f["benchmark"], f["figure"]): f.get("ratio") for f in old["figures"]}
    out = []
    for f in new["figures"]:
        was, now = before.get((f["benchmark"], f["figure"])), f.get("ratio")
        if not was or not now or was <= 0 or now <= 0:
            continue
        drop = was / now
        if drop > max_drop:
            out.append({"benchmark": f["benchmark"], "figure": f["figure"], "old_ratio": was, "new_ratio": now,
                        "drop": drop})
    return out


def check_ratios(old: dict, new: dict, *, max_drop: float = DEFAULT_MAX_DROP, label: str = "",
                 require: bool = True) -> tuple[bool, str]:
    """``(ok, text)``: the ratio lines of both results and a verdict naming each regression.

    Raises:
        SchemaError: with ``require``, the results share no figure with a ratio (nothing would be checked).

    Example:
        >>> f = lambda r: {"figures": [{"benchmark": "b", "figure": "f", "ratio": r}]}
        >>> ok, text = check_ratios(f(10.0), f(4.0), label="old.json")
        >>> ok, text.splitlines()[-1]
        (False, 'ratio check: 1 regression(s)')
    """
    old_r = {(f["benchmark"], f["figure"]): f.get("ratio") for f in old["figures"] if f.get("ratio")}
    shared = [f for f in new["figures"] if f.get("ratio") and (f["benchmark"], f["figure"]) in old_r]
    if not shared and not require:
        return True, "ratio check: no figure with a ratio in both results"
    if not shared:
        raise SchemaError(f"perf --compare {label}: no figure with a ratio in both results; "
                          "run the same benchmarks (and scale) as the record")
    lines = [f"ratio check against {label or 'the record'} (fails when a ratio falls by more than {max_drop:g}×):"]
    for f in shared:
        was = old_r[(f["benchmark"], f["figure"])]
        lines.append(f"  {f['benchmark']:<18} {f['figure']:<28} {was:10.3g} → {f['ratio']:<10.3g} ×{f['ratio'] / was:.2f}")
    bad = ratio_regressions(old, new, max_drop=max_drop)
    lines += [f"REGRESSION {r['benchmark']} / {r['figure']}: ratio {r['old_ratio']:.3g} → {r['new_ratio']:.3g} "
              f"(fell {r['drop']:.1f}×)" for r in bad]
    lines.append("ratio check: " + ("ok" if not bad else f"{len(bad)} regression(s)"))
    return not bad, "\n".join(lines)
