"""The frozen analysis plan: written and SHA-256-hashed before the test split is first read.

The pipeline calls :func:`write_analysis_plan` once, before any test prediction is looked at, and
records the returned hash in ``result.json`` (``analysis_plan.sha256``). A resumed run calls it
again with the same plan and gets the same hash; a *different* plan for an existing run is refused,
so the endpoint, subgroups, α and multiplicity scheme cannot be changed after the fact. The report
re-hashes the file with :func:`check_analysis_plan` and shows whether it still matches.

Example:
    >>> import tempfile
    >>> d = tempfile.mkdtemp()
    >>> plan = {"primary_metric": "auc", "control_arm": "real_only", "subgroups": ["density"],
    ...         "alpha": 0.05, "multiplicity": "holm"}
    >>> sha = write_analysis_plan(d, plan)
    >>> check_analysis_plan(d, sha)
    True
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from mammobench.errors import IntegrityError
from mammobench.io import atomic_write_text, read_json, sha256_file, to_json_text

if TYPE_CHECKING:  # importing mammobench.evaluation loads scipy.stats; the report only needs it to write a plan
    from mammobench.evaluation.plan import AnalysisPlan

PLAN_FILE = "analysis_plan.json"


def validate_plan(plan: Any, *, source: str = PLAN_FILE) -> dict:
    """The plan's JSON form after checking every key (:class:`~mammobench.evaluation.plan.AnalysisPlan`).

    Raises:
        ConfigError: naming the key, the value and what is allowed.
    """
    from mammobench.evaluation.plan import AnalysisPlan

    return AnalysisPlan.from_mapping(plan, source=source).to_dict()


def write_analysis_plan(run_dir: str | Path, plan: AnalysisPlan | dict) -> str:
    """Write ``analysis_plan.json`` (canonical JSON) and return its SHA-256.

    Idempotent for an identical plan, so resumed runs keep the hash.

    Raises:
        ConfigError: the plan is malformed.
        IntegrityError: the run already has a different plan (the plan is frozen).
    """
    path = Path(run_dir) / PLAN_FILE
    text = to_json_text(validate_plan(plan))
    if path.exists():
        if path.read_text(encoding="utf-8") != text:
            raise IntegrityError(f"{path}: this run already has a different frozen analysis plan; the plan "
                                 "cannot change once written — start a new run (--out) for a new plan")
        return sha256_file(path)
    atomic_write_text(path, text)
    return sha256_file(path)


def check_analysis_plan(run_dir: str | Path, expected_sha: str) -> bool:
    """True when ``analysis_plan.json`` exists and still hashes to ``expected_sha``."""
    path = Path(run_dir) / PLAN_FILE
    return bool(expected_sha) and path.is_file() and sha256_file(path) == expected_sha


def plan_status(run_dir: str | Path, result: dict) -> dict:
    """What the report shows: hash recorded, hash now, match, written before the test read."""
    recorded = result.get("analysis_plan", {}).get("sha256", "")
    path = Path(run_dir) / PLAN_FILE
    current = sha256_file(path) if path.is_file() else ""
    return {"recorded_sha256": recorded, "current_sha256": current,
            "unchanged": check_analysis_plan(run_dir, recorded),
            "written_before_test_read": bool(result.get("analysis_plan", {}).get("written_before_test_read")),
            "plan": read_json(path) if path.is_file() else {}}
