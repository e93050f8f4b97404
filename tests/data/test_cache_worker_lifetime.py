"""A cache build killed while its decoding pool runs (SIGKILL, SIGTERM) leaves no worker behind; the re-run is exact.

The child builds the image cache of a small virtual cohort with two decoding workers and is signalled
as soon as both workers are up; every descendant must be gone within 5 s, and finishing the build
must give the same pixels and index as an uninterrupted build (issue #22).
"""
from __future__ import annotations

import json
import signal

import pytest

from mammobench.data.cache import build_cache
from mammobench.data.ingest import load_dataset
from tests.helpers.data_replicas import make_virtual_cohort
from tests.helpers.processes import descendants, pool_workers, signal_and_reap, start_python, wait_until

CHILD = """
import json, os
from mammobench.data.cache import build_cache
from mammobench.data.ingest import load_dataset
args = json.loads(os.environ["MB_CACHE"])
cohort = load_dataset("virtual_cohort", args["root"], split_seed=0)
build_cache(cohort.manifest, cohort.root, args["out"], size=32, workers=2, progress=False)
"""


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    root = tmp_path_factory.mktemp("vc")
    make_virtual_cohort(root)
    return load_dataset("virtual_cohort", root, split_seed=0)


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["kill-9", "sigterm"])
def test_killed_cache_build_leaves_no_worker_and_rerun_is_exact(cohort, tmp_path, sig):
    out = tmp_path / "cache"
    child = start_python(CHILD, env={"MB_CACHE": json.dumps({"root": str(cohort.root), "out": str(out)})})
    wait_until(lambda: len(pool_workers(child.pid)) >= 2, timeout=240, what="two decoding workers", child=child)
    survivors = signal_and_reap(child, sig, descendants(child.pid))
    assert survivors == [], f"still alive 5 s after {sig!r}: {survivors}"
    assert not json.loads((out / "cache.json").read_text())["complete"], "the build finished before the signal"
    resumed = build_cache(cohort.manifest, cohort.root, out, size=32, workers=1, progress=False)
    reference = build_cache(cohort.manifest, cohort.root, tmp_path / "ref", size=32, workers=1, progress=False)
    assert (out / "images.u16").read_bytes() == (tmp_path / "ref" / "images.u16").read_bytes()
    assert (out / "index.csv").read_bytes() == (tmp_path / "ref" / "index.csv").read_bytes()
    assert resumed.verify() == [] and len(resumed.index) == len(reference.index) == 8
