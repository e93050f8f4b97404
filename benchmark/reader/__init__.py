"""Reader studies: study builder, reading web app, export and analysis (visual Turing tests, MRMC).

Example:
    >>> from mammobench.reader import turing_tost_n
    >>> turing_tost_n(0.1) > 100
    True
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from mammobench._lazy import lazy_exports

_EXPORTS = {
    "build_study": "mammobench.reader.builder",
    "serve": "mammobench.reader.app",
    "export_ratings": "mammobench.reader.export",
    "export_package": "mammobench.reader.export",
    "turing_tost_n": "mammobench.reader.power",
    "mrmc_power": "mammobench.reader.power",
}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from mammobench.reader.app import serve
    from mammobench.reader.builder import build_study
    from mammobench.reader.export import export_package, export_ratings
    from mammobench.reader.power import mrmc_power, turing_tost_n
