"""Per-epoch validation scoring on a spare core while the next epoch trains (CPU).

Scoring the validation split after every epoch costs a forward pass over it: with a validation split a
quarter of the training size that is ≈ 7 % of a CPU cell's time, all of it spent while the training loop
waits. :class:`BackgroundValidation` scores epoch *k*'s weights on a second thread while epoch *k + 1*
trains, on a copy of the model that holds a snapshot of epoch *k*'s weights (the snapshot the loop keeps
anyway when epoch *k* turns out best). The scores are those the scoring function (the training loop passes
:func:`~mammobench.training.train.validation_scores`) gives on the model itself, bit for bit: the same
weights, layout, kernels and thread count. Only the wall-clock time changes; the CPU time is the same, so
the gain needs a core the cell does not already use (:func:`spare_core`).

Example:
    >>> import numpy as np
    >>> from torch import nn
    >>> from mammobench.training.train import snapshot_state, validation_scores
    >>> net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(72, 1), nn.Flatten(0))
    >>> x = np.zeros((3, 1, 8, 8), dtype=np.float32)
    >>> with BackgroundValidation(net, x, threads=1, score=validation_scores) as bg:
    ...     scores = bg.submit(snapshot_state(net)).result()
    >>> scores.shape
    (3,)
"""
from __future__ import annotations

import copy
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable

import numpy as np
import torch
from torch import nn

from mammobench.workers import usable_cpus

__all__ = ["BackgroundValidation", "spare_core"]


def spare_core(threads: int) -> bool:
    """Whether this process may use more cores than its ``threads`` torch threads (so a second thread gains).

    Example:
        >>> spare_core(10_000)
        False
    """
    return usable_cpus() > max(1, int(threads))


class BackgroundValidation:
    """Scores snapshots of a model's weights on one background thread (a context manager).

    Args:
        model: the model being trained (CPU); it is copied once, and the copy is never trained.
        val_x: validation images ``[N, 1, H, W]``.
        threads: torch intra-op threads of the scoring thread (the training loop's own count: a new thread
            does not inherit it, and another count could pick other kernels).
        score: ``score(model, images, device="cpu")`` → float64 scores ``[N]`` (the loop's in-turn scorer).
    """

    def __init__(self, model: nn.Module, val_x: np.ndarray, *, threads: int,
                 score: Callable[..., np.ndarray]) -> None:
        self._replica = copy.deepcopy(model).eval().to(memory_format=torch.channels_last)
        self._val_x = val_x
        self._threads = max(1, int(threads))
        self._score_fn = score
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mammobench-validation")

    def submit(self, state: dict[str, torch.Tensor]) -> Future:
        """Start scoring the weights ``state`` (a :func:`snapshot_state` the caller no longer changes).

        Returns:
            A future of the validation scores (float64 ``[N]``); only one scoring runs at a time.
        """
        return self._pool.submit(self._score, state)

    def _score(self, state: dict[str, torch.Tensor]) -> np.ndarray:
        torch.set_num_threads(self._threads)
        self._replica.load_state_dict(state)
        return self._score_fn(self._replica, self._val_x, device="cpu")

    def close(self) -> None:
        """Wait for a scoring in progress and stop the thread (queued scorings are dropped)."""
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> BackgroundValidation:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
