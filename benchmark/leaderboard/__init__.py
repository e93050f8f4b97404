"""The signed leaderboard (Contract 7): submit a verified run as a bundle, verify bundles, build the pages.

Example:
    >>> import mammobench.leaderboard as lb
    >>> sorted(lb.__all__)
    ['build_leaderboard', 'check_up_to_date', 'submit', 'verify_bundle']
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from mammobench._lazy import lazy_exports

_EXPORTS = {
    "submit": "mammobench.leaderboard.bundle",
    "verify_bundle": "mammobench.leaderboard.verify",
    "build_leaderboard": "mammobench.leaderboard.build",
    "check_up_to_date": "mammobench.leaderboard.build",
}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from mammobench.leaderboard.build import build_leaderboard, check_up_to_date
    from mammobench.leaderboard.bundle import submit
    from mammobench.leaderboard.verify import verify_bundle
