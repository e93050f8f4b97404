"""Every registered built-in generator (tiny configs) through the public conformance suite."""
from __future__ import annotations

import tempfile

from mammobench.generators import BUILTIN_GENERATORS, get_generator
from mammobench.generators.fixtures import write_tiny_folder_submission
from mammobench.testing import parametrize_with_checks
from tests.helpers.seeds import data_seed

_FOLDER = write_tiny_folder_submission(tempfile.mkdtemp(prefix="mammobench-folder-"), n=32, size=32, seed=data_seed(0))

GENERATORS = [name for name in BUILTIN_GENERATORS if name != "folder"] + [get_generator("folder", path=str(_FOLDER))]

# Judged on the fixture domain (fast; `check-generator`'s default, the check cohort, takes minutes and is
# tested in tests/generators/test_cohort_oracle_check.py, slow): sized check n = 516, pass needs ≥ 198 hits,
# power 0.990 against 0.433; classic passes; physics, cgan and ddpm are at chance 0.33 on the fixture's blobs
# (docs/generators.md, "The statistical check"), so the marks stay. On the cohort domain all of them pass.
_TINY_UNTRAINED = ("the conformance config trains a tiny model on 32 fixture images: its blobs are not yet "
                   "recognisable "
                   "(oracle agreement at chance); on the check cohort, check-generator's default domain, the "
                   "same tiny config passes (docs/generators.md)")
EXPECTED_FAILURES = {
    "physics": {"check_conditions_recognised_by_oracle":
                "the tiny fixture draws blobs, not simulated mammograms: at 32×32 whole-breast the simulated "
                "lesions are a pixel or two and an oracle trained on the fixture sees chance (domain gap); "
                "on the check cohort, check-generator's default domain, it passes (docs/generators.md)"},
    "cgan": {"check_conditions_recognised_by_oracle": _TINY_UNTRAINED},
    "ddpm": {"check_conditions_recognised_by_oracle": _TINY_UNTRAINED},
}


@parametrize_with_checks(GENERATORS, expected_failed_checks=EXPECTED_FAILURES, oracle_domain="fixture")
def test_builtin_generator_conformance(generator, check):
    check(generator)
