"""Conditional GAN networks for lesion patches: generator and projection discriminator.

The generator maps noise plus summed condition embeddings to a ``size × size`` patch in [0, 1].
The discriminator (spectral norm everywhere) scores ``ψ(φ(x)) + Σ_a ⟨embed_a(y_a), φ(x)⟩`` — the
projection discriminator of Miyato & Koyama (2018), one projection term per condition attribute.

Example:
    >>> import torch
    >>> g, d = PatchGenerator([4, 4, 5], size=16, width=8), ProjectionDiscriminator([4, 4, 5], size=16, width=8)
    >>> y = torch.zeros(2, 3, dtype=torch.long)
    >>> x = g(torch.randn(2, g.z_dim), y)
    >>> x.shape, d(x, y).shape
    (torch.Size([2, 1, 16, 16]), torch.Size([2]))
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import spectral_norm


class PatchGenerator(nn.Module):
    """z ⊕ Σ embeddings → 4×4 features → (upsample, conv, BN, ReLU)× → sigmoid patch."""

    def __init__(self, vocab_sizes: list[int], *, size: int = 32, width: int = 32, z_dim: int = 64):
        super().__init__()
        self.z_dim, self.width = z_dim, width
        self.embeds = nn.ModuleList(nn.Embedding(k, z_dim) for k in vocab_sizes)
        n_up = max(int(size).bit_length() - 3, 1)  # 4 → size
        self.fc = nn.Linear(2 * z_dim, 4 * 4 * width * 4)
        blocks, ch = [], width * 4
        for _ in range(n_up):
            out = max(ch // 2, width)
            blocks += [nn.Upsample(scale_factor=2), nn.Conv2d(ch, out, 3, padding=1), nn.BatchNorm2d(out), nn.ReLU()]
            ch = out
        self.body = nn.Sequential(nn.BatchNorm2d(width * 4), nn.ReLU(), *blocks, nn.Conv2d(ch, 1, 3, padding=1))

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        emb = sum(e(y[:, i]) for i, e in enumerate(self.embeds))
        h = self.fc(torch.cat([z, emb], dim=1)).view(len(z), self.width * 4, 4, 4)
        return torch.sigmoid(self.body(h))


class ProjectionDiscriminator(nn.Module):
    """Spectral-norm conv stack, global sum pool, linear score plus per-attribute projections."""

    def __init__(self, vocab_sizes: list[int], *, size: int = 32, width: int = 32):
        super().__init__()
        layers, ch = [], 1
        for i in range(max(int(size).bit_length() - 3, 1)):
            out = width * 2 ** min(i, 2)
            layers += [spectral_norm(nn.Conv2d(ch, out, 3, padding=1)), nn.LeakyReLU(0.2),
                       spectral_norm(nn.Conv2d(out, out, 4, stride=2, padding=1)), nn.LeakyReLU(0.2)]
            ch = out
        self.body = nn.Sequential(*layers)
        self.linear = spectral_norm(nn.Linear(ch, 1))
        self.embeds = nn.ModuleList(spectral_norm(nn.Embedding(k, ch)) for k in vocab_sizes)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        h = self.body(x * 2 - 1).sum(dim=(2, 3))
        score = self.linear(h).squeeze(1)
        for i, e in enumerate(self.embeds):
            score = score + (e(y[:, i]) * h).sum(dim=1)
        return score
