"""Feature extractors without downloads: the in-harness domain encoder (oracle) and local timm weights.

The **domain encoder** is a small CNN trained inside the harness on the real training split as a
multi-head classifier (``density`` A–D, ``lesion_type``, ``label``). Its penultimate layer (global
average pool of the last convolution) is the feature space used by the fidelity, memorisation and
leakage audits; its heads are the oracle used by the conditional-adherence audit and by the
generator conformance suite ("conditions honoured"). Classes with a loss weight inversely
proportional to their frequency, so a rare density class is not ignored by the oracle.

:func:`mammobench.audits.timm_encoder.load_timm_encoder` wraps a user-supplied local timm checkpoint
(Inception for classic FID, RadImageNet, …) as a features-only extractor. Nothing here ever downloads weights.

Example:
    >>> import numpy as np, pandas as pd
    >>> from mammobench.protocols import TrainView
    >>> rng = np.random.default_rng(0)
    >>> m = pd.DataFrame({"patient_id": [f"p{i}" for i in range(8)], "split": "train",
    ...                   "density": list("ABCD") * 2, "lesion_type": "none", "label": "normal"})
    >>> view = TrainView(m, rng.random((8, 32, 32), dtype=np.float32))
    >>> enc = train_domain_encoder(view, seed=0, epochs=1, resolution=32)
    >>> enc.features(view.images).shape[0], sorted(enc.predict_proba(view.images))
    (8, ['density'])
"""
from __future__ import annotations

import copy
import hashlib
import io
from pathlib import Path
from typing import Any, Callable, Protocol, runtime_checkable

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from mammobench.errors import DataError
from mammobench.io import atomic_write_bytes, sha256_bytes, sha256_json
from mammobench.torchutil import resize_images, resolve_device

ORACLE_ATTRIBUTES: tuple[str, ...] = ("density", "lesion_type", "label")
_CLASS_ORDER = {
    "density": ("A", "B", "C", "D"),
    "lesion_type": ("none", "mass", "calcification", "architectural_distortion", "asymmetry", "other"),
    "label": ("normal", "benign", "malignant"),
}
_FORMAT = "mammobench-domain-encoder"
_FORMAT_VERSION = 1


@runtime_checkable
class FeatureExtractor(Protocol):
    """Anything the audits can embed images with."""

    name: str
    resolution: tuple[int, int]

    def features(self, images: np.ndarray) -> np.ndarray: ...


def as_image_stack(images: Any, *, source: str = "images") -> np.ndarray:
    """Validate images as float32 ``[N, H, W]`` in [0, 1] (``[N, 1, H, W]`` is squeezed).

    Raises:
        DataError: for a wrong shape, non-finite values or values outside [0, 1].
    """
    arr = np.asarray(images)
    if arr.ndim == 4 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 3:
        raise DataError(f"{source}: expected images [N, H, W] or [N, 1, H, W], got shape {arr.shape}")
    arr = arr.astype(np.float32, copy=False)
    if arr.size and (not np.isfinite(arr).all() or arr.min() < -1e-6 or arr.max() > 1 + 1e-6):
        raise DataError(f"{source}: pixel values must be finite and in [0, 1] "
                        f"(got min {np.nanmin(arr):.3g}, max {np.nanmax(arr):.3g}); rescale the images")
    return arr


def default_resolution(image_size: tuple[int, int], max_side: int = 64) -> tuple[int, int]:
    """Keep the aspect ratio, longest side ``max_side`` (never upsample)."""
    h, w = image_size
    scale = min(1.0, max_side / max(h, w))
    return max(8, round(h * scale)), max(8, round(w * scale))


class _EncoderNet(nn.Module):
    """Four conv blocks → global average pool (the features) → one linear head per attribute."""

    def __init__(self, heads: dict[str, int], width: int = 16):
        super().__init__()
        chans = [1, width, 2 * width, 4 * width, 8 * width]
        blocks: list[nn.Module] = []
        for i in range(4):
            blocks += [nn.Conv2d(chans[i], chans[i + 1], 3, padding=1, bias=False),
                       nn.BatchNorm2d(chans[i + 1]), nn.ReLU(inplace=True)]
            if i < 3:
                blocks.append(nn.MaxPool2d(2))
        self.trunk = nn.Sequential(*blocks, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.heads = nn.ModuleDict({k: nn.Linear(chans[-1], n) for k, n in heads.items()})
        self.feature_dim = chans[-1]

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        feats = self.trunk((x - 0.5) / 0.25)
        return feats, {k: head(feats) for k, head in self.heads.items()}


def _class_targets(manifest: pd.DataFrame) -> tuple[dict[str, list[str]], dict[str, np.ndarray]]:
    """Per attribute: the classes present (≥ 2 needed) and integer targets (-100 = unknown/ignored)."""
    classes: dict[str, list[str]] = {}
    targets: dict[str, np.ndarray] = {}
    for attr in ORACLE_ATTRIBUTES:
        if attr not in manifest.columns:
            continue
        values = manifest[attr].fillna("").astype(str)
        present = [c for c in _CLASS_ORDER[attr] if (values == c).any()]
        if len(present) < 2:
            continue
        index = {c: i for i, c in enumerate(present)}
        classes[attr] = present
        targets[attr] = values.map(lambda v: index.get(v, -100)).to_numpy(np.int64)
    return classes, targets


def _balanced_weights(target: np.ndarray, n_classes: int) -> torch.Tensor:
    counts = np.bincount(target[target >= 0], minlength=n_classes).astype(np.float64)
    weights = np.where(counts > 0, counts.sum() / (n_classes * np.maximum(counts, 1)), 0.0)
    return torch.tensor(weights, dtype=torch.float32)


class DomainEncoder:
    """A trained domain CNN: ``features`` (penultimate layer) and ``predict_proba`` (oracle heads).

    Attributes:
        name: extractor name recorded in every audit result (architecture, resolution, data hash, seed).
        resolution: ``(h, w)`` the images are resized to before embedding.
        classes: attribute → class names, in head order.
        info: training metadata (seed, epochs, n, final training loss/accuracy per epoch).
    """

    def __init__(self, net: _EncoderNet, *, classes: dict[str, list[str]], resolution: tuple[int, int],
                 width: int, info: dict[str, Any], device: str | None = None):
        self.device = resolve_device(device)
        self.net = net.to(self.device).eval()
        self.classes = {k: list(v) for k, v in classes.items()}
        self.resolution = (int(resolution[0]), int(resolution[1]))
        self.width = int(width)
        self.info = dict(info)
        data = str(self.info.get("train_hash", ""))[:8]
        self.name = (f"domain-cnn-w{self.width}@{self.resolution[0]}x{self.resolution[1]}"
                     f"[train:{data},seed:{self.info.get('seed')}]")

    @property
    def feature_dim(self) -> int:
        return self.net.feature_dim

    def _memo(self, kind: str, stack: np.ndarray, compute: Callable[[], Any]) -> Any:
        """``compute()`` once per (kind, image content): the audits of every arm embed the same training and
        held-out images, and one arm's features, oracle predictions and bias audit share a forward pass."""
        key = (kind, stack.shape, hashlib.blake2b(np.ascontiguousarray(stack).data, digest_size=16).hexdigest())
        memo = self.__dict__.setdefault("_memo_store", {})
        if key not in memo:
            if len(memo) >= 8:  # a few image sets per run; bound the memory all the same
                memo.pop(next(iter(memo)))
            memo[key] = compute()
        return copy.deepcopy(memo[key])

    def _forward(self, images: np.ndarray, batch_size: int = 256) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        stack = as_image_stack(images)
        return self._memo(f"forward{batch_size}", stack, lambda: self._forward_uncached(stack, batch_size))

    @torch.no_grad()
    def _forward_uncached(self, stack: np.ndarray, batch_size: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        feats, probs = [], {k: [] for k in self.classes}
        for start in range(0, len(stack), batch_size):
            x = resize_images(stack[start:start + batch_size], self.resolution).to(self.device)
            f, logits = self.net(x)
            feats.append(f.double().cpu().numpy())
            for k in self.classes:
                probs[k].append(torch.softmax(logits[k].double(), dim=1).cpu().numpy())
        empty = {k: np.zeros((0, len(c))) for k, c in self.classes.items()}
        if not feats:
            return np.zeros((0, self.feature_dim)), empty
        return np.concatenate(feats), {k: np.concatenate(v) for k, v in probs.items()}

    def features(self, images: np.ndarray) -> np.ndarray:
        """Penultimate-layer features, float64 ``[N, d]``.

        Example:
            >>> enc.features(images).shape  # doctest: +SKIP
            (100, 128)
        """
        return self._forward(images)[0]

    @torch.no_grad()
    def descriptor(self, images: np.ndarray, *, grid: int = 4, batch_size: int = 256) -> np.ndarray:
        """Instance descriptor for copy detection: unit-norm, ``grid``²-pooled activations of blocks 2–3.

        The pooled penultimate features are class-discriminative and collapse within a class, so two
        different patients' images of the same class can be closer than an image and its perturbed
        copy; spatially pooled intermediate activations describe *this* image (cosine geometry).

        Example:
            >>> enc.descriptor(images).shape  # doctest: +SKIP
            (100, 1536)
        """
        stack = as_image_stack(images)
        return self._memo(f"descriptor{grid}", stack, lambda: self._descriptor_uncached(stack, grid, batch_size))

    @torch.no_grad()
    def _descriptor_uncached(self, stack: np.ndarray, grid: int, batch_size: int) -> np.ndarray:
        taps = {7, 11}  # after the 2nd and 3rd pooling layers of the trunk
        out = []
        for start in range(0, len(stack), batch_size):
            h = (resize_images(stack[start:start + batch_size], self.resolution).to(self.device) - 0.5) / 0.25
            parts = []
            for i, layer in enumerate(self.net.trunk):
                h = layer(h)
                if i in taps:
                    parts.append(F.adaptive_avg_pool2d(h, grid).flatten(1))
            out.append(torch.cat(parts, 1).double().cpu().numpy())
        feats = np.concatenate(out) if out else np.zeros((0, 0))
        return feats / np.maximum(np.linalg.norm(feats, axis=1, keepdims=True), 1e-12)

    def predict_proba(self, images: np.ndarray) -> dict[str, pd.DataFrame]:
        """Class probabilities per oracle attribute: ``{attr: DataFrame[n, classes]}``.

        Example:
            >>> enc.predict_proba(images)["density"].idxmax(axis=1)  # doctest: +SKIP
        """
        _, probs = self._forward(images)
        return {k: pd.DataFrame(p, columns=self.classes[k]) for k, p in probs.items()}

    def predict(self, images: np.ndarray) -> dict[str, np.ndarray]:
        """Most probable class per attribute (array of class names)."""
        return {k: df.idxmax(axis=1).to_numpy(dtype=object) if len(df) else np.array([], dtype=object)
                for k, df in self.predict_proba(images).items()}

    def save(self, path: str | Path) -> None:
        """Write weights and metadata atomically (loadable with ``torch.load(weights_only=True)``)."""
        payload = {"format": _FORMAT, "version": _FORMAT_VERSION, "classes": self.classes,
                   "resolution": list(self.resolution), "width": self.width, "info": self.info,
                   "state_dict": {k: v.detach().cpu() for k, v in self.net.state_dict().items()}}
        buf = io.BytesIO()
        torch.save(payload, buf)
        atomic_write_bytes(path, buf.getvalue())

    @classmethod
    def load(cls, path: str | Path, *, device: str | None = None) -> "DomainEncoder":
        """Load a file written by :meth:`save`.

        Raises:
            DataError: when the file is missing, unreadable or not a domain-encoder file.
        """
        path = Path(path)
        if not path.is_file():
            raise DataError(f"{path}: domain encoder file not found; train one with train_domain_encoder()")
        try:
            payload = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as err:  # torch raises many types for corrupt files
            raise DataError(f"{path}: cannot read domain encoder ({err}); delete it to retrain") from err
        if not isinstance(payload, dict) or payload.get("format") != _FORMAT:
            raise DataError(f"{path}: not a MammoBench domain-encoder file (format {_FORMAT!r} expected)")
        classes = {k: list(v) for k, v in payload["classes"].items()}
        net = _EncoderNet({k: len(v) for k, v in classes.items()}, width=int(payload["width"]))
        net.load_state_dict(payload["state_dict"])
        return cls(net, classes=classes, resolution=tuple(payload["resolution"]), width=int(payload["width"]),
                   info=payload["info"], device=device)


def view_hash(train_view: Any) -> str:
    """Identify the training data: the view's manifest hash, else a hash of its images and ids."""
    if getattr(train_view, "manifest_hash", ""):
        return str(train_view.manifest_hash)
    ids = train_view.manifest.get("image_id", pd.Series(range(len(train_view)))).astype(str).tolist()
    return sha256_bytes(np.ascontiguousarray(train_view.images).tobytes() + "|".join(ids).encode())


def _train_epochs(net: _EncoderNet, x: torch.Tensor, targets: dict[str, torch.Tensor],
                  weights: dict[str, torch.Tensor], *, epochs: int, batch_size: int, lr: float,
                  gen: torch.Generator) -> list[dict[str, float]]:
    """Seeded AdamW training with vertical-flip augmentation; returns per-epoch loss/accuracy."""
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=max(1, epochs * -(-len(x) // batch_size)))
    history = []
    for epoch in range(epochs):
        net.train()
        order = torch.randperm(len(x), generator=gen)
        total, correct, seen = 0.0, {k: 0 for k in targets}, {k: 0 for k in targets}
        for start in range(0, len(x), batch_size):
            idx = order[start:start + batch_size]
            xb = x[idx]
            flip = (torch.rand(len(idx), generator=gen) < 0.5).to(x.device)
            xb = torch.where(flip[:, None, None, None], xb.flip(-2), xb)
            _, logits = net(xb)
            loss = sum(F.cross_entropy(logits[k], targets[k][idx], weight=weights[k], ignore_index=-100)
                       for k in targets if (targets[k][idx] >= 0).any())
            opt.zero_grad()
            if torch.is_tensor(loss):
                loss.backward()
                opt.step()
                total += float(loss.detach()) * len(idx)
            sched.step()
            for k in targets:
                ok = targets[k][idx] >= 0
                correct[k] += int((logits[k].argmax(1)[ok] == targets[k][idx][ok]).sum())
                seen[k] += int(ok.sum())
        history.append({"epoch": epoch, "loss": total / len(x),
                        **{f"acc_{k}": correct[k] / max(seen[k], 1) for k in targets}})
    return history


def train_domain_encoder(train_view: Any, *, seed: int, epochs: int = 15, device: str | None = None,
                         resolution: tuple[int, int] | int | None = None, width: int = 16,
                         batch_size: int = 32, lr: float = 3e-3) -> DomainEncoder:
    """Train the domain encoder / oracle on a :class:`~mammobench.protocols.TrainView`.

    Args:
        train_view: the real training split (manifest rows with density, lesion_type, label + images).
        seed: seeds weight initialisation, shuffling and augmentation (no global RNG is touched).
        epochs: passes over the training images.
        device: ``"cpu"``, ``"cuda"`` …; default CUDA when available.
        resolution: ``(h, w)`` or longest side; default keeps the aspect ratio with longest side 64.
        width: channels of the first conv block (features have ``8 * width`` dimensions).

    Raises:
        DataError: when the view is empty or has no attribute with two or more known classes.

    Example:
        >>> enc = train_domain_encoder(view, seed=0, epochs=10)  # doctest: +SKIP
        >>> enc.predict_proba(holdout_images)["density"]  # doctest: +SKIP
    """
    images = as_image_stack(train_view.images, source="train_view.images")
    if len(images) < 2:
        raise DataError(f"train_domain_encoder: the training view has {len(images)} image(s); need at least 2")
    classes, targets_np = _class_targets(train_view.manifest)
    if not classes:
        raise DataError("train_domain_encoder: no oracle attribute (density, lesion_type, label) has two or more "
                        "known classes in the training manifest; the encoder needs labelled training images")
    if resolution is None or isinstance(resolution, int):
        resolution = default_resolution(images.shape[1:], resolution or 64)
    dev = resolve_device(device)
    x = resize_images(images, tuple(resolution)).to(dev)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = _EncoderNet({k: len(v) for k, v in classes.items()}, width=width).to(dev)
    gen = torch.Generator().manual_seed(seed)
    targets = {k: torch.from_numpy(v.copy()).to(dev) for k, v in targets_np.items()}
    weights = {k: _balanced_weights(v, len(classes[k])).to(dev) for k, v in targets_np.items()}
    history = _train_epochs(net, x, targets, weights, epochs=epochs, batch_size=batch_size, lr=lr, gen=gen)
    info = {"seed": int(seed), "epochs": int(epochs), "n_train": int(len(images)), "lr": lr,
            "batch_size": batch_size, "train_hash": view_hash(train_view), "history": history}
    return DomainEncoder(net, classes=classes, resolution=tuple(resolution), width=width, info=info,
                         device=str(dev))


def load_or_train_domain_encoder(train_view: Any, *, seed: int, cache_dir: str | Path, epochs: int = 15,
                                 device: str | None = None, **kwargs: Any) -> DomainEncoder:
    """Cached :func:`train_domain_encoder`, keyed by (training data hash, seed, epochs, options).

    Example:
        >>> enc = load_or_train_domain_encoder(view, seed=0, cache_dir="runs/.cache")  # doctest: +SKIP
    """
    key = sha256_json({"data": view_hash(train_view), "seed": seed, "epochs": epochs, "format": _FORMAT_VERSION,
                       "options": {k: list(v) if isinstance(v, tuple) else v for k, v in sorted(kwargs.items())}})
    path = Path(cache_dir) / f"domain_encoder_{key[:16]}.pt"
    if path.is_file():
        try:
            return DomainEncoder.load(path, device=device)
        except DataError:
            pass  # corrupt cache entry: retrain and overwrite
    encoder = train_domain_encoder(train_view, seed=seed, epochs=epochs, device=device, **kwargs)
    encoder.save(path)
    return encoder
