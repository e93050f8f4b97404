"""Report test fixtures: the session's real smoke run (the browser test loads its report)."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def smoke_report_run(smoke_run):
    """A finished ``mammobench run --profile smoke`` folder (report rendered and signed): the session's one."""
    return smoke_run[0]
