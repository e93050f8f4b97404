"""Every registered built-in generator (tiny configs) through the public conformance suite."""
from __future__ import annotations

import tempfile

from mammobench.generators import BUILTIN_GENERATORS, get_generator
from mammobench.generators.fixtures import write_tiny_folder_submission
from mammobench.testing import parametrize_with_checks
from tests.helpers.seeds import data_seed

_FOLDER = write_tiny_folder_submission(tempfile.mkdtemp(prefix="mammobench-folder-"), n=32, size=32, seed=data_seed(0))

GENERATORS = [name for name in BUILTIN_GENERATORS if name != "folder"] + [get_generator("folder", path=str(_FOLDER))]

# Judged on the fixture domain (the default; the cohort domain takes minutes to build): sized check
# n = 51, pass needs ≥ 26 hits, power 0.993 against 0.67; classic 36/51; physics 19/51, cgan 20/51,
# ddpm 20/51 — at chance 0.33. On the cohort domain (`check-generator physics --oracle-domain cohort`) physics and
# classic pass but with a weak oracle (docs/generators.md, "Conformance checks"), so the marks stay.
_TINY_UNTRAINED = ("tiny_config trains 30 steps on 32 images: the lesion patches are not yet recognisable "
                   "(oracle agreement at chance); recognition at quick settings is measured by "
                   "'mammobench generators acceptance' (docs/generators.md)")
EXPECTED_FAILURES = {
    "physics": {"check_conditions_recognised_by_oracle":
                "the tiny fixture draws blobs, not simulated mammograms: at 32×32 whole-breast the simulated "
                "lesions are a pixel or two and an oracle trained on the fixture sees chance (domain gap); "
                "measured on the virtual cohort instead"},
    "cgan": {"check_conditions_recognised_by_oracle": _TINY_UNTRAINED},
    "ddpm": {"check_conditions_recognised_by_oracle": _TINY_UNTRAINED},
}


@parametrize_with_checks(GENERATORS, expected_failed_checks=EXPECTED_FAILURES, oracle_domain="fixture")
def test_builtin_generator_conformance(generator, check):
    check(generator)
