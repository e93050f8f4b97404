"""Run the perf benchmarks, collect their figures with machine info, and print/write them.

:func:`run_perf` runs the selected benchmarks one after another (a failing one is recorded with its
error and the others still run), records the peak memory after each, and returns the perf result
(schema :data:`SCHEMA_VERSION`)::

    {"schema_version", "kind": "mammobench-perf", "created", "command", "scale", "machine": {...,
     "load_average"}, "load_average_end", "benchmarks": [{"name", "params", "status", "error",
     "seconds", "details", "memory"}], "figures": [{benchmark, figure, value, unit, baseline, ratio,
     higher_is_better}], "memory": {self_peak_rss_mb, children_peak_rss_mb, current_rss_mb},
     "condition": "idle" | "under load" (mammobench.perf.machine.load_condition)}

Example:
    >>> import tempfile
    >>> res = run_perf(["delong"], scale="tiny", workdir=tempfile.mkdtemp())
    >>> res["schema_version"], [f["figure"] for f in res["figures"]][:1]
    ('1.0', ['fast_s'])
"""
from __future__ import annotations

import os
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any, Callable

from mammobench.errors import ConfigError, SchemaError
from mammobench.perf.machine import load_average, load_condition, machine_info, peak_memory_mb
from mammobench.perf.suite import BENCHMARKS, CI_BENCHMARKS, figure

SCHEMA_VERSION = "1.0"
KIND = "mammobench-perf"


def select(names: list[str] | None = None, *, quick_only: bool = False) -> list[str]:
    """Benchmark names to run, in suite order.

    Raises:
        ConfigError: an unknown name (the message lists the valid ones).

    Example:
        >>> select(["delong", "bootstrap"])
        ['bootstrap', 'delong']
    """
    if names:
        unknown = sorted(set(names) - set(BENCHMARKS))
        if unknown:
            raise ConfigError(f"--only {','.join(unknown)}: unknown benchmark(s); valid: {', '.join(BENCHMARKS)}")
        return [n for n in BENCHMARKS if n in names]
    return [n for n, b in BENCHMARKS.items() if b.quick or not quick_only]


def _json_safe(obj: Any) -> Any:
    """Dict keys as strings (details may use group numbers as keys) so JSON can sort them."""
    if isinstance(obj, dict):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    return obj


def _run_one(name: str, params: dict, workdir: Path) -> tuple[dict, list[dict]]:
    bench = BENCHMARKS[name]
    t0 = time.perf_counter()
    try:
        details = bench.run(params, workdir)
        figs, status, error = bench.figures(details), "ok", None
    except Exception as err:  # noqa: BLE001 - one broken benchmark must not lose the others
        details, figs, status = {}, [], "error"
        error = f"{type(err).__name__}: {err}"
        details["traceback"] = traceback.format_exc(limit=6)
    record = {"name": name, "description": bench.description, "params": params, "status": status, "error": error,
              "seconds": round(time.perf_counter() - t0, 3), "details": _json_safe(details), "memory": peak_memory_mb()}
    return record, figs


def run_perf(names: list[str] | None = None, *, scale: str = "default", quick_only: bool = False,
             overrides: dict[str, dict] | None = None, workdir: str | os.PathLike | None = None,
             command: list[str] | None = None, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run benchmarks and return the perf result (see the module docstring).

    Args:
        names: benchmarks to run (``None``: all, or the quick ones with ``quick_only``). Named
            benchmarks use their ``selected`` scale unless ``scale`` is ``tiny`` or ``ci``.
        scale: ``default``, ``ci`` (the ratio check of ``make test``: only benchmarks with a ``ci`` size,
            :data:`~mammobench.perf.suite.CI_BENCHMARKS` when ``names`` is None) or ``tiny``.
        overrides: per-benchmark parameters replacing the scale's (e.g. ``{"e2e": {"run_dir": ...}}``).
        workdir: scratch folder (a temporary one when None, deleted afterwards).
        command: the command line, recorded in the result.
        progress: called with one line before each benchmark.
    """
    if scale not in ("default", "ci", "tiny"):
        raise ConfigError(f"scale={scale!r}: use 'default', 'ci' or 'tiny'")
    if scale == "ci":
        names = list(names or CI_BENCHMARKS)
        unsized = [n for n in names if n in BENCHMARKS and "ci" not in BENCHMARKS[n].scales]
        if unsized:
            raise ConfigError(f"benchmark(s) {', '.join(unsized)} have no 'ci' size; the ci scale runs "
                              f"{', '.join(CI_BENCHMARKS)}")
    chosen = select(names, quick_only=quick_only)
    use = "selected" if names and scale == "default" else scale
    result: dict[str, Any] = {"schema_version": SCHEMA_VERSION, "kind": KIND, "created": _now(),
                              "command": command, "scale": use, "machine": machine_info(), "benchmarks": [],
                              "figures": []}
    with tempfile.TemporaryDirectory(prefix="mammobench-perf-") as tmp:
        root = Path(workdir) if workdir else Path(tmp)
        for name in chosen:
            params = {**BENCHMARKS[name].params(use), **(overrides or {}).get(name, {})}
            if progress:
                progress(f"{name}: {BENCHMARKS[name].description} {params}")
            record, figs = _run_one(name, params, root)
            result["benchmarks"].append(record)
            result["figures"].extend(figs)
    memory = peak_memory_mb()
    result["figures"] += [figure("memory", k, v, "MiB", higher_is_better=False) for k, v in memory.items()]
    result["memory"], result["load_average_end"] = memory, load_average()
    result["condition"] = load_condition(result)
    return result


def _now() -> str:
    from mammobench.results import utc_now

    return utc_now()


def format_value(value: float | None) -> str:
    """A figure as printed: 3 significant digits, thousands separators, exponent for tiny/huge values.

    Example:
        >>> format_value(1234.5), format_value(0.000123), format_value(None)
        ('1,234.5', '1.23e-04', '—')
    """
    if value is None:
        return "—"
    if value == 0 or 0.01 <= abs(value) < 1e5:
        return f"{value:.3g}" if abs(value) < 10 else f"{value:,.1f}"
    return f"{value:.2e}"


def format_table(result: dict) -> str:
    """The printed table: benchmark, figure, value, unit, baseline, ratio (+ failed benchmarks).

    Example:
        >>> print(format_table({"figures": [], "benchmarks": [], "machine": {}}).splitlines()[0].split())
        ['benchmark', 'figure', 'value', 'unit', 'ratio', 'baseline']
    """
    rows = [("benchmark", "figure", "value", "unit", "ratio", "baseline")]
    rows += [(f["benchmark"], f["figure"], format_value(f["value"]), f["unit"],
              format_value(f["ratio"]) if f["ratio"] else "", f["baseline"] or "") for f in result["figures"]]
    widths = [max(len(str(r[i])) for r in rows) for i in range(5)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(r[:5], widths)) + "  " + r[5] for r in rows]
    lines.insert(1, "-" * (sum(widths) + 10 + 8))
    for b in result["benchmarks"]:
        if b["status"] != "ok":
            lines.append(f"FAILED {b['name']}: {b['error']}")
    m = result["machine"]
    if m:
        lines.append(f"machine: {m.get('cpu_count')} CPUs, torch threads {m.get('torch_threads')}, "
                     f"device {m.get('device')}, load average {m.get('load_average')} → "
                     f"{result.get('load_average_end')}, git {m.get('git_sha')}")
    return "\n".join(lines)


def validate_perf(data: Any, *, source: str = "perf JSON") -> dict:
    """Check a loaded perf result's schema; return it.

    Raises:
        SchemaError: not a perf result, an unsupported schema version, or malformed figures.
    """
    if not isinstance(data, dict) or data.get("kind") != KIND:
        raise SchemaError(f"{source}: not a mammobench perf result (kind != {KIND!r}); "
                          "write one with `mammobench perf --json FILE`")
    if str(data.get("schema_version", "")).split(".")[0] != SCHEMA_VERSION.split(".")[0]:
        raise SchemaError(f"{source}: schema_version {data.get('schema_version')!r} is not supported "
                          f"(this version reads {SCHEMA_VERSION})")
    figs = data.get("figures")
    keys = ("benchmark", "figure", "value", "unit")
    if not isinstance(figs, list) or not all(isinstance(f, dict) and all(k in f for k in keys) for f in figs):
        raise SchemaError(f"{source}: 'figures' must be a list of objects with {', '.join(keys)}")
    return data
