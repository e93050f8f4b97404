"""User-supplied local timm weights as a features-only extractor (Inception, RadImageNet, SwAV …).

MammoBench never downloads weights: the user names a checkpoint file and a timm architecture.
Grayscale images are replicated to three channels, resized with the harness's one resize
(:func:`mammobench.torchutil.resize_images`) and normalised with the architecture's mean/std.
The extractor's name records the architecture, the file's SHA-256 prefix and the resolution.

Example:
    >>> enc = load_timm_encoder("weights/inception_v3.pth", "inception_v3", resolution=299)  # doctest: +SKIP
    >>> enc.features(images).shape  # doctest: +SKIP
    (100, 2048)
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from mammobench.audits.encoder import FeatureExtractor, as_image_stack
from mammobench.errors import ConfigError
from mammobench.io import sha256_file
from mammobench.torchutil import resize_images, resolve_device

__all__ = ["TimmFeatureEncoder", "load_timm_encoder"]


def _unwrap_state_dict(payload: Any, path: Path) -> dict[str, torch.Tensor]:
    """Accept a bare state dict or one nested under 'state_dict' / 'model'; strip 'module.' prefixes."""
    for key in ("state_dict", "model", "model_state_dict"):
        if isinstance(payload, dict) and isinstance(payload.get(key), dict):
            payload = payload[key]
    if not isinstance(payload, dict) or not all(torch.is_tensor(v) for v in payload.values()):
        raise ConfigError(f"{path}: not a state dict of tensors; save weights with torch.save(model.state_dict())")
    return {k.removeprefix("module."): v for k, v in payload.items()}


class TimmFeatureEncoder:
    """A timm backbone with its classifier removed; ``features`` returns the pooled embedding."""

    def __init__(self, model: nn.Module, *, name: str, resolution: int, device: str | None = None):
        self.device = resolve_device(device)
        self.model = model.to(self.device).eval()
        self.name = name
        self.resolution = (int(resolution), int(resolution))
        cfg = getattr(model, "pretrained_cfg", {}) or {}
        self._mean = torch.tensor(cfg.get("mean", (0.485, 0.456, 0.406)), dtype=torch.float32).view(1, 3, 1, 1)
        self._std = torch.tensor(cfg.get("std", (0.229, 0.224, 0.225)), dtype=torch.float32).view(1, 3, 1, 1)

    @classmethod
    def from_checkpoint(cls, checkpoint_path: str | Path, arch: str, *, resolution: int = 224,
                        device: str | None = None) -> "TimmFeatureEncoder":
        """Build ``arch`` with ``pretrained=False`` and load the local file into it.

        Raises:
            ConfigError: missing file, unknown architecture, or weights that do not match it.
        """
        import timm

        path = Path(checkpoint_path)
        if not path.is_file():
            raise ConfigError(f"{path}: checkpoint file not found; MammoBench never downloads weights — "
                              f"download the '{arch}' weights yourself and pass the local file path")
        try:
            model = timm.create_model(arch, pretrained=False, num_classes=0)
        except Exception as err:  # timm raises RuntimeError/KeyError for unknown names
            raise ConfigError(f"unknown timm architecture '{arch}' ({err}); see timm.list_models()") from err
        try:
            payload = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as err:
            raise ConfigError(f"{path}: cannot read checkpoint ({err})") from err
        state = _unwrap_state_dict(payload, path)
        result = model.load_state_dict(state, strict=False)
        if result.missing_keys:
            raise ConfigError(f"{path}: weights do not fit timm '{arch}': {len(result.missing_keys)} missing "
                              f"parameter(s), e.g. {result.missing_keys[:3]}; check the architecture name")
        name = f"timm:{arch}[sha256:{sha256_file(path)[:12]}]@{resolution}x{resolution}"
        return cls(model, name=name, resolution=resolution, device=device)

    @torch.no_grad()
    def features(self, images: np.ndarray, batch_size: int = 64) -> np.ndarray:
        """Pooled backbone features, float64 ``[N, d]``."""
        stack = as_image_stack(images)
        out = []
        for start in range(0, len(stack), batch_size):
            x = resize_images(stack[start:start + batch_size], self.resolution).expand(-1, 3, -1, -1)
            x = ((x - self._mean) / self._std).to(self.device)
            out.append(self.model(x).double().cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, int(getattr(self.model, "num_features", 0))))


def load_timm_encoder(checkpoint_path: str | Path, arch: str, *, resolution: int = 224,
                      device: str | None = None) -> FeatureExtractor:
    """Wrap user-supplied local timm weights as a features-only extractor (never downloads).

    Raises:
        ConfigError: when the file is missing, the architecture is unknown or the weights do not fit it.

    Example:
        >>> enc = load_timm_encoder("weights/inception_v3.pth", "inception_v3", resolution=299)  # doctest: +SKIP
    """
    return TimmFeatureEncoder.from_checkpoint(checkpoint_path, arch, resolution=resolution, device=device)
