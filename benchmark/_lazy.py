"""Lazy public names for package ``__init__`` modules (PEP 562 ``__getattr__``/``__dir__``).

A package lists ``{public name: module}``; the module is imported the first time the name is used,
so ``import mammobench`` (or ``mammobench.stats``) stays light and never imports torch by itself.
The pattern follows lm-evaluation-harness's ``lm_eval/__init__.py``.

Example:
    >>> import types, sys
    >>> pkg = types.ModuleType("demo_pkg"); sys.modules["demo_pkg"] = pkg
    >>> pkg.__getattr__, pkg.__dir__ = lazy_exports("demo_pkg", {"sqrt": "math"})
    >>> pkg.sqrt(9.0), "sqrt" in dir(pkg)
    (3.0, True)
"""
from __future__ import annotations

import importlib
import sys
from typing import Any, Callable


def lazy_exports(package: str, exports: dict[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package`` that import each of ``exports``' names from its module on use.

    The value is cached in the package's namespace, so the import happens once.
    """

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(exports))

    return __getattr__, __dir__
