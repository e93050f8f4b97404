"""Progress and log lines (issue #21.5): a bar with rate and ETA on a terminal, one line per finished unit
otherwise, nothing but errors with --quiet; the CLI configures it once, library modules only log."""
from __future__ import annotations

import logging
import os
import re
import subprocess
import sys

import pytest

from mammobench.progress import configure, progress

LINE = re.compile(r"^\[\s*\d+\.\ds\] ")


@pytest.fixture(autouse=True)
def _reset_logging():
    yield
    logging.captureWarnings(False)  # undo configure(): the next test starts unconfigured
    for name in ("mammobench", "py.warnings"):
        logger = logging.getLogger(name)
        for handler in [h for h in logger.handlers if type(h).__name__ == "_StderrHandler"]:
            logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)
        logger.propagate = True


def _stderr_lines(capsys) -> list[str]:
    return [line for line in capsys.readouterr().err.splitlines() if line.strip()]


def test_not_a_terminal_one_line_per_finished_unit(capsys):
    configure(bars=False)
    with progress(4, "cells", unit="cell") as bar:
        for i in range(4):
            bar.update(line=f"cell c{i} done")
    lines = _stderr_lines(capsys)
    assert [LINE.sub("", x) for x in lines] == [f"cell c{i} done" for i in range(4)]
    assert all(LINE.match(x) for x in lines)  # every line says how long the command has run


def test_many_small_units_are_summarised_per_tenth_with_rate_and_eta(capsys):
    configure(bars=False)
    with progress(200, "cache", unit="image") as bar:
        for _ in range(50):
            bar.update(4)
    lines = [LINE.sub("", x) for x in _stderr_lines(capsys)]
    assert len(lines) == 10 and lines[-1].startswith("cache: 200/200 images (")
    assert all(re.fullmatch(r"cache: \d+/200 images \([\d.]+/s(, ETA \d+s)?\)", x) for x in lines), lines
    assert "ETA" in lines[0] and "ETA" not in lines[-1]


def test_a_terminal_gets_a_bar_with_rate_and_eta(capsys):
    configure(bars=True)
    logging.getLogger("mammobench.demo").info("a line above the bar")
    with progress(3, "generators", unit="arm") as bar:
        for i in range(3):
            bar.update(line=f"generator g{i} ready")
    err = capsys.readouterr().err
    assert "generators:" in err and "arm/s" in err and "<" in err  # tqdm: "[elapsed<remaining, rate]"
    assert "a line above the bar" in err and "generator g2 ready" in err


def test_quiet_prints_nothing_but_errors(capsys):
    import warnings

    configure(quiet=True)
    with progress(3, "cells", unit="cell") as bar:
        for i in range(3):
            bar.update(line=f"cell {i}")
    logging.getLogger("mammobench.pipeline").warning("a warning")
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        logging.captureWarnings(True)  # pytest's own catch_warnings replaced configure()'s capture
        warnings.warn("y_pred contains classes not in y_true", UserWarning)
    logging.getLogger("mammobench.pipeline").error("an error")
    lines = _stderr_lines(capsys)
    assert len(lines) == 1 and lines[0].endswith("an error")


def test_library_use_prints_nothing_until_configured(capsys):
    """Without the CLI's configure(), the library never prints (the caller owns logging)."""
    code = ("import logging\nfrom mammobench.progress import progress\n"
            "with progress(3, 'x') as bar:\n    [bar.update(line='l') for _ in range(3)]\n"
            "logging.getLogger('mammobench.x').info('info')\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stderr == "" and done.stdout == ""


def _cohort(tmp_path, *extra: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "mammobench.cli", "cohort", "make", "--n-patients", "12", "--size", "64",
           "--workers", "1", "--out", str(tmp_path / "cohort"), *extra]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=dict(os.environ, PYTHONHASHSEED="0"))


def test_cli_not_a_terminal_and_quiet(tmp_path):
    """A real command through the console entry: 12 patients → 12 progress lines; --quiet → an empty stderr."""
    done = _cohort(tmp_path)
    assert done.returncode == 0, done.stderr
    lines = [LINE.sub("", x) for x in done.stderr.splitlines()]
    assert [x.split(" patients")[0] for x in lines] == [f"cohort: {i}/12" for i in range(1, 13)], done.stderr
    assert "cohort ready at" in done.stdout
    quiet = _cohort(tmp_path / "q", "--quiet")
    assert quiet.returncode == 0 and quiet.stderr == "" and "cohort ready at" in quiet.stdout
    bad = _cohort(tmp_path / "b", "-q", "--size", "7")
    assert bad.returncode == 2 and bad.stderr.startswith("mammobench cohort: error:")  # errors still shown
