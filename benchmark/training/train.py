"""The seeded, deterministic training loop for image-level detectors.

One function trains: :func:`train_detector`. It selects the device (``auto|cpu|cuda``), seeds every
random source it uses from one integer, turns on deterministic algorithms, and on CUDA uses mixed
precision (bf16 autocast, or fp16 with a GradScaler) and a pinned-memory loader with worker
prefetch. On CPU the data stay as in-memory tensors (no worker overhead) and the thread count is
set explicitly, so the same seed gives bit-identical weights in any process. The checkpoint is
chosen on the validation split (never test); the training curve is returned. On CPU, with a core to
spare, epoch k is scored on the validation split while epoch k + 1 trains (background_validation.py;
the same scores and checkpoint as scoring in turn).

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = rng.random((16, 1, 16, 16), dtype=np.float32); y = (np.arange(16) % 2).astype(np.float32)
    >>> res = train_detector(x, y, x, y, arch="test_resnet", seed=0, config=TrainConfig(epochs=1, batch_size=8))
    >>> len(res.curve), predict_scores(res.model, x, device=res.device).shape
    (1, (16,))
"""
from __future__ import annotations

import contextlib
import logging
import os
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from mammobench.errors import ConfigError
from mammobench.torchutil import amp_dtype, resolve_device

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters and execution settings of one training run."""

    epochs: int = 4
    batch_size: int = 64
    lr: float = 2e-3
    weight_decay: float = 1e-4
    lr_schedule: str = "cosine"  # cosine: decay to 0 over all batches (stable last epochs); constant
    device: str = "auto"
    threads: int = 1          # torch intra-op threads on CPU (fixed per cell for reproducibility)
    amp: bool = True          # mixed precision on CUDA only
    workers: int = 4          # DataLoader workers on CUDA only
    recipe: str = "timm_classifier"
    weights: str | None = None
    epoch_images: int | None = None  # images per epoch (None: all); fewer = a fresh random subset each epoch
    channels_last: bool = False  # CPU: train in channels_last (≈1.5× faster for timm ResNets; other rounding)
    # CPU: score epoch k on a second thread while epoch k+1 trains (same scores, bit for bit; see
    # background_validation.py). None: when the process has a core beyond its `threads`; False: never
    background_validation: bool | None = None


@dataclass
class TrainResult:
    """The chosen model and how it got there."""

    model: nn.Module
    device: str
    best_epoch: int
    curve: list[dict[str, float]] = field(default_factory=list)
    seconds: float = 0.0
    images_per_second: float = 0.0


def set_determinism(seed: int, device: str, threads: int) -> None:
    """Seed torch, fix the CPU thread count and request deterministic kernels."""
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.manual_seed(seed)
    if torch.device(device).type == "cpu":
        torch.set_num_threads(max(1, threads))
    else:
        torch.cuda.manual_seed_all(seed)
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.deterministic = True
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    torch.use_deterministic_algorithms(True, warn_only=True)


def _batches(n: int, batch_size: int, rng: np.random.Generator, take: int | None = None) -> list[np.ndarray]:
    """One epoch's index batches: a permutation of ``range(n)``, cut to its first ``take`` (a fixed step budget)."""
    order = rng.permutation(n)[:take]
    return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]


def epoch_size(n: int, epoch_images: int | None) -> int:
    """Images one epoch passes over: all ``n``, or ``epoch_images`` of them (a fixed step budget).

    Raises:
        ConfigError: ``epoch_images`` below 1.

    Example:
        >>> epoch_size(1500, None), epoch_size(1500, 1000), epoch_size(800, 1000)
        (1500, 1000, 800)
    """
    if epoch_images is None:
        return n
    if epoch_images < 1:
        raise ConfigError(f"epoch_images must be >= 1, got {epoch_images}")
    return min(n, int(epoch_images))


def _cuda_loader(x: np.ndarray, y: np.ndarray, idx: list[np.ndarray], workers: int):
    """A pinned-memory loader that prefetches the given index batches in worker processes."""
    from torch.utils.data import DataLoader

    class _Batches(torch.utils.data.Dataset):
        def __len__(self) -> int:
            return len(idx)

        def __getitem__(self, i: int):
            rows = np.sort(idx[i])
            return torch.from_numpy(np.ascontiguousarray(x[rows])), torch.from_numpy(y[rows])

    return DataLoader(_Batches(), batch_size=None, shuffle=False, num_workers=workers, pin_memory=True,
                      prefetch_factor=4 if workers else None, persistent_workers=False)


def _amp(device: str, enabled: bool) -> tuple[Any, torch.amp.GradScaler | None]:
    """Autocast type on CUDA; float16 (no bfloat16 on this GPU) needs a loss scaler."""
    dtype = amp_dtype(device, enabled)
    return dtype, torch.amp.GradScaler("cuda") if dtype == torch.float16 else None


def lr_scheduler(opt: torch.optim.Optimizer, schedule: str, total_steps: int):
    """The per-batch learning-rate schedule: ``cosine`` (to 0 over ``total_steps``) or ``constant``.

    A constant rate leaves the last epochs bouncing around the minimum, so two seeds' final models
    (and their subgroup AUCs) differ more than the data warrant; annealing reduces that variance.

    Example:
        >>> opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
        >>> sched = lr_scheduler(opt, "cosine", 4)
        >>> [round(sched.get_last_lr()[0], 3)] + [round((opt.step(), sched.step(), sched.get_last_lr()[0])[2], 3)
        ...                                        for _ in range(4)]
        [1.0, 0.854, 0.5, 0.146, 0.0]
    """
    if schedule == "constant":
        return torch.optim.lr_scheduler.LambdaLR(opt, lambda step: 1.0)
    if schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(int(total_steps), 1))
    raise ConfigError(f"lr_schedule={schedule!r}: expected 'cosine' or 'constant'")


def optimizer_step(opt: torch.optim.Optimizer, loss: torch.Tensor, scaler: torch.amp.GradScaler | None) -> None:
    """One optimiser step on ``loss`` (gradients zeroed first), through the AMP grad scaler when there is one.

    Example:
        >>> w = torch.nn.Parameter(torch.ones(1))
        >>> optimizer_step(torch.optim.SGD([w], lr=0.5), (w ** 2).sum(), None)
        >>> float(w.detach())
        0.0
    """
    opt.zero_grad(set_to_none=True)
    if scaler is not None:
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
    else:
        loss.backward()
        opt.step()


def _epoch(model: nn.Module, opt: torch.optim.Optimizer, loss_fn: nn.Module, batches, device: str,
           dtype: Any, scaler: torch.amp.GradScaler | None, sched=None) -> float:
    model.train()
    total, count = 0.0, 0
    for xb, yb in batches:
        xb = xb.to(device, non_blocking=True)
        yb = yb.to(device, non_blocking=True)
        with torch.autocast(device_type=torch.device(device).type, dtype=dtype, enabled=dtype is not None):
            loss = loss_fn(model(xb).float(), yb)
        optimizer_step(opt, loss, scaler)
        if sched is not None:
            sched.step()
        total += float(loss.detach()) * len(yb)
        count += len(yb)
    return total / max(count, 1)


@torch.no_grad()
def predict_scores(model: nn.Module, x: np.ndarray, *, device: str = "cpu", batch_size: int = 256) -> np.ndarray:
    """Sigmoid scores in [0, 1] for images ``[N, 1, H, W]`` (float64 for stable CSV round-trips)."""
    model.eval()
    out = []
    for i in range(0, len(x), batch_size):
        xb = torch.from_numpy(np.ascontiguousarray(x[i:i + batch_size])).to(device)
        out.append(torch.sigmoid(model(xb).float()).cpu().numpy())
    return np.concatenate(out).astype(np.float64) if out else np.zeros(0)


def validation_scores(model: nn.Module, x: np.ndarray, *, device: str = "cpu", batch_size: int = 256) -> np.ndarray:
    """:func:`predict_scores` for the per-epoch validation, faster on CPU.

    On CPU the model runs in ``channels_last`` memory format for this call only (PyTorch's CPU
    max-pooling and convolutions are several times faster on that layout) under ``inference_mode``,
    then goes back to its own layout, so training continues exactly as before. Scores may differ
    from :func:`predict_scores` in the last float32 bit (different convolution kernels), so only
    scores equal to that precision can swap ranks; they only pick the checkpoint (the test
    predictions use :func:`predict_scores`). Elsewhere (CUDA) it is :func:`predict_scores`.

    Example:
        >>> m = nn.Sequential(nn.Conv2d(1, 2, 3), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(18, 1), nn.Flatten(0))
        >>> x = np.random.default_rng(0).random((4, 1, 8, 8), dtype=np.float32)
        >>> bool(np.allclose(validation_scores(m, x), predict_scores(m, x), atol=1e-6))
        True
    """
    if torch.device(device).type != "cpu":
        return predict_scores(model, x, device=device)
    model.eval()
    own_format = torch.channels_last if _is_channels_last(model) else torch.contiguous_format
    model.to(memory_format=torch.channels_last)
    out = []
    try:
        with torch.inference_mode():
            for i in range(0, len(x), batch_size):
                xb = torch.from_numpy(np.ascontiguousarray(x[i:i + batch_size]))
                out.append(torch.sigmoid(model(xb.contiguous(memory_format=torch.channels_last)).float()).numpy())
    finally:
        model.to(memory_format=own_format)
    return np.concatenate(out).reshape(-1).astype(np.float64) if out else np.zeros(0)


def _is_channels_last(model: nn.Module) -> bool:
    """Whether the model's first 4-D weight with several input channels is stored channels_last."""
    for p in model.parameters():
        if p.dim() == 4 and p.shape[1] > 1:
            return p.is_contiguous(memory_format=torch.channels_last) and not p.is_contiguous()
    return False


def snapshot_state(model: nn.Module) -> dict[str, torch.Tensor]:
    """A copy of ``model.state_dict()`` that later training steps leave alone (the best-epoch checkpoint).

    Each tensor is cloned once (same values, dtype and layout); unlike ``copy.deepcopy`` it walks no
    Python object graph. The state dict's ``_metadata`` (module versions) is kept for ``load_state_dict``.

    Example:
        >>> net = nn.Linear(2, 1)
        >>> snap = snapshot_state(net)
        >>> with torch.no_grad():
        ...     _ = net.weight.add_(1)
        >>> bool(torch.equal(snap["weight"] + 1, net.weight))
        True
    """
    state = model.state_dict()
    for name, tensor in state.items():
        state[name] = tensor.detach().clone()
    return state


def _val_auc(y: np.ndarray, s: np.ndarray) -> float:
    """AUC used only to pick the checkpoint on validation data (``roc_auc_score``'s float, without importing
    scikit-learn into every cell worker: ≈ 1.2 s of its start-up)."""
    from mammobench.stats.roc import validation_auc

    return validation_auc(y, s)


@dataclass
class _BestEpoch:
    """The checkpoint with the best validation AUC so far (ties and NaN: the earlier epoch; epoch 1 always)."""

    epoch: int = 0
    auc: float = -1.0
    weights: dict[str, torch.Tensor] | None = None

    def offer(self, epoch: int, auc: float, weights) -> None:
        """Keep ``epoch`` when it beats the best so far; ``weights()`` gives its state (None: the model's own)."""
        if self.epoch == 0 or (auc == auc and auc > self.auc):
            self.epoch, self.auc, self.weights = epoch, auc, weights()


def _background_validation(model: nn.Module, val_x: np.ndarray, device: str, config: TrainConfig):
    """A :class:`BackgroundValidation` when it can gain (CPU, several epochs, a spare core), else a null context."""
    from mammobench.training.background_validation import BackgroundValidation, spare_core

    wanted = config.background_validation
    if (torch.device(device).type != "cpu" or config.epochs < 2 or not len(val_x) or wanted is False
            or (wanted is None and not spare_core(config.threads))):
        return contextlib.nullcontext()
    return BackgroundValidation(model, val_x, threads=config.threads, score=validation_scores)


def train_detector(train_x: np.ndarray, train_y: np.ndarray, val_x: np.ndarray, val_y: np.ndarray, *,
                   arch: str, seed: int, config: TrainConfig = TrainConfig(), label: str = "") -> TrainResult:
    """Train a detector; keep the epoch with the best validation AUC (ties: the earlier epoch).

    Logs one line per epoch (``<label> epoch 2/8: loss 0.4812, val AUC 0.781, 1.9s``) at INFO.

    Args:
        train_x, val_x: float32 images ``[N, 1, H, W]`` in [0, 1].
        train_y, val_y: float32 0/1 targets ``[N]``.
        arch: architecture name passed to the recipe (e.g. a timm name).
        seed: the only source of randomness (init, batch order).
        config: hyper-parameters and device settings.
        label: what the epoch lines name (e.g. ``cell none__r0__s1``).
    """
    from mammobench.registry import DETECTORS  # built-in recipes: registered by this package's __init__

    device = str(resolve_device(config.device))
    set_determinism(seed, device, config.threads)
    model = DETECTORS.get(config.recipe)().build(arch=arch, weights=config.weights).to(device)
    channels_last = config.channels_last and torch.device(device).type == "cpu"
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    opt = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    n_pos = float(train_y.sum())
    pos_weight = torch.tensor([(len(train_y) - n_pos) / max(n_pos, 1.0)], device=device)
    loss_fn = nn.BCEWithLogitsLoss(pos_weight=pos_weight)
    dtype, scaler = _amp(device, config.amp)
    rng = np.random.default_rng(seed)
    tx, ty = torch.from_numpy(np.ascontiguousarray(train_x)), torch.from_numpy(train_y.astype(np.float32))
    if channels_last:
        tx = tx.contiguous(memory_format=torch.channels_last)
    per_epoch = epoch_size(len(train_y), config.epoch_images)
    sched = lr_scheduler(opt, config.lr_schedule, config.epochs * -(-per_epoch // config.batch_size))
    on_cuda = torch.device(device).type == "cuda"
    best, curve = _BestEpoch(), []

    def record(epoch: int, loss: float, seconds: float, scores: np.ndarray, weights) -> None:
        auc = _val_auc(val_y, scores)
        curve.append({"epoch": epoch, "train_loss": loss, "val_auc": auc})
        logger.info(f"{label or 'training'} epoch {epoch}/{config.epochs}: loss {loss:.4f}, val AUC {auc:.3f}, "
                    f"{seconds:.1f}s")
        best.offer(epoch, auc, weights)

    start = time.perf_counter()
    with _background_validation(model, val_x, device, config) as background:
        scoring = None  # (epoch, loss, seconds, weights, future scores): epoch k, scored while epoch k+1 trains
        for epoch in range(1, config.epochs + 1):
            idx = _batches(len(train_y), config.batch_size, rng, per_epoch)
            batches = (_cuda_loader(train_x, train_y.astype(np.float32), idx, config.workers) if on_cuda
                       else ((tx[b], ty[b]) for b in map(torch.from_numpy, idx)))
            epoch_start = time.perf_counter()
            loss = _epoch(model, opt, loss_fn, batches, device, dtype, scaler, sched)
            seconds = time.perf_counter() - epoch_start
            if scoring is not None:  # the previous epoch, scored while this one trained
                (k, k_loss, k_seconds, k_weights, k_scores), scoring = scoring, None
                record(k, k_loss, k_seconds, k_scores.result(), lambda: k_weights)
            if background is not None and epoch < config.epochs:
                weights = snapshot_state(model)
                scoring = (epoch, loss, seconds, weights, background.submit(weights))
                continue
            # the last epoch's weights are the model's own: copy only an earlier best
            record(epoch, loss, time.perf_counter() - epoch_start, validation_scores(model, val_x, device=device),
                   lambda last=epoch == config.epochs: None if last else snapshot_state(model))
    if best.weights is not None:
        model.load_state_dict(best.weights)
    model.to(memory_format=torch.contiguous_format)  # callers get the usual layout
    seconds = time.perf_counter() - start
    return TrainResult(model=model, device=device, best_epoch=best.epoch, curve=curve, seconds=seconds,
                       images_per_second=per_epoch * config.epochs / max(seconds, 1e-9))
