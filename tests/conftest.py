"""Shared pytest configuration: offline, seeded, CPU; hypothesis profiles for CI and long fuzz runs."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("MAMMOBENCH_OFFLINE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
# Under pytest-xdist (`make test`: one worker per core) each worker computes with one BLAS/torch thread, so
# workers do not oversubscribe the cores; the perturbation pass then runs with two (see the Makefile).
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.setdefault("MAMMOBENCH_TEST_TORCH_THREADS", "1")
    for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(_var, "1")
os.environ.setdefault("OMP_NUM_THREADS", "2")

try:
    from hypothesis import HealthCheck, settings

    settings.register_profile("ci", max_examples=60, deadline=None,
                              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    settings.register_profile("fuzz", max_examples=3000, deadline=None,
                              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
except ImportError:  # pragma: no cover
    pass

# Perturbation pass (issue #17 point 2): `make test-perturbed` re-runs the tests whose outcome rests on
# statistics with two BLAS/torch threads (the default pass: one per xdist worker) and a second data seed
# (tests/helpers/seeds.py). They are selected by the `perturbed` marker, given here by path; tests against published reference values
# (fixed inputs, nothing to perturb) are left out.
PERTURBED_PATHS = ("tests/stats/", "tests/audits/", "tests/conformance/", "tests/selftest/")
# tests/selftest/test_e2e.py is plumbing (CLI, report section, signature, resume) around the audit trials
# whose decisions tests/selftest/test_planted.py checks in both passes; it runs once, in the default pass.
PERTURBED_EXCLUDED = ("tests/stats/test_or_hillis_listings.py", "tests/stats/test_wafroc_rjafroc.py",
                      "tests/audits/test_bias_reference.py", "tests/selftest/test_e2e.py")

_threads = os.environ.get("MAMMOBENCH_TEST_TORCH_THREADS")
if _threads:
    if not _threads.isdigit() or int(_threads) < 1:
        raise ValueError(f"MAMMOBENCH_TEST_TORCH_THREADS must be a positive integer, got {_threads!r}")
    import torch

    torch.set_num_threads(int(_threads))


def pytest_collection_modifyitems(config, items):
    """Mark the statistics/audit/conformance/self-test tests ``perturbed`` (see PERTURBED_PATHS)."""
    import pytest

    root = str(config.rootpath).rstrip("/") + "/"
    for item in items:
        rel = str(item.path).replace(root, "", 1)
        if rel.startswith(PERTURBED_PATHS) and not rel.startswith(PERTURBED_EXCLUDED):
            item.add_marker(pytest.mark.perturbed)


@pytest.fixture(scope="session")
def mb_cache(tmp_path_factory) -> Path:
    """One ``MAMMOBENCH_CACHE`` per test session: cohort, image cache and generator fits made once."""
    return tmp_path_factory.mktemp("mammobench-cache")


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory, mb_cache):
    """One finished ``mammobench run --profile smoke`` per session: ``(run folder, CompletedProcess)``.

    Shared by the pipeline end-to-end tests and the report's browser test (mark such modules
    ``pytest.mark.xdist_group("smoke_run")`` so that, under ``pytest -n``, they share one worker and one run).
    Tests that change the folder must work on a copy.
    """
    from tests.helpers.pipeline_run import run_smoke

    out = tmp_path_factory.mktemp("runs")
    done = run_smoke(out, mb_cache)
    return out / "vc_lesion-smoke", done
