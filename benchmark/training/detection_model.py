"""The lesion detection recipe: a timm backbone with a CenterNet-style heatmap head.

:class:`HeatmapDetector` (registered as ``timm_centernet``) builds a :class:`CenterNet`: a timm
``features_only`` backbone (one input channel, ``pretrained=False``; weights only from a local file),
a light feature pyramid that projects the stride-4, 8 and 16 maps to one stride-4 map, and three 1×1
heads per output cell — a lesion-centre logit (the heatmap), the box size (log width, log height, in
output cells) and the sub-cell offset of the centre. :func:`decode_marks` turns the outputs into
*marks*: local maxima of the heatmap (3×3 max-pool non-maximum suppression, as in CenterNet), the
``max_marks`` highest per image, each with its centre ``(x, y)`` in input pixels, a box and a score in
[0, 1] (:func:`decode_fields`: the same numbers as one tensor). The image-level score is the highest
mark score.

Why this design (docs/detection.md): it is fully convolutional, so the same weights run on a 96-px CPU
image and a full-resolution GPU image; it trains from the lesion boxes every dataset provides (a mask
gives its box); it needs no anchors or proposal stage, and its cost is the backbone's.

Example:
    >>> import torch
    >>> net = HeatmapDetector().build(arch="test_resnet")
    >>> out = net(torch.zeros(2, 1, 64, 64))
    >>> tuple(out.shape), net.stride
    ((2, 5, 16, 16), 4)
    >>> marks = decode_marks(out, stride=net.stride, max_marks=3)
    >>> len(marks), sorted(marks[0][0])
    (2, ['score', 'x', 'x0', 'x1', 'y', 'y0', 'y1'])
"""
from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from mammobench.errors import ConfigError
from mammobench.training.detectors import check_timm_arch, load_local_weights

PRIOR = 0.01          # initial heatmap probability (CenterNet's focal-loss bias init)
OUT_CHANNELS = 5      # heatmap logit, log w, log h, offset x, offset y


class CenterNet(nn.Module):
    """Backbone + feature pyramid + heatmap/size/offset heads; output ``[N, 5, H/4, W/4]``."""

    def __init__(self, backbone: nn.Module, width: int = 32):
        super().__init__()
        self.backbone = backbone
        channels = backbone.feature_info.channels()
        self.stride = int(backbone.feature_info.reduction()[0])
        self.lateral = nn.ModuleList(nn.Conv2d(c, width, 1) for c in channels)
        self.smooth = nn.Sequential(nn.Conv2d(width, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(inplace=True))
        self.head = nn.Conv2d(width, OUT_CHANNELS, 1)
        with torch.no_grad():
            self.head.bias.zero_()
            self.head.bias[0] = -math.log((1 - PRIOR) / PRIOR)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = self.backbone(x)
        size = feats[0].shape[-2:]
        fused = self.lateral[0](feats[0])
        for lateral, feat in zip(self.lateral[1:], feats[1:]):
            fused = fused + F.interpolate(lateral(feat), size=size, mode="nearest")
        return self.head(self.smooth(fused))


class HeatmapDetector:
    """Detection recipe: ``build(arch, weights)`` → :class:`CenterNet` on a timm ``features_only`` backbone.

    ``kind = "detection"`` tells the pipeline that cells of this recipe write marks (``marks.csv``)
    and train on lesion boxes. Any timm architecture with a stride-4 feature map works; small ones
    (``test_resnet``) keep CPU runs fast.
    """

    name = "timm_centernet"
    kind = "detection"
    out_indices = (1, 2, 3)  # strides 4, 8, 16 on resnet-like timm backbones

    def build(self, *, arch: str, weights: str | None = None) -> CenterNet:
        """Create the network; ``weights`` is an optional local state dict (backbone keys or whole model)."""
        import timm

        check_timm_arch(arch)
        backbone = timm.create_model(arch, pretrained=False, in_chans=1, features_only=True,
                                     out_indices=self.out_indices)
        if backbone.feature_info.reduction()[0] != 4:
            raise ConfigError(f"detector.arch: {arch} has no stride-4 feature map (strides "
                              f"{backbone.feature_info.reduction()}); pick a resnet/efficientnet-like timm model")
        net = CenterNet(backbone)
        if weights:
            missing = load_local_weights(net, weights)
            if len(missing) == len(net.state_dict()):
                load_local_weights(net.backbone, weights)
        return net


def _peaks(heat: torch.Tensor, kernel: int = 3) -> torch.Tensor:
    """Keep only the local maxima of ``heat`` (``[N, 1, h, w]`` probabilities); others become 0."""
    pooled = F.max_pool2d(heat, kernel, stride=1, padding=kernel // 2)
    return heat * (pooled == heat)


MARK_FIELDS = ("x", "y", "x0", "y0", "x1", "y1", "score")  # the columns of decode_fields' last axis


@torch.no_grad()
def decode_fields(out: torch.Tensor, *, stride: int, max_marks: int = 10) -> torch.Tensor:
    """Marks per image as one float32 tensor ``[N, k, 7]`` (columns :data:`MARK_FIELDS`), highest score first.

    The array form of :func:`decode_marks` (which turns exactly these numbers into dicts), for callers
    that score many marks at once; ``k = min(max_marks, h·w)``.

    Example:
        >>> decode_fields(torch.zeros(2, 5, 4, 4), stride=4, max_marks=3).shape
        torch.Size([2, 3, 7])
    """
    out = out.float()
    heat = _peaks(torch.sigmoid(out[:, :1]))
    n, _, h, w = heat.shape
    k = min(int(max_marks), h * w)
    scores, index = heat.view(n, -1).topk(k, dim=1)
    rows, cols = (index // w).float(), (index % w).float()
    flat = out[:, 1:].reshape(n, 4, -1)
    pick = flat.gather(2, index[:, None, :].expand(n, 4, k))
    size = torch.exp(pick[:, :2].clamp(-4.0, 6.0)) * stride
    cx = (cols + 0.5 + pick[:, 2].clamp(-1.0, 1.0)) * stride
    cy = (rows + 0.5 + pick[:, 3].clamp(-1.0, 1.0)) * stride
    return torch.stack([cx, cy, cx - size[:, 0] / 2, cy - size[:, 1] / 2, cx + size[:, 0] / 2,
                        cy + size[:, 1] / 2, scores], dim=2)


def decode_marks(out: torch.Tensor, *, stride: int, max_marks: int = 10) -> list[list[dict]]:
    """Marks per image from the network output ``[N, 5, h, w]``, highest score first.

    Each mark: ``x, y`` (centre in input pixels), ``x0, y0, x1, y1`` (box in input pixels) and
    ``score`` (heatmap probability at the peak). Exactly ``min(max_marks, h·w)`` marks per image.

    Example:
        >>> [sorted(m) for m in decode_marks(torch.zeros(1, 5, 4, 4), stride=4, max_marks=1)[0]]
        [['score', 'x', 'x0', 'x1', 'y', 'y0', 'y1']]
    """
    fields = decode_fields(out, stride=stride, max_marks=max_marks).cpu().tolist()
    return [[dict(zip(MARK_FIELDS, mark)) for mark in image] for image in fields]


__all__ = ["CenterNet", "HeatmapDetector", "MARK_FIELDS", "decode_fields", "decode_marks"]
