"""Example budgets of the default (CI) fuzz tests, so the whole CI fuzz suite stays under ~60 s.

The long ``@pytest.mark.fuzz`` variants take their example count from the hypothesis profile
(``HYPOTHESIS_PROFILE=fuzz``: 3000 per target).
"""
from __future__ import annotations

import resource
from contextlib import contextmanager
from typing import Iterator

from hypothesis import settings


def ci(examples: int) -> settings:
    """Settings for a bounded CI fuzz test: ``examples`` examples, no deadline."""
    return settings(max_examples=examples, deadline=None)


@contextmanager
def address_space(extra_bytes: int) -> Iterator[bool]:
    """Cap the process's address space at what it maps now + ``extra_bytes`` (yields whether it could).

    An allocation for a huge *declared* image then fails loudly (MemoryError) instead of passing unnoticed.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    try:
        with open("/proc/self/statm") as fh:
            current = int(fh.read().split()[0]) * resource.getpagesize()
        resource.setrlimit(resource.RLIMIT_AS, (current + extra_bytes, hard))
        limited = True
    except (OSError, ValueError):
        limited = False
    try:
        yield limited
    finally:
        if limited:
            resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
