"""A tiny conditional UNet and the DDIM / RePaint samplers, in plain torch.

Noise schedule: cosine (Nichol & Dhariwal 2021) over ``T`` steps; the network predicts ε.
Conditioning: summed embeddings of (lesion type, label, density) added to the time embedding;
code 0 of each vocabulary is the null token, so classifier-free guidance (Ho & Salimans 2022)
uses ``ε_u + w (ε_c − ε_u)``. Sampling: deterministic DDIM (η = 0, Song et al. 2021) on a few
evenly spaced steps. Inpainting: RePaint (Lugmayr et al. 2022) — at every step the known region
is replaced by the forward-noised context, with ``resample`` jumps back to harmonise the seam.

Example:
    >>> import torch
    >>> net = TinyUNet([3, 3, 5], width=8)
    >>> x = torch.randn(2, 1, 16, 16)
    >>> net(x, torch.tensor([5, 9]), torch.zeros(2, 3, dtype=torch.long)).shape
    torch.Size([2, 1, 16, 16])
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def cosine_alpha_bar(steps: int) -> torch.Tensor:
    """Cumulative signal fraction ᾱ_t for t = 0..steps-1 (cosine schedule)."""
    t = torch.arange(steps + 1, dtype=torch.float64) / steps
    f = torch.cos((t + 0.008) / 1.008 * math.pi / 2) ** 2
    return (f[1:] / f[0]).clamp(1e-5, 0.9999).float()


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, device=t.device) / half)
    args = t.float()[:, None] * freqs[None]
    return torch.cat([torch.sin(args), torch.cos(args)], dim=1)


class ResBlock(nn.Module):
    def __init__(self, cin: int, cout: int, emb: int):
        super().__init__()
        self.n1, self.c1 = nn.GroupNorm(min(8, cin), cin), nn.Conv2d(cin, cout, 3, padding=1)
        self.proj = nn.Linear(emb, cout)
        self.n2, self.c2 = nn.GroupNorm(min(8, cout), cout), nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
        h = self.c1(F.silu(self.n1(x))) + self.proj(e)[:, :, None, None]
        return self.skip(x) + self.c2(F.silu(self.n2(h)))


class TinyUNet(nn.Module):
    """Two resolution levels, one residual block each, conditional through the time embedding."""

    def __init__(self, vocab_sizes: list[int], *, width: int = 32):
        super().__init__()
        w, emb = width, 4 * width
        self.emb_dim = emb
        self.time = nn.Sequential(nn.Linear(emb, emb), nn.SiLU(), nn.Linear(emb, emb))
        self.embeds = nn.ModuleList(nn.Embedding(k, emb) for k in vocab_sizes)
        self.inc = nn.Conv2d(1, w, 3, padding=1)
        self.d1, self.down1 = ResBlock(w, w, emb), nn.Conv2d(w, 2 * w, 3, stride=2, padding=1)
        self.d2, self.down2 = ResBlock(2 * w, 2 * w, emb), nn.Conv2d(2 * w, 2 * w, 3, stride=2, padding=1)
        self.mid = ResBlock(2 * w, 2 * w, emb)
        self.up2, self.u2 = nn.Conv2d(2 * w, 2 * w, 3, padding=1), ResBlock(4 * w, 2 * w, emb)
        self.up1, self.u1 = nn.Conv2d(2 * w, w, 3, padding=1), ResBlock(2 * w, w, emb)
        self.out = nn.Sequential(nn.GroupNorm(min(8, w), w), nn.SiLU(), nn.Conv2d(w, 1, 3, padding=1))

    def forward(self, x: torch.Tensor, t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        e = self.time(timestep_embedding(t, self.emb_dim)) + sum(m(y[:, i]) for i, m in enumerate(self.embeds))
        h0 = self.d1(self.inc(x), e)
        h1 = self.d2(self.down1(h0), e)
        h = self.mid(self.down2(h1), e)
        h = self.u2(torch.cat([self.up2(F.interpolate(h, scale_factor=2.0)), h1], 1), e)
        h = self.u1(torch.cat([self.up1(F.interpolate(h, scale_factor=2.0)), h0], 1), e)
        return self.out(h)


def guided_eps(net: TinyUNet, x: torch.Tensor, t: int, y: torch.Tensor, guidance: float) -> torch.Tensor:
    """Classifier-free guided ε prediction (one batched pass for conditional + unconditional)."""
    tt = torch.full((len(x),), t, device=x.device, dtype=torch.long)
    if guidance == 1.0:
        return net(x, tt, y).float()
    eps = net(torch.cat([x, x]), torch.cat([tt, tt]), torch.cat([y, torch.zeros_like(y)])).float()
    cond, uncond = eps.chunk(2)
    return uncond + guidance * (cond - uncond)


def ddim_timesteps(total: int, steps: int) -> list[int]:
    """Evenly spaced timesteps from T-1 down to 0."""
    return sorted({int(round(v)) for v in torch.linspace(0, total - 1, steps).tolist()}, reverse=True)


def ddim_sample(net: TinyUNet, y: torch.Tensor, shape: tuple[int, ...], *, alpha_bar: torch.Tensor, steps: int,
                guidance: float, gen: torch.Generator, known: torch.Tensor | None = None,
                mask: torch.Tensor | None = None, resample: int = 1) -> torch.Tensor:
    """DDIM (η = 0) sampling in [-1, 1]; with ``known``/``mask`` (1 = generate) it inpaints RePaint-style."""
    dev = y.device
    ab = alpha_bar.to(dev)
    x = torch.randn(shape, generator=gen).to(dev)
    ts = ddim_timesteps(len(ab), steps)
    for i, t in enumerate(ts):
        prev = ts[i + 1] if i + 1 < len(ts) else -1
        a_t, a_prev = ab[t], (ab[prev] if prev >= 0 else torch.tensor(1.0, device=dev))
        for r in range(resample if known is not None else 1):
            if known is not None:
                noised = a_t.sqrt() * known + (1 - a_t).sqrt() * torch.randn(shape, generator=gen).to(dev)
                x = mask * x + (1 - mask) * noised
            eps = guided_eps(net, x, t, y, guidance)
            x0 = ((x - (1 - a_t).sqrt() * eps) / a_t.sqrt()).clamp(-1, 1)
            x_prev = a_prev.sqrt() * x0 + (1 - a_prev).sqrt() * eps
            if r + 1 < resample and known is not None and prev >= 0:  # jump back: re-noise t_prev → t
                ratio = a_t / a_prev
                x = ratio.sqrt() * x_prev + (1 - ratio).sqrt() * torch.randn(shape, generator=gen).to(dev)
            else:
                x = x_prev
    return x if known is None else mask * x + (1 - mask) * known
