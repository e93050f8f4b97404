"""The wheel is complete: built once, installed without its dependencies into a fresh venv, it runs the
everyday commands from an EMPTY working folder with the source tree off ``sys.path``.

The fresh venv gets its dependencies (torch, pandas, …) from this interpreter's site-packages through a
``.pth`` file, so nothing is downloaded and nothing of the checkout can leak in: the editable install's
finder lives in a ``.pth`` that is not processed there, and the source folders are never on the path.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
import yaml

from mammobench.results import load_result

REPO = Path(__file__).resolve().parents[1]
SOURCES = ("pyproject.toml", "README.md", "benchmark", "baselines", "tasks", "reports")
PACKAGE_DATA = ("mammobench/tasks/vc_lesion/task.yaml", "mammobench/tasks/suites.yaml",
                "mammobench/tasks/_template/task.yaml", "mammobench/reports/templates/report.html.j2",
                "mammobench/reports/checklists/claim_2024.yaml", "mammobench/reader/static/index.html",
                "mammobench/baselines/classic/card.yaml", "mammobench/baselines/planted/cards.yaml")
#: the wheel's smoke run: every arm, one seed, a cohort of 64-px DICOM images (made from the wheel, cold cache, in
#: the cohort maker's spawned pool workers, which import the package from the wheel); cells in-process (a pool of
#: cell workers would import the same package again: about 8 CPU-s of `make test`)
SMALL_RUN = ("--set", "seeds=[0]", "--set", "cohort_size=64", "--executor", "local")


def _check(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=900, **kwargs)
    assert done.returncode == 0, f"{' '.join(map(str, cmd))} failed ({done.returncode}):\n{done.stdout[-3000:]}\n" \
                                 f"{done.stderr[-4000:]}"
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """Build the wheel from a copy of the sources (the checkout gets no build/ or egg-info)."""
    import setuptools

    major = int(setuptools.__version__.split(".")[0])
    assert major >= 77, (f"building without isolation uses this interpreter's setuptools {setuptools.__version__}; "
                         "pyproject.toml's build-system needs setuptools>=77 (SPDX license): "
                         "pip install 'setuptools>=77'")
    src = tmp_path_factory.mktemp("src")
    for name in SOURCES:
        copy = shutil.copytree if (REPO / name).is_dir() else shutil.copy2
        kwargs = {"ignore": shutil.ignore_patterns("__pycache__", "*.pyc")} if (REPO / name).is_dir() else {}
        copy(REPO / name, src / name, **kwargs)
    out = tmp_path_factory.mktemp("dist")
    _check([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out),
            str(src)])
    (found,) = out.glob("mammobench-*.whl")
    return found


def _dependency_dirs() -> list[str]:
    """This interpreter's site-packages folders (where torch & co. live), never a source folder.

    ``make test`` keeps its venv inside the checkout (``.venv/``), so a site-packages folder may sit below the
    repository; only site-packages folders are taken, and the editable install's finder there is a ``.pth``
    that a ``.pth``-added folder does not process, so the source tree stays off the path.
    """
    dirs = []
    for entry in sys.path:
        path = Path(entry or ".").resolve()
        if path.name in ("site-packages", "dist-packages") and path.is_dir():
            dirs.append(str(path))
    return list(dict.fromkeys(dirs))


@pytest.fixture(scope="module")
def venv(tmp_path_factory, wheel) -> Path:
    """A fresh venv holding only the wheel; dependencies through a .pth."""
    root = tmp_path_factory.mktemp("venv")
    _check([sys.executable, "-m", "venv", "--without-pip", str(root)])
    python = root / "bin" / "python"
    site = Path(_check([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    (site / "_mammobench_test_deps.pth").write_text("\n".join(_dependency_dirs()) + "\n")
    _check([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", "-q",
            str(wheel)])
    return root


@pytest.fixture(scope="module")
def clean_env(tmp_path_factory, venv) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "MAMMOBENCH_", "VIRTUAL_ENV"))}
    env.update(PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}", PYTHONHASHSEED="0", PYTHONNOUSERSITE="1",
               MAMMOBENCH_CACHE=str(tmp_path_factory.mktemp("cache")),
               MAMMOBENCH_SIGNING_KEY=str(tmp_path_factory.mktemp("key") / "signing.pem"))
    return env


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("empty")


def test_wheel_holds_the_package_data_and_no_top_level_benchmark(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert set(PACKAGE_DATA) <= set(names)
    assert sum(n.startswith("mammobench/tasks/") and n.endswith("/task.yaml") for n in names) >= 8
    assert not [n for n in names if n.split("/")[0] in ("benchmark", "baselines", "tasks", "reports")]
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    assert "License-Expression: Apache-2.0" in zipfile.ZipFile(wheel).read(metadata).decode()


def test_installed_package_is_imported_from_the_venv_not_the_checkout(venv, clean_env, workdir):
    code = ("import mammobench, mammobench.tasks, sys; "
            "print(mammobench.__file__); print(mammobench.tasks.__file__); print(mammobench.__version__); "
            "print('benchmark' in sys.modules or any('benchmark' == p.rsplit('/', 1)[-1] for p in sys.path))")
    lines = _check([str(venv / "bin" / "python"), "-c", code], cwd=workdir, env=clean_env).stdout.split()
    assert all(Path(p).is_relative_to(venv) for p in lines[:2]), lines
    assert lines[3] == "False"


def _cli(venv: Path) -> str:
    return str(venv / "bin" / "mammobench")  # the wheel's console script


def test_ls_tasks_finds_the_packaged_tasks(venv, clean_env, workdir):
    out = _check([_cli(venv), "ls", "tasks"], cwd=workdir, env=clean_env).stdout
    assert "vc_lesion" in out and str(venv) in out and str(REPO) not in out


def test_check_generator_none_passes(venv, clean_env, workdir):
    out = _check([_cli(venv), "check-generator", "none"], cwd=workdir, env=clean_env).stdout
    assert "0 failed" in out


def test_smoke_run_and_report_from_the_wheel(venv, clean_env, workdir):
    """Every stage from the wheel on a cold cache (cohort in spawned pool workers, image cache, fits, audits, cells,
    report); one seed per arm and 64-px simulated images are enough for that (the numbers are the pipeline tests')."""
    _check([_cli(venv), "run", "--profile", "smoke", *SMALL_RUN], cwd=workdir, env=clean_env)
    run_dir = workdir / "runs" / "vc_lesion-smoke"
    result = load_result(run_dir / "result.json")
    assert {a["arm"] for a in result["arms"]} == {"none", "classic", "physics"}
    assert result["benchmark"]["git_sha"] == ""  # a wheel is not a checkout
    # the run rendered its report from the wheel (`mammobench report` re-renders with the same code and files)
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    assert "vc_lesion" in html and "CLAIM" in html  # template and checklists came from the wheel


def test_a_users_own_task_folder_runs_with_a_plug_in_generator(clean_env, workdir, venv):
    """A task outside the package, named by path and found through MAMMOBENCH_TASKS_PATH, run with a
    third-party generator found by its entry point (tests/helpers/generator_plugin.py) as an extra arm."""
    from tests.helpers.generator_plugin import write_plugin_package

    site = Path(sysconfig.get_paths(vars={"base": str(venv), "platbase": str(venv)})["purelib"])
    task = yaml.safe_load((site / "mammobench" / "tasks" / "vc_lesion" / "task.yaml").read_text(encoding="utf-8"))
    task.update(task="my_lesion", seeds=[0])
    task["augmentation"]["arms"] = ["none"]
    task["profiles"]["smoke"] = {}  # vc_lesion's smoke override names its three fast arms
    folder = workdir / "my_tasks" / "my_lesion"
    folder.mkdir(parents=True)
    (folder / "task.yaml").write_text(yaml.safe_dump(task, sort_keys=False), encoding="utf-8")
    env = dict(clean_env, MAMMOBENCH_TASKS_PATH=str(workdir / "my_tasks"))
    assert "my_lesion" in _check([_cli(venv), "ls", "tasks"], cwd=workdir, env=env).stdout
    plugin = write_plugin_package(workdir.parent / "plugin")  # installed nowhere: on PYTHONPATH only
    # in-process cells: the task's own folder and the plug-in's discovery are the point
    _check([_cli(venv), "run", "my_tasks/my_lesion/task.yaml", "--profile", "smoke", "--set", "cohort_size=64",
            "--generator", plugin, "--executor", "local"], cwd=workdir,
           env=dict(clean_env, PYTHONPATH=str(workdir.parent / "plugin")))  # the cohort of the smoke run above
    result = load_result(workdir / "runs" / f"my_lesion-smoke-{plugin}" / "result.json")
    assert result["task"]["name"] == "my_lesion" and {a["arm"] for a in result["arms"]} == {"none", plugin}
    assert any(c["arm"] == plugin for c in result["comparisons"])
