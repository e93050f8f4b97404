"""Reader-study analysis: ratings readers (io), OR-Hillis MRMC (mrmc), visual Turing tests (turing).

Example:
    >>> from mammobench.reader.analysis import or_hillis
    >>> callable(or_hillis)
    True
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from mammobench._lazy import lazy_exports

_EXPORTS = {
    "read_ratings": "mammobench.reader.analysis.io",
    "to_mrmc_data": "mammobench.reader.analysis.io",
    "or_hillis": "mammobench.reader.analysis.mrmc",
    "turing_analysis": "mammobench.reader.analysis.turing",
}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from mammobench.reader.analysis.io import read_ratings, to_mrmc_data
    from mammobench.reader.analysis.mrmc import or_hillis
    from mammobench.reader.analysis.turing import turing_analysis
