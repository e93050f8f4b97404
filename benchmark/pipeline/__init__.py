"""The run pipeline: task config, profiles, arms, grid cells, executors and ``run()``.

Public entry point: :func:`mammobench.pipeline.run.run` (imported lazily so that reading a task
does not import torch).
"""
from __future__ import annotations
