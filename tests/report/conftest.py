"""Report test fixtures: one real smoke run per session (the browser test loads its report)."""
from __future__ import annotations

import pytest

from tests.helpers.pipeline_run import run_cli_profile


@pytest.fixture(scope="session")
def smoke_report_run(tmp_path_factory):
    """A finished ``mammobench run --profile smoke`` folder (report rendered and signed)."""
    root = tmp_path_factory.mktemp("report-smoke")
    return run_cli_profile("smoke", root / "runs", root / "cache")
