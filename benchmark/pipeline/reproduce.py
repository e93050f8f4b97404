"""``reproduce()``: re-run a finished run (or a leaderboard bundle) on this machine and compare every number.

The source is checked first: its signed manifest must verify (integrity, signature and a trusted
key) and its code version (package version and git commit) must be this checkout's; otherwise the
re-run is refused unless ``force``. The re-run uses the recorded task, profile, seeds and generators
(the recorded generator cards name them), into a separate folder; its inputs (task config hash,
analysis-plan hash, cohort manifest hash, seeds, arms) must equal the original's. Then every number
is compared within a tolerance from the run's seed-to-seed variance and every verdict must be the
same (:mod:`mammobench.pipeline.reproduce_compare`).

Example:
    >>> outcome = reproduce("runs/vc_lesion-smoke", out="runs/reproduced")  # doctest: +SKIP
    >>> outcome.ok  # doctest: +SKIP
    True
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from mammobench.errors import ConfigError, IntegrityError
from mammobench.io import atomic_write_json, atomic_write_text, read_json
from mammobench.pipeline.reproduce_compare import compare_records, compare_verdicts, per_seed_spread
from mammobench.results import load_result

INPUTS = (("task config", ("task", "config_sha256")), ("analysis plan", ("analysis_plan", "sha256")),
          ("cohort manifest", ("cohort", "manifest_sha256")), ("seeds", ("seeds",)), ("profile", ("profile",)))


@dataclass
class Source:
    """What is reproduced: the result, its frozen plan, its predictions (run folders only) and its checks."""

    path: Path
    kind: str  # "run" | "bundle"
    result: dict
    plan: dict
    predictions: pd.DataFrame | None
    problems: list[str] = field(default_factory=list)


@dataclass
class Outcome:
    """Rows of numbers and verdicts, differing inputs, and where the tolerances came from."""

    source: Source
    run_dir: Path
    rows: list[dict]
    verdicts: list[dict]
    input_differences: list[str]
    spread_from: str
    n_seeds: int

    @property
    def ok(self) -> bool:
        return (not self.input_differences and all(r["within"] for r in self.rows)
                and all(v["same"] for v in self.verdicts))


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _trust():
    from mammobench.leaderboard.display import PROJECT_LEADERBOARD
    from mammobench.report.trust import user_trust

    display = PROJECT_LEADERBOARD / "display.yaml"
    return user_trust(project_display=display if display.is_file() else None)


def load_source(path: str | os.PathLike) -> Source:
    """Read a run folder or a bundle and list what stops it from being reproduced as it is."""
    path = Path(path)
    if (path / "bundle.json").exists():
        from mammobench.leaderboard.verify import verify_bundle

        check = verify_bundle(path, _trust())
        result = load_result(path / "result.json")
        plan = (read_json(path / "report.json").get("plan") or {}).get("plan") or {}
        source = Source(path, "bundle", result, plan, None, [] if check.ok else [f"bundle: {check.reason}"])
    elif (path / "result.json").is_file():
        from mammobench.report.provenance import verify_run

        check = verify_run(path, _trust())
        result = load_result(path / "result.json")
        predictions = pd.read_csv(path / "predictions.csv") if (path / "predictions.csv").is_file() else None
        problems = [] if check.ok else [f"signed manifest: {'; '.join(check.lines()) or check.reason}"]
        source = Source(path, "run", result, read_json(path / "analysis_plan.json"), predictions, problems)
    else:
        raise ConfigError(f"{path}: neither a run folder (result.json) nor a leaderboard bundle (bundle.json)")
    source.problems += _code_problems(result)
    return source


def _code_problems(result: dict) -> list[str]:
    from mammobench.environment import code_version

    recorded = result.get("benchmark") or {}
    here = code_version()  # what `run` records in result.json["benchmark"]
    return [f"code version differs: the run has {name} {recorded.get(name) or '(unknown)'}, this checkout "
            f"{here[name] or '(unknown)'}" for name in ("version", "git_sha") if recorded.get(name) != here[name]
            or (name == "git_sha" and str(here[name]).endswith("-dirty"))]


def _extra_generators(result: dict, task) -> list[str]:
    from mammobench.pipeline.profiles import resolve_settings

    arms = resolve_settings(task, result["profile"]).arms
    return sorted({a["generator"] for a in result["arms"] if a["generator"] not in arms and a["generator"] != "none"})


def _input_differences(original: dict, reproduced: dict) -> list[str]:
    out = []
    for label, keys in INPUTS:
        a, b = original, reproduced
        for key in keys:
            a, b = (a or {}).get(key), (b or {}).get(key)
        if a != b:
            out.append(f"{label}: original {a!r}, reproduced {b!r}")
    arms = lambda r: sorted((a["arm"], a["generator"], a["ratio"], a["n_real"], a["n_synthetic"],  # noqa: E731
                             (a.get("generator_card") or {}).get("version")) for a in r["arms"])
    if arms(original) != arms(reproduced):
        out.append(f"arms: original {arms(original)}, reproduced {arms(reproduced)}")
    return out


def _calls(result: dict, plan: dict) -> dict[str, str]:
    from mammobench.report.summary import verdict
    from mammobench.report.evidence import RunData

    data = RunData(run_dir=Path("."), result=result, predictions=pd.DataFrame(), plan={"plan": plan})
    return {row["arm"]: row["call"] for row in verdict(data)["arms"]}


def reproduce(path: str | os.PathLike, *, out: str | os.PathLike = "runs/reproduced", force: bool = False,
              k: float = 3.0, threads: int | None = None, executor: str = "auto", workers: int | None = None,
              log=_stderr) -> Outcome:
    """Re-run ``path`` (run folder or bundle) into ``out`` and compare (see the module docstring).

    Raises:
        IntegrityError: the source does not verify or its code version differs, and ``force`` is False.
        ConfigError: ``out`` would overwrite the original run.
    """
    from mammobench.pipeline.runner import run_task
    from mammobench.pipeline.spec import Execution, default_run_id, plan_run
    from mammobench.pipeline.suites import find_task

    source = load_source(path)
    if source.problems and not force:
        raise IntegrityError(f"{path}: not reproduced: " + "; ".join(source.problems) + " (--force to go on)")
    for problem in source.problems:
        log(f"warning (--force): {problem}")
    task = find_task(source.result["task"]["name"])
    extra = _extra_generators(source.result, task)
    run_dir = Path(out) / default_run_id(task, source.result["profile"], extra)
    if source.kind == "run" and run_dir.resolve() == source.path.resolve():
        raise ConfigError(f"--out {out}: the re-run would overwrite the original run {source.path}; choose another")
    execution = Execution(executor=executor, workers=workers, threads=threads or 1)
    run_task(plan_run(task, source.result["profile"], out=out, generators=extra, execution=execution))
    reproduced = load_result(run_dir / "result.json")
    predictions = source.predictions if source.predictions is not None else pd.read_csv(run_dir / "predictions.csv")
    spread, n_seeds = per_seed_spread(predictions, source.plan)
    outcome = Outcome(source, run_dir, compare_records(source.result, reproduced, spread=spread, n_seeds=n_seeds, k=k),
                      compare_verdicts(source.result, reproduced, (_calls(source.result, source.plan),
                                                                   _calls(reproduced, source.plan))),
                      _input_differences(source.result, reproduced),
                      "original" if source.predictions is not None else "reproduced", n_seeds)
    write_outcome(outcome, k)
    return outcome


def write_outcome(outcome: Outcome, k: float) -> Path:
    """``<run_dir>.reproduce.json`` (every row and verdict) and ``.csv`` (the number table), next to the re-run."""
    stem = outcome.run_dir.parent / f"{outcome.run_dir.name}.reproduce"
    atomic_write_text(Path(f"{stem}.csv"), pd.DataFrame(outcome.rows).to_csv(index=False))
    atomic_write_json(Path(f"{stem}.json"), {
        "source": str(outcome.source.path), "source_kind": outcome.source.kind, "reproduced": str(outcome.run_dir),
        "ok": outcome.ok, "k": k, "n_seeds": outcome.n_seeds, "spread_from": outcome.spread_from,
        "problems_forced": outcome.source.problems, "input_differences": outcome.input_differences,
        "n_numbers": len(outcome.rows), "n_outside": sum(not r["within"] for r in outcome.rows),
        "verdicts_differ": [v for v in outcome.verdicts if not v["same"]], "rows": outcome.rows})
    return Path(f"{stem}.json")

