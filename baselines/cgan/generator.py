"""``cgan``: a conditional GAN for lesion patches, inserted into normal tissue.

Fit: cut patches around every training finding (plus tissue patches from normal images), train a
conditional generator / projection discriminator pair (hinge loss, spectral norm) conditioned on
lesion type, pathology label and density, sampling batches balanced over lesion types; and fit the
background model (default: synthetic tissue per density, :class:`mammobench.generators.backgrounds.SpectralBackgrounds`).
Sample: draw a background for the requested density, generate a lesion patch for the requested
(lesion type, label, density), and add it to the tissue (excess density under a soft mask, exact
box); normal rows get the background alone. Output is at the TrainView's resolution.
``background="training"`` inserts into real training normals instead (every image then derives from
a patient's image, which the memorisation audit reports).

Example:
    >>> from mammobench.generators.fixtures import make_tiny_train_view
    >>> gen = ConditionalGAN(**ConditionalGAN.tiny_config()).fit(make_tiny_train_view(n=16), seed=0)
    >>> gen.sample(2, seed=0).images.shape
    (2, 1, 32, 32)
"""
from __future__ import annotations

import time

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from mammobench.baselines.cgan.networks import PatchGenerator, ProjectionDiscriminator
from mammobench.generators.base import GeneratorMixin
from mammobench.generators.compose import ConditionCodes, background_from_state, background_source, compose_images
from mammobench.generators.conditions import labels_frame, resolve_conditions
from mammobench.generators.insertion import extract_patches
from mammobench.protocols import CONDITION_COLUMNS, GeneratorTags, SyntheticBatch, TrainView
from mammobench.resources import resource_path
from mammobench.torchutil import autocast, eval_mode, resolve_device, seeded


def balanced_weights(types: pd.Series) -> torch.Tensor:
    """Sampling weights giving every lesion type the same share of each batch."""
    counts = types.value_counts()
    return torch.tensor((1.0 / types.map(counts)).to_numpy(), dtype=torch.double)


def augment_patches(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Random flips and 90° rotations (lesion patches have no preferred orientation)."""
    k = int(torch.randint(4, (1,), generator=gen))
    x = torch.rot90(x, k, dims=(2, 3))
    return torch.flip(x, dims=(3,)) if bool(torch.randint(2, (1,), generator=gen)) else x


class ConditionalGAN(GeneratorMixin):
    """Projection-discriminator cGAN on lesion patches + blending into normal images."""

    tags = GeneratorTags(requires_fit=True, conditional_on=CONDITION_COLUMNS, produces_boxes=True)
    card_path = resource_path(__package__, "card.yaml")

    def __init__(self, patch_size: int = 32, width: int = 16, z_dim: int = 64, steps: int = 500,
                 batch_size: int = 64, lr: float = 2e-4, normals_per_image: int = 1, max_backgrounds: int = 256,
                 background: str = "synthetic", device: str = "auto"):
        self.patch_size = patch_size
        self.width = width
        self.z_dim = z_dim
        self.steps = steps
        self.batch_size = batch_size
        self.lr = lr
        self.normals_per_image = normals_per_image
        self.max_backgrounds = max_backgrounds
        self.background = background
        self.device = device

    @classmethod
    def tiny_config(cls) -> dict:
        """Seconds-scale settings for conformance tests."""
        return {"patch_size": 16, "width": 8, "z_dim": 16, "steps": 30, "batch_size": 16, "max_backgrounds": 32}

    @classmethod
    def conformance_config(cls) -> dict:
        """What ``check-generator`` builds: tiny networks trained 600 steps (about 20 s on one core).

        30 GAN steps draw lesion patches no brighter than the tissue around them, which the box check
        rightly fails; at 600 steps the lesions are visible (docs/generators.md, box check).
        """
        return {**cls.tiny_config(), "steps": 600}

    def _networks(self, seed: int) -> tuple[PatchGenerator, ProjectionDiscriminator]:
        sizes = ConditionCodes(self.vocab_).sizes()
        return seeded(seed, lambda: (
            PatchGenerator(sizes, size=self.patch_size, width=self.width, z_dim=self.z_dim),
            ProjectionDiscriminator(sizes, size=self.patch_size, width=self.width)))

    def fit(self, data: TrainView, *, seed: int) -> "ConditionalGAN":
        self.record_training_data(data)
        rng = np.random.default_rng(seed)
        patches, table = extract_patches(data, self.patch_size, rng, self.normals_per_image)
        codes = ConditionCodes.from_table(table)
        self.vocab_ = codes.vocab
        self.conditions_ = {c: data.manifest[c].fillna("").astype(str).tolist() for c in CONDITION_COLUMNS}
        self.bank_ = background_source(data, self.background, max_images=self.max_backgrounds, seed=seed).to_state()
        dev = resolve_device(self.device)
        g_net, d_net = (m.to(dev) for m in self._networks(seed))
        x_all = torch.from_numpy(patches)[:, None].to(dev)
        y_all = torch.from_numpy(codes.encode(table)).to(dev)
        self.history_ = self._train(g_net, d_net, x_all, y_all, balanced_weights(table["lesion_type"]), seed, dev)
        self.g_weights_ = {k: v.detach().cpu() for k, v in g_net.state_dict().items()}
        return self

    def _train(self, g_net, d_net, x_all, y_all, weights, seed: int, dev: torch.device) -> dict:
        gen = torch.Generator().manual_seed(seed)
        opt_g = torch.optim.Adam(g_net.parameters(), lr=self.lr, betas=(0.0, 0.9))
        opt_d = torch.optim.Adam(d_net.parameters(), lr=self.lr, betas=(0.0, 0.9))
        history: dict[str, list[float]] = {"step": [], "d_loss": [], "g_loss": [], "seconds": []}
        start = time.perf_counter()
        for step in range(self.steps):
            idx = torch.multinomial(weights, self.batch_size, replacement=True, generator=gen).to(dev)
            real, y = augment_patches(x_all[idx], gen), y_all[idx]
            z = torch.randn(self.batch_size, self.z_dim, generator=gen).to(dev)
            with autocast(dev):
                fake = g_net(z, y)
                d_loss = F.relu(1 - d_net(real, y)).mean() + F.relu(1 + d_net(fake.detach(), y)).mean()
            opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            opt_d.step()
            with autocast(dev):
                g_loss = -d_net(fake, y).mean()
            opt_g.zero_grad(set_to_none=True)
            g_loss.backward()
            opt_g.step()
            if step % max(self.steps // 50, 1) == 0 or step == self.steps - 1:
                for key, val in (("step", step), ("d_loss", d_loss.item()), ("g_loss", g_loss.item()),
                                 ("seconds", time.perf_counter() - start)):
                    history[key].append(float(val))
        return history

    def generate_patches(self, table: pd.DataFrame, *, seed: int) -> np.ndarray:
        """Lesion patches ``[n, size, size]`` for rows with ``lesion_type, label, density``."""
        dev = resolve_device(self.device)
        g_net = PatchGenerator(ConditionCodes(self.vocab_).sizes(), size=self.patch_size, width=self.width,
                               z_dim=self.z_dim)
        g_net.load_state_dict(self.g_weights_)
        g_net.to(dev)
        gen = torch.Generator().manual_seed(int(seed))
        z = torch.randn(len(table), self.z_dim, generator=gen).to(dev)
        y = torch.from_numpy(ConditionCodes(self.vocab_).encode(table)).to(dev)
        with eval_mode(g_net), autocast(dev):
            out = g_net(z, y).float()
        return out[:, 0].cpu().numpy()

    def sample(self, n: int, *, conditions: pd.DataFrame | None = None, seed: int) -> SyntheticBatch:
        rng = np.random.default_rng(seed)
        bank = background_from_state(self.bank_)
        rows = resolve_conditions(n, conditions, pd.DataFrame(self.conditions_), rng)
        patch_seed = int(rng.integers(2**31))
        make = lambda table, context: self.generate_patches(table, seed=patch_seed)  # noqa: E731
        images, findings = compose_images(rows, bank, make, patch_size=self.patch_size, rng=rng)
        return SyntheticBatch(images, labels_frame(rows, findings), {"generator": "cgan", "seed": seed})
