"""Report test fixtures: the session's real smoke run (the browser test loads its report), and figures drawn once
per fake run for the tests that re-render an edited copy to check its text and layout."""
from __future__ import annotations

import pytest

from mammobench.report import render as render_module

_FIGURES: dict[str, dict] = {}


@pytest.fixture(scope="session")
def smoke_report_run(smoke_run):
    """A finished ``mammobench run --profile smoke`` folder (report rendered and signed): the session's one."""
    return smoke_run[0]


@pytest.fixture
def figures_drawn_once(monkeypatch):
    """``render_report`` with the figures of the first render of a run folder of the same name in this process.

    For tests that edit a copy of a fake run's ``result.json`` (comparisons, flags, sections, answers) and check
    the report's text and layout, not its pixels: the figures are the real ones of that run, drawn by the first
    such render (about two thirds of a render's time), not redrawn for every edited copy.
    """
    def build(data):
        key = data.run_dir.name
        if key not in _FIGURES:
            _FIGURES[key] = real_build(data)
        return {name: dict(fig) for name, fig in _FIGURES[key].items()}

    real_build = render_module.build_figures
    monkeypatch.setattr(render_module, "build_figures", build)
    return _FIGURES
