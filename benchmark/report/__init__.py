"""Reports and provenance: render a run's report from its files, sign it, verify it (Contract 6).

Example:
    >>> from mammobench.report import load_checklists
    >>> len(load_checklists()) >= 1
    True
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from mammobench._lazy import lazy_exports

_EXPORTS = {
    "render_report": "mammobench.report.render",
    "load_checklists": "mammobench.report.checklists",
    "sign_run": "mammobench.report.provenance",
    "verify_run": "mammobench.report.provenance",
    "write_analysis_plan": "mammobench.report.plan",
}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from mammobench.report.checklists import load_checklists
    from mammobench.report.plan import write_analysis_plan
    from mammobench.report.provenance import sign_run, verify_run
    from mammobench.report.render import render_report
