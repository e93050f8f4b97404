"""MammoBench: validation and fairness benchmark harness for synthetic breast-imaging data.

The public API (docs/api.md); every name is imported on first use, so ``import mammobench`` is light:

* :func:`run` — run a task or suite end to end (``mammobench run``);
* :class:`Generator`, :class:`GeneratorTags`, :class:`SyntheticBatch`, :class:`TrainView` — the submitter protocol;
* :func:`get_generator` — a registered / ``package.module:Class`` generator by name;
* :func:`check_generator` — the conformance suite (``mammobench check-generator``);
* :func:`load_result` — read and validate a ``result.json``.

Statistics live in :mod:`mammobench.stats`; everything else is reachable through the subpackages.

Example:
    >>> import mammobench
    >>> from mammobench import Generator, get_generator
    >>> isinstance(get_generator("none"), Generator)
    True
    >>> mammobench.__version__ == __import__("importlib.metadata").metadata.version("mammobench")
    True
"""
from __future__ import annotations

from importlib import metadata
from typing import TYPE_CHECKING

from mammobench._lazy import lazy_exports

try:
    __version__ = metadata.version("mammobench")
except metadata.PackageNotFoundError:  # pragma: no cover - imported from a source tree that was never installed
    __version__ = "0+unknown"

_EXPORTS = {
    "run": "mammobench.pipeline.runner",
    "Generator": "mammobench.protocols",
    "GeneratorTags": "mammobench.protocols",
    "SyntheticBatch": "mammobench.protocols",
    "TrainView": "mammobench.protocols",
    "get_generator": "mammobench.generators",
    "check_generator": "mammobench.testing",
    "load_result": "mammobench.results",
}
__all__ = ["__version__", *_EXPORTS]
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:  # for type checkers and IDEs; at run time the names above are imported on use
    from mammobench.generators import get_generator
    from mammobench.pipeline.runner import run
    from mammobench.protocols import Generator, GeneratorTags, SyntheticBatch, TrainView
    from mammobench.results import load_result
    from mammobench.testing import check_generator
