"""Every docstring example of the library runs in the default suite (the library's doctests).

Modules are imported by their installed names (``mammobench.…``): pytest's ``--doctest-modules`` would import
``benchmark/x.py`` a second time as a top-level ``benchmark.x``, next to ``mammobench.x``. Heavy examples (a
trained encoder, a finished run) are marked ``# doctest: +SKIP`` where they stand.
"""
from __future__ import annotations

import doctest
import importlib
import io
import os

import pytest

from tests.helpers.modules import MODULES

OPTIONS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _examples(module_name: str) -> list[doctest.DocTest]:
    module = importlib.import_module(module_name)
    return [t for t in doctest.DocTestFinder(exclude_empty=True).find(module, module_name) if t.examples]


@pytest.mark.parametrize("module_name", sorted(MODULES))
def test_docstring_examples(module_name, tmp_path, monkeypatch):
    tests = _examples(module_name)
    if not tests:
        pytest.skip("no examples")
    monkeypatch.chdir(tmp_path)  # examples that write files write them here
    monkeypatch.setenv("MAMMOBENCH_CACHE", os.fspath(tmp_path / "cache"))
    out = io.StringIO()
    runner = doctest.DocTestRunner(optionflags=OPTIONS)
    for test in tests:
        runner.run(test, out=out.write)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, out.getvalue()
