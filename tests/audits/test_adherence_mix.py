"""Conditional adherence compares against the oracle's agreement on real images with the requested mix."""
from __future__ import annotations

import numpy as np
import pandas as pd

from mammobench.audits.adherence import adherence_audit, expected_agreement
from mammobench.audits.run import DEFAULT_CONFIG


class _Oracle:
    """Reads the 'answer' pixel: image[0, 0] indexes the class list."""

    name, resolution = "fake", (4, 4)
    classes = {"density": ["A", "B", "C", "D"]}

    def predict(self, images):
        return {"density": np.array([self.classes["density"][int(i[0, 0])] for i in images], dtype=object)}


def _images(codes):
    out = np.zeros((len(codes), 4, 4), np.float32)
    out[:, 0, 0] = codes
    return out


# held-out: oracle always right on A; right on half of the D images
HELD = pd.DataFrame({"density": ["A"] * 10 + ["D"] * 10})
HELD_IMAGES = _images([0] * 10 + [3] * 5 + [0] * 5)


def test_expected_agreement_follows_the_requested_mix():
    enc = _Oracle()
    dense = pd.DataFrame({"density": ["D"] * 8})
    fatty = pd.DataFrame({"density": ["A"] * 8})
    assert expected_agreement(enc, HELD_IMAGES, HELD, dense, "density", ("density",)) == 0.5
    assert expected_agreement(enc, HELD_IMAGES, HELD, fatty, "density", ("density",)) == 1.0


def test_a_dense_request_is_not_blamed_for_the_oracle_but_ignoring_it_fails():
    enc, cfg = _Oracle(), {**DEFAULT_CONFIG}
    request = pd.DataFrame({"density": ["D"] * 200})
    honest = _images([3] * 100 + [0] * 100)       # 50 %: what the oracle achieves on real D images
    ignoring = _images([0] * 200)                  # fatty images whatever was asked: 0 %
    kw = dict(encoder=enc, requested=request, holdout_images=HELD_IMAGES, holdout_manifest=HELD,
              conditioning=("density",), config=cfg)
    assert adherence_audit("g", synthetic_images=honest, **kw)[0]["status"] == "pass"
    rec = adherence_audit("g", synthetic_images=ignoring, **kw)[0]
    assert rec["status"] == "fail" and rec["evidence"]["expected_for_requested_mix"] == 0.5
