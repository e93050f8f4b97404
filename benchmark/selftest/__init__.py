"""Known-answer trials (``mammobench selftest``): planted generators with known verdicts.

Example:
    >>> from mammobench.selftest.trials import TRIALS
    >>> sorted(TRIALS)[:3]
    ['biased', 'harmful', 'helpful']
"""
from __future__ import annotations
