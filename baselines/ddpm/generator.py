"""``ddpm``: a small conditional diffusion model for lesion patches, inpainted into normal tissue.

Fit: the same lesion-centred patches as ``cgan`` (plus normal tissue patches), an ε-prediction
TinyUNet with a cosine schedule, condition dropout for classifier-free guidance, batches balanced
over lesion types; and the background model (default: synthetic tissue per density,
:class:`mammobench.generators.backgrounds.SpectralBackgrounds`). Sample: draw a background for the
requested density, cut the context window where the lesion goes and **inpaint** the lesion into it
(DDIM with few steps, RePaint-style known-region replacement, guidance on lesion type / label /
density), then blend it back (exact box). ``background="training"`` uses real training normals
instead (every image then derives from a patient's image).

Example:
    >>> from mammobench.generators.fixtures import make_tiny_train_view
    >>> gen = ConditionalDDPM(**ConditionalDDPM.tiny_config()).fit(make_tiny_train_view(n=16), seed=0)
    >>> gen.sample(2, seed=0).images.shape
    (2, 1, 32, 32)
"""
from __future__ import annotations

import time

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from mammobench.baselines.cgan.generator import augment_patches, balanced_weights
from mammobench.baselines.ddpm.unet import TinyUNet, cosine_alpha_bar, ddim_sample
from mammobench.generators.base import GeneratorMixin
from mammobench.generators.compose import ConditionCodes, background_from_state, background_source, compose_images
from mammobench.generators.conditions import labels_frame, resolve_conditions
from mammobench.generators.insertion import extract_patches, soft_disk
from mammobench.protocols import CONDITION_COLUMNS, GeneratorTags, SyntheticBatch, TrainView
from mammobench.resources import resource_path
from mammobench.torchutil import autocast, eval_mode, resolve_device, seeded


class ConditionalDDPM(GeneratorMixin):
    """Conditional DDPM on lesion patches with CFG, DDIM and RePaint inpainting."""

    tags = GeneratorTags(requires_fit=True, conditional_on=CONDITION_COLUMNS, produces_boxes=True)
    card_path = resource_path(__package__, "card.yaml")

    def __init__(self, patch_size: int = 32, width: int = 16, timesteps: int = 1000, steps: int = 500,
                 batch_size: int = 48, lr: float = 1e-3, cond_drop: float = 0.15, sample_steps: int = 10,
                 guidance: float = 2.0, inpaint: bool = True, resample: int = 1, normals_per_image: int = 1,
                 max_backgrounds: int = 256, background: str = "synthetic", device: str = "auto"):
        self.patch_size = patch_size
        self.width = width
        self.timesteps = timesteps
        self.steps = steps
        self.batch_size = batch_size
        self.lr = lr
        self.cond_drop = cond_drop
        self.sample_steps = sample_steps
        self.guidance = guidance
        self.inpaint = inpaint
        self.resample = resample
        self.normals_per_image = normals_per_image
        self.max_backgrounds = max_backgrounds
        self.background = background
        self.device = device

    @classmethod
    def tiny_config(cls) -> dict:
        """Seconds-scale settings for conformance tests."""
        return {"patch_size": 16, "width": 8, "timesteps": 100, "steps": 30, "batch_size": 16, "sample_steps": 4,
                "max_backgrounds": 32}

    def _net(self, seed: int = 0) -> TinyUNet:
        return seeded(seed, lambda: TinyUNet(ConditionCodes(self.vocab_).sizes(), width=self.width))

    def fit(self, data: TrainView, *, seed: int) -> "ConditionalDDPM":
        self.record_training_data(data)
        rng = np.random.default_rng(seed)
        patches, table = extract_patches(data, self.patch_size, rng, self.normals_per_image)
        codes = ConditionCodes.from_table(table)
        self.vocab_ = codes.vocab
        self.conditions_ = {c: data.manifest[c].fillna("").astype(str).tolist() for c in CONDITION_COLUMNS}
        self.bank_ = background_source(data, self.background, max_images=self.max_backgrounds, seed=seed).to_state()
        dev = resolve_device(self.device)
        net = self._net(seed).to(dev)
        x_all = torch.from_numpy(patches)[:, None].to(dev) * 2 - 1
        y_all = torch.from_numpy(codes.encode(table)).to(dev)
        self.history_ = self._train(net, x_all, y_all, balanced_weights(table["lesion_type"]), seed, dev)
        self.weights_ = {k: v.detach().cpu() for k, v in net.state_dict().items()}
        return self

    def _train(self, net: TinyUNet, x_all, y_all, weights, seed: int, dev: torch.device) -> dict:
        gen = torch.Generator().manual_seed(seed)
        ab = cosine_alpha_bar(self.timesteps).to(dev)
        opt = torch.optim.AdamW(net.parameters(), lr=self.lr, weight_decay=0.0)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=self.lr, total_steps=max(self.steps, 1), pct_start=0.1)
        history: dict[str, list[float]] = {"step": [], "loss": [], "seconds": []}
        start, running = time.perf_counter(), None
        for step in range(self.steps):
            idx = torch.multinomial(weights, self.batch_size, replacement=True, generator=gen).to(dev)
            x0, y = augment_patches(x_all[idx], gen), y_all[idx].clone()
            drop = (torch.rand(len(y), generator=gen) < self.cond_drop).to(dev)
            y[drop] = 0
            t = torch.randint(self.timesteps, (len(x0),), generator=gen).to(dev)
            noise = torch.randn(x0.shape, generator=gen).to(dev)
            a = ab[t][:, None, None, None]
            with autocast(dev):
                loss = F.mse_loss(net(a.sqrt() * x0 + (1 - a).sqrt() * noise, t, y).float(), noise)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            running = loss.item() if running is None else 0.95 * running + 0.05 * loss.item()
            if step % max(self.steps // 50, 1) == 0 or step == self.steps - 1:
                history["step"].append(float(step))
                history["loss"].append(float(running))
                history["seconds"].append(time.perf_counter() - start)
        return history

    def generate_patches(self, table: pd.DataFrame, context: np.ndarray | None = None, *, seed: int) -> np.ndarray:
        """Patches ``[n, s, s]`` in [0, 1]; with ``context`` the lesion is inpainted into it."""
        dev = resolve_device(self.device)
        net = self._net()
        net.load_state_dict(self.weights_)
        net.to(dev)
        gen = torch.Generator().manual_seed(int(seed))
        y = torch.from_numpy(ConditionCodes(self.vocab_).encode(table)).to(dev)
        shape = (len(table), 1, self.patch_size, self.patch_size)
        known = mask = None
        if context is not None and self.inpaint:
            known = torch.from_numpy(np.asarray(context, np.float32))[:, None].to(dev) * 2 - 1
            mask = torch.from_numpy(soft_disk(self.patch_size, radius=0.36, softness=0.12))[None, None].to(dev)
        with eval_mode(net), autocast(dev):
            out = ddim_sample(net, y, shape, alpha_bar=cosine_alpha_bar(self.timesteps), steps=self.sample_steps,
                              guidance=self.guidance, gen=gen, known=known, mask=mask, resample=self.resample)
        return ((out.float()[:, 0].clamp(-1, 1) + 1) / 2).cpu().numpy()

    def sample(self, n: int, *, conditions: pd.DataFrame | None = None, seed: int) -> SyntheticBatch:
        rng = np.random.default_rng(seed)
        rows = resolve_conditions(n, conditions, pd.DataFrame(self.conditions_), rng)
        patch_seed = int(rng.integers(2**31))
        make = lambda table, context: self.generate_patches(table, context, seed=patch_seed)  # noqa: E731
        images, findings = compose_images(rows, background_from_state(self.bank_), make,
                                          patch_size=self.patch_size, rng=rng, inpainted=self.inpaint)
        return SyntheticBatch(images, labels_frame(rows, findings), {"generator": "ddpm", "seed": seed})
