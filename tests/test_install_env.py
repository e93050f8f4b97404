"""tools/install_env.py: the side-by-side install splits the resolved wheels and falls back to a plain install.

The install itself is exercised by every fresh clone's ``make test`` / ``make run`` (CI creates ``.venv``
with it); these tests check its logic without running pip.
"""
from __future__ import annotations

import doctest
import importlib.util
import json
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def install_env():
    spec = importlib.util.spec_from_file_location("install_env", ROOT / "tools" / "install_env.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_docstring_example(install_env):
    assert doctest.testmod(install_env).failed == 0


def test_every_wheel_goes_to_exactly_one_process(install_env):
    wheels = [("torch", "a"), ("torchvision", "b"), ("nvidia-cudnn-cu13", "c"), ("triton", "d"), ("ray", "e"),
              ("numpy", "f"), ("pandas", "g"), ("Pygments", "h"), ("cuda-bindings", "i")]
    heavy, rest = install_env.split_wheels(wheels)
    assert heavy == ["a", "b", "c", "d", "i"] and rest == ["e", "f", "g", "h"]
    assert sorted(heavy + rest) == sorted(u for _, u in wheels)


class _Pip:
    """Records pip command lines; the dry run writes a report; ``fail`` makes matching calls fail."""

    def __init__(self, fail: str = "", wheels=(("torch", "file:///w/torch.whl"), ("numpy", "file:///w/numpy.whl"))):
        self.calls, self.fail, self.wheels = [], fail, wheels

    def _ok(self, args, suffix: str = "") -> int:
        self.calls.append(" ".join(map(str, args)) + suffix)
        return 1 if self.fail and self.fail in self.calls[-1] else 0

    def run(self, args, check=False, **kw):
        code = self._ok(args)
        if "--report" in args:
            items = [("mammobench", "file:///src"), *self.wheels]
            Path(args[args.index("--report") + 1]).write_text(json.dumps({"install": [
                {"metadata": {"name": name}, "download_info": {"url": url}} for name, url in items]}))
        if check and code:
            raise subprocess.CalledProcessError(code, args)
        return subprocess.CompletedProcess(args, code, stdout="", stderr="")

    def popen(self, args, **kw):
        code = self._ok(args, " <" + ",".join(Path(args[-1]).read_text().split()))
        return type("P", (), {"args": args, "wait": lambda self: code})()


def test_installs_both_halves_then_the_project_then_checks(install_env, monkeypatch):
    pip = _Pip()
    monkeypatch.setattr(install_env.subprocess, "run", pip.run)
    monkeypatch.setattr(install_env.subprocess, "Popen", pip.popen)
    assert install_env.main(["dev"]) == 0
    dry, first, second, project, check = pip.calls
    assert "--dry-run" in dry and "-e .[dev]" in dry
    assert first.endswith("<file:///w/torch.whl") and second.endswith("<file:///w/numpy.whl")
    assert "--no-deps" in first and "--no-deps" in second
    assert project.endswith("--no-deps --no-build-isolation -e .") and check.endswith("pip check")


@pytest.mark.parametrize("fail", ["--dry-run", "numpy.whl", "--no-build-isolation -e .", "pip check"])
def test_any_failure_falls_back_to_the_plain_install(install_env, monkeypatch, capsys, fail):
    pip = _Pip(fail=fail)
    monkeypatch.setattr(install_env.subprocess, "run", pip.run)
    monkeypatch.setattr(install_env.subprocess, "Popen", pip.popen)
    assert install_env.main([]) == 0
    assert pip.calls[-1].endswith("install -q -e .[dev]")  # the plain way, with dependencies
    assert "installing the plain way" in capsys.readouterr().err


def test_an_up_to_date_environment_installs_only_the_project(install_env, monkeypatch):
    """pip's report lists what is missing or outdated: nothing here, so no wheel is reinstalled."""
    pip = _Pip(wheels=())
    monkeypatch.setattr(install_env.subprocess, "run", pip.run)
    monkeypatch.setattr(install_env.subprocess, "Popen", pip.popen)
    assert install_env.main(["dev"]) == 0
    dry, project, check = pip.calls
    assert "--ignore-installed" not in dry and project.endswith("-e .") and check.endswith("pip check")
