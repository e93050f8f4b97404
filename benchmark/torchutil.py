"""The harness's torch utilities: one device resolver, one image resize, mixed precision, seeded builds.

Every layer that touches torch (training, audits, generators) resolves ``--device`` with
:func:`resolve_device` and resizes image stacks with :func:`resize_images`, so a device string means
the same everywhere and every feature extractor sees the same pixels.

Example:
    >>> resolve_device("cpu")
    device(type='cpu')
    >>> import numpy as np
    >>> resize_images(np.ones((2, 8, 6), np.float32), (4, 3)).shape
    torch.Size([2, 1, 4, 3])
"""
from __future__ import annotations

import contextlib
import re
from typing import Callable, Iterator, TypeVar

import numpy as np
import torch
import torch.nn.functional as F

from mammobench.errors import ConfigError

__all__ = ["amp_dtype", "autocast", "eval_mode", "resize_images", "resolve_device", "seeded", "torch_threads"]

T = TypeVar("T")
_DEVICE = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")


def resolve_device(requested: str | torch.device | None = "auto") -> torch.device:
    """Resolve ``auto`` (or ``None``), ``cpu``, ``cuda``, ``cuda:N`` or ``mps`` to a usable device.

    ``auto`` picks CUDA when torch sees a GPU, else the CPU.

    Raises:
        ConfigError: for an unknown device string, or a GPU that torch cannot see.

    Example:
        >>> resolve_device(None).type in ("cpu", "cuda")
        True
        >>> resolve_device("tpu")
        Traceback (most recent call last):
        mammobench.errors.ConfigError: --device 'tpu': valid choices are auto, cpu, cuda, cuda:N, mps
    """
    if isinstance(requested, torch.device):
        requested = str(requested)
    name = (requested or "auto").strip().lower()
    if not _DEVICE.match(name):
        raise ConfigError(f"--device {requested!r}: valid choices are auto, cpu, cuda, cuda:N, mps")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(f"--device {name}: no CUDA device is visible to torch; use --device cpu or auto")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ConfigError(f"--device {name}: torch sees {torch.cuda.device_count()} CUDA device(s); "
                              f"use cuda:0 … cuda:{torch.cuda.device_count() - 1}")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ConfigError(f"--device {name}: the Apple MPS backend is not available; use --device cpu or auto")
    return device


def amp_dtype(device: torch.device | str, enabled: bool = True) -> torch.dtype | None:
    """The mixed-precision type on CUDA (bfloat16 where supported, else float16); ``None`` elsewhere.

    Example:
        >>> amp_dtype("cpu") is None
        True
    """
    if not enabled or torch.device(device).type != "cuda":
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def autocast(device: torch.device | str) -> contextlib.AbstractContextManager:
    """bfloat16 autocast on CUDA GPUs that support it; a no-op elsewhere (float16 needs a loss scaler).

    Example:
        >>> with autocast("cpu"):
        ...     (torch.ones(2) * 2).dtype
        torch.float32
    """
    if amp_dtype(device) == torch.bfloat16:
        return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def seeded(seed: int, build: Callable[[], T]) -> T:
    """Call ``build()`` (e.g. a module constructor) with torch's RNG seeded, restoring it afterwards.

    Example:
        >>> a, b = (seeded(0, lambda: torch.nn.Linear(2, 1)) for _ in range(2))
        >>> torch.equal(a.weight, b.weight)
        True
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build()


@contextlib.contextmanager
def eval_mode(module: torch.nn.Module) -> Iterator[torch.nn.Module]:
    """Temporarily switch ``module`` to eval mode under ``torch.no_grad``.

    Example:
        >>> net = torch.nn.Dropout()
        >>> with eval_mode(net):
        ...     net.training
        False
        >>> net.training
        True
    """
    was = module.training
    module.eval()
    try:
        with torch.no_grad():
            yield module
    finally:
        module.train(was)


@contextlib.contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run the block with ``n`` intra-op torch threads (tiny workloads run faster single-threaded).

    Example:
        >>> with torch_threads(1):
        ...     torch.get_num_threads()
        1
    """
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def resize_images(images: np.ndarray, size: tuple[int, int]) -> torch.Tensor:
    """The one image resize: antialiased bilinear of float images ``[N, H, W]`` to ``size`` → ``[N, 1, h, w]``.

    Returns the input unchanged (as a tensor) when it already has ``size``.

    Example:
        >>> resize_images(np.zeros((1, 4, 4), np.float32), (2, 2)).shape
        torch.Size([1, 1, 2, 2])
    """
    arr = np.ascontiguousarray(images, dtype=np.float32)
    tensor = torch.from_numpy(arr if arr.flags.writeable else arr.copy())[:, None]
    if tuple(tensor.shape[-2:]) == tuple(size):
        return tensor
    return F.interpolate(tensor, size=tuple(size), mode="bilinear", antialias=True, align_corners=False)
