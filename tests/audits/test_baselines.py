"""Memorisation audit on the built-in baselines: not flagged beyond the calibrated rate (slow)."""
from __future__ import annotations

import pytest
import torch
from threadpoolctl import threadpool_limits

from tests.helpers.audits import HoldoutView
from mammobench.audits.encoder import train_domain_encoder
from mammobench.audits.run import run_audits
from mammobench.generators.fixtures import make_tiny_train_view
from mammobench.registry import GENERATORS
from tests.helpers.seeds import data_seed

torch.set_num_threads(1)  # 2 shared cores: oversubscription makes small kernels 10x slower
threadpool_limits(1)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["physics"])
def test_baseline_not_flagged_beyond_calibrated_rate(name):
    train = make_tiny_train_view(n=120, size=32, seed=data_seed(0))
    held = make_tiny_train_view(n=200, size=32, seed=data_seed(1))
    holdout = HoldoutView(held.manifest.assign(split="val", patient_id="h" + held.manifest["patient_id"]),
                          held.images)
    encoder = train_domain_encoder(train, seed=0, epochs=10)
    gen = GENERATORS.get(name)()
    gen.fit(train, seed=0)
    batch = gen.sample(100, seed=1)
    records = run_audits(generator_name=name, train=train, holdout=holdout, synthetic=batch,
                         generator_training_patients=train.patient_ids, encoder=encoder,
                         config={"cas": False, "n_boot": 50, "n_boot_fd": 10})
    # margin (#17.1): 100 samples against a threshold calibrated on 200 held-out images (U ~ Beta(2, 199), mean
    # α = 0.01). "pass" (k ≤ 3) would be missed with P ≈ 0.044 by an independent generator; the flag rate within
    # 10 α (k ≤ 10) is missed with P(Bin(100, U) > 10) = 3.3e-5 per space (Monte Carlo over U)
    for rec in records:
        if rec["check"].startswith("copy_detection"):
            assert rec["value"] <= 0.10, rec["message"]
