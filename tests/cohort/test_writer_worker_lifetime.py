"""A cohort maker killed while its simulator pool renders (SIGKILL, SIGTERM) leaves no worker behind; the re-run is exact.

The child calls :func:`mammobench.cohort.writer.make_cohort` with two simulator workers and is signalled
once both workers are up and at least one image is on disk (so patients are in flight, and
``cohort.json`` is not yet written). Every descendant must be gone within 5 s; making the same cohort
again in the same folder must give byte-identical files to an uninterrupted build (issue #22.1).

Killed workers may leave ``.<name>.*.tmp`` files of an unfinished atomic write; they are not part of the
cohort (no reader lists hidden files) and are the only extra files allowed.
"""
from __future__ import annotations

import hashlib
import json
import signal
from pathlib import Path

import pytest

from mammobench.cohort.writer import make_cohort
from tests.helpers.processes import descendants, pool_workers, signal_and_reap, start_python, wait_until

ARGS = {"n_patients": 96, "seed": 3, "size": 64}  # ≈ 6 s single-process on the 2-core CI box: a wide kill window
CHILD = """
import json, os
from mammobench.cohort.writer import make_cohort
args = json.loads(os.environ["MB_COHORT_ARGS"])
make_cohort(os.environ["MB_COHORT"], workers=2, **args)
"""


def _tree(root: Path) -> dict[str, str]:
    """``{relative path: sha256}`` of every visible file under ``root``."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and not p.name.startswith(".")}


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict[str, str]:
    root = make_cohort(tmp_path_factory.mktemp("ref") / "vc", workers=1, **ARGS)
    return _tree(root)


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["kill-9", "sigterm"])
def test_killed_cohort_maker_leaves_no_worker_and_rerun_is_exact(tmp_path, reference, sig):
    root = tmp_path / "vc"
    child = start_python(CHILD, env={"MB_COHORT": str(root), "MB_COHORT_ARGS": json.dumps(ARGS)})

    def rendering() -> bool:
        return len(pool_workers(child.pid)) >= 2 and any((root / "images").rglob("*.dcm"))

    wait_until(rendering, timeout=240, what="two simulator workers and a written image", child=child)
    survivors = signal_and_reap(child, sig, descendants(child.pid))
    assert survivors == [], f"still alive 5 s after {sig!r}: {survivors}"
    assert not (root / "cohort.json").exists(), "the cohort finished before the signal; no patient was in flight"
    assert len(_tree(root)) < len(reference)
    make_cohort(root, workers=2, **ARGS)  # the re-run renders every patient again into the same folder
    assert _tree(root) == reference
    hidden = [p.name for p in root.rglob(".*")]
    assert all(name.endswith(".tmp") for name in hidden), f"unexpected hidden files after the re-run: {hidden}"
