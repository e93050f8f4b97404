"""Known-answer trials (``mammobench selftest``): planted generators with known verdicts.

Example:
    >>> from mammobench.selftest import TRIALS
    >>> sorted(TRIALS)[:3]
    ['biased', 'harmful', 'helpful']
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from mammobench._lazy import lazy_exports

_EXPORTS = {
    "TRIALS": "mammobench.selftest.trials",
    "run_selftest": "mammobench.selftest.runner",
    "run_comparison_repeats": "mammobench.selftest.repeats",
    "design_rows": "mammobench.selftest.power",
}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from mammobench.selftest.power import design_rows
    from mammobench.selftest.repeats import run_comparison_repeats
    from mammobench.selftest.runner import run_selftest
    from mammobench.selftest.trials import TRIALS
