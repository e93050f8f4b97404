"""Small torch helpers shared by the learned baselines: device, autocast, seeded init.

Example:
    >>> pick_device("cpu").type
    'cpu'
"""
from __future__ import annotations

import contextlib
from typing import Callable, Iterator, TypeVar

import torch

T = TypeVar("T")


def pick_device(device: str = "auto") -> torch.device:
    """``"auto"`` → CUDA when available, else CPU; anything else is passed to ``torch.device``."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def autocast(device: torch.device) -> contextlib.AbstractContextManager:
    """Mixed precision (bfloat16) on CUDA; a no-op on CPU."""
    if device.type == "cuda":
        return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def seeded(seed: int, build: Callable[[], T]) -> T:
    """Call ``build()`` (e.g. a module constructor) with torch's RNG seeded, restoring it afterwards."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build()


@contextlib.contextmanager
def eval_mode(module: torch.nn.Module) -> Iterator[torch.nn.Module]:
    """Temporarily switch ``module`` to eval mode under ``torch.no_grad``."""
    was = module.training
    module.eval()
    try:
        with torch.no_grad():
            yield module
    finally:
        module.train(was)





@contextlib.contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run the block with ``n`` intra-op torch threads (tiny workloads run faster single-threaded)."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)
__all__ = ["autocast", "eval_mode", "pick_device", "seeded", "torch_threads"]
