"""Example budgets of the default (CI) fuzz tests, so the whole CI fuzz suite stays under ~60 s.

The long ``@pytest.mark.fuzz`` variants take their example count from the hypothesis profile
(``HYPOTHESIS_PROFILE=fuzz``: 3000 per target).
"""
from __future__ import annotations

from hypothesis import settings


def ci(examples: int) -> settings:
    """Settings for a bounded CI fuzz test: ``examples`` examples, no deadline."""
    return settings(max_examples=examples, deadline=None)
