"""The curated public API: the documented names import, ``__all__`` is honest everywhere, and importing the
package stays light (no torch until a heavy name is used)."""
from __future__ import annotations

import importlib
import inspect
import subprocess
import sys
from importlib import metadata

import pytest

from tests.helpers.modules import MODULES


def test_top_level_api_names():
    from mammobench import (Generator, SyntheticBatch, TrainView, __version__, check_generator, get_generator,
                            load_result, run)

    assert inspect.isfunction(run) and run.__module__ == "mammobench.pipeline.runner"
    assert all(inspect.isclass(c) for c in (Generator, SyntheticBatch, TrainView))
    assert callable(check_generator) and callable(get_generator) and callable(load_result)
    assert __version__ == metadata.version("mammobench")
    assert isinstance(get_generator("none"), Generator)


def test_stats_api_names():
    from mammobench.stats import (PatientBootstrap, adjust_p_values, clustered_auc_ci, delong_ci, or_hillis,
                                  paired_delong_test)

    assert inspect.isclass(PatientBootstrap)
    assert all(inspect.isfunction(f) for f in (adjust_p_values, clustered_auc_ci, delong_ci, or_hillis,
                                                 paired_delong_test))
    assert adjust_p_values([0.01, 0.04], method="holm").tolist() == [0.02, 0.04]


def test_pipeline_run_is_the_function_even_after_its_module_is_imported():
    importlib.import_module("mammobench.pipeline.runner")
    from mammobench.pipeline import run

    assert inspect.isfunction(run) and run is importlib.import_module("mammobench.pipeline.runner").run


PACKAGES_WITH_INIT = sorted(m for m, path in MODULES.items() if path.name == "__init__.py")


@pytest.mark.parametrize("package", PACKAGES_WITH_INIT)
def test_every_package_states_its_public_names(package):
    module = importlib.import_module(package)
    assert isinstance(getattr(module, "__all__", None), list), f"{package} has no __all__ list"


@pytest.mark.parametrize("module_name", sorted(MODULES))
def test_every_all_name_resolves_and_is_public(module_name):
    module = importlib.import_module(module_name)
    names = getattr(module, "__all__", [])
    assert len(names) == len(set(names)), f"{module_name}.__all__ repeats a name"
    private = [n for n in names if n.startswith("_") and n != "__version__"]
    assert private == [], f"{module_name}.__all__ lists private names"
    missing = [n for n in names if not hasattr(module, n)]
    assert missing == [], f"{module_name}.__all__ names what it does not define"
    assert set(names) <= set(dir(module))


def test_importing_the_package_and_its_api_modules_does_not_import_torch():
    code = ("import sys, mammobench, mammobench.stats, mammobench.pipeline, mammobench.audits, mammobench.data; "
            "mammobench.__all__; print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_docs_api_page_lists_the_public_names():
    """docs/api.md names every public name of mammobench and mammobench.stats, and its subpackage table is each
    package's ``__all__`` exactly."""
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs" / "api.md").read_text(encoding="utf-8")
    for package in ("mammobench", "mammobench.stats"):
        module = importlib.import_module(package)
        missing = [n for n in module.__all__ if f"`{n}" not in text]
        assert missing == [], f"docs/api.md does not mention {package}: {missing}"
    rows = re.findall(r"^\| `(mammobench[\w.]*)` \| (.+) \|$", text, flags=re.M)
    assert len(rows) >= 15
    for package, names in rows:
        documented = set(re.findall(r"`(\w+)`", names))
        assert documented == set(importlib.import_module(package).__all__), package
