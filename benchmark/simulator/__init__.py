"""2-D physics-inspired breast phantom: the virtual clinical trial behind the embedded default.

Public API: :class:`CaseSpec`, :func:`sample_case` (calibrated case sampler),
:func:`simulate_image` → :class:`SimulatedImage`, :func:`throughput` (perf suite).
Design and calibration: ``docs/simulator.md`` and ``reference/simulator.md``.

Example:
    >>> import numpy as np
    >>> spec = sample_case(np.random.default_rng(0), density="B", view="MLO", lesion_type="none")
    >>> simulate_image(spec, size=64, seed=0).pixels.shape
    (64, 64)
"""
from __future__ import annotations

from mammobench.simulator.phantom import SimulatedImage, simulate_image
from mammobench.simulator.spec import CaseSpec, sample_case
from mammobench.simulator.throughput import throughput

__all__ = ["CaseSpec", "SimulatedImage", "sample_case", "simulate_image", "throughput"]
