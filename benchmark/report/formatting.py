"""Table-cell formatting shared by the report and the leaderboard: numbers, CIs and p-values.

Example:
    >>> fmt_ci(0.81234, 0.75, 0.86)
    '0.812 [0.750, 0.860]'
    >>> fmt_p(0.0002), fmt(None)
    ('<0.001', '–')
"""
from __future__ import annotations

from typing import Any

__all__ = ["fmt", "fmt_ci", "fmt_p"]


def fmt(x: Any, digits: int = 3) -> str:
    """A number for a table cell ('–' when missing)."""
    if x is None:
        return "–"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, int):
        return str(x)
    if isinstance(x, float):
        return f"{x:.{digits}g}" if abs(x) < 1e-3 and x != 0 else f"{x:.{digits}f}"
    return str(x)


def fmt_ci(value: Any, lo: Any, hi: Any) -> str:
    """``value [lo, hi]``."""
    return f"{fmt(value)} [{fmt(lo)}, {fmt(hi)}]"


def fmt_p(p: Any) -> str:
    """p-value with a floor of <0.001."""
    return "–" if p is None else "<0.001" if p < 0.001 else f"{p:.3f}"
