"""Conditional adherence compares against the oracle's agreement on real images with the requested mix."""
from __future__ import annotations

import numpy as np
import pytest
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


def test_chance_test_matches_statsmodels_cohens_kappa():
    from statsmodels.stats.inter_rater import cohens_kappa

    from mammobench.audits.adherence import chance_test

    rng = np.random.default_rng(3)
    for n, follow in ((60, 0.0), (300, 0.3), (900, 0.8)):
        req = rng.choice(list("ABC"), n)
        pred = np.where(rng.random(n) < follow, req, rng.choice(list("ABCD"), n))  # D: a class never requested
        ours = chance_test(req, pred)
        table = pd.crosstab(pd.Categorical(req, categories=list("ABCD")),
                            pd.Categorical(pred, categories=list("ABCD")), dropna=False).to_numpy()
        ref = cohens_kappa(table)
        assert ours["kappa"] == pytest.approx(ref.kappa, abs=1e-12)
        assert ours["z"] == pytest.approx(ref.z_value, rel=1e-9)
        assert ours["p"] == pytest.approx(ref.pvalue_one_sided, rel=1e-9, abs=1e-300)
    single = chance_test(np.array(["D"] * 5), np.array(["D", "A", "D", "D", "A"]))
    assert single["agreement"] == 0.6 and np.isnan(single["p"])


def test_a_generator_ignoring_its_conditions_fails_even_inside_the_margins():
    """The oracle reads real images above chance; images that carry no condition are at chance → fail.

    Margins: 400 requests half A, half D; the ignoring generator's calls are independent of the
    request by construction (κ = 0 exactly, p = 0.5), the following one's κ = 0.5 (z ≈ 10).
    """
    enc = _Oracle()
    cfg = {**DEFAULT_CONFIG, "adherence_fail_margin": 0.9, "adherence_warn_margin": 0.9}  # margins cannot fail it
    request = pd.DataFrame({"density": ["A"] * 200 + ["D"] * 200})
    ignoring = _images(([0] * 100 + [3] * 100) * 2)   # half A, half D in both request groups
    following = _images([0] * 150 + [3] * 50 + [3] * 150 + [0] * 50)
    held = pd.DataFrame({"density": ["A"] * 30 + ["D"] * 30})
    held_images = _images([0] * 30 + [3] * 30)
    kw = dict(encoder=enc, requested=request, holdout_images=held_images, holdout_manifest=held,
              conditioning=("density",), config=cfg)
    bad = adherence_audit("g", synthetic_images=ignoring, **kw)[0]
    good = adherence_audit("g", synthetic_images=following, **kw)[0]
    assert bad["status"] == "fail" and bad["evidence"]["chance"]["kappa"] == 0.0 and bad["p_value"] == 0.5
    assert good["status"] == "pass" and good["p_value"] < 1e-20 and "above chance" in good["message"]
