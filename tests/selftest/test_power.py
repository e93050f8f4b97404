"""The self-test's power projection: against the OR–Hillis test it projects and a Monte Carlo of that test."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from mammobench.errors import StatisticsError
from mammobench.evaluation.seed_variance import seeds_as_readers_test
from mammobench.selftest.power import ComparisonVariance, pilot_variance, projected_power, projected_se_ddf


def _predictions(n_pat: int, seeds: int, gain: float, seed: int = 0) -> pd.DataFrame:
    """Two arms' test scores: a shared case effect, a per-seed shift, and the arm's gain on positives."""
    rng = np.random.default_rng(seed)
    y = np.repeat(rng.random(n_pat) < 0.4, 2)
    patients = np.repeat([f"p{i}" for i in range(n_pat)], 2)
    case = rng.normal(size=len(y)) + 1.2 * y
    rows = []
    for arm, g in (("ctrl", 0.0), ("arm", gain)):
        for s in range(seeds):
            score = case + g * y + rng.normal(scale=0.6, size=len(y)) + rng.normal(scale=0.2) * y
            rows.append(pd.DataFrame({"image_id": [f"i{k}" for k in range(len(y))], "patient_id": patients,
                                      "split": "test", "arm": arm, "seed": s, "y_true": y.astype(int),
                                      "y_score": score, "density": np.where(np.arange(len(y)) % 4 < 2, "C", "D"),
                                      "lesion_type": np.where(~y, "none", np.where(np.arange(len(y)) % 3 == 0,
                                                                                   "asymmetry", "mass"))}))
    return pd.concat(rows, ignore_index=True)


def test_projection_at_the_pilots_seed_count_is_the_tests_own_se_and_df():
    preds = _predictions(300, 4, 0.3)
    v = pilot_variance(preds, "arm", "ctrl")
    wide = {a: preds[preds.arm == a].pivot_table(index="image_id", columns="seed", values="y_score")
            for a in ("arm", "ctrl")}
    meta = preds.drop_duplicates("image_id").set_index("image_id").loc[wide["arm"].index]
    ref = seeds_as_readers_test(meta.y_true.to_numpy().astype(bool), wide["arm"].to_numpy().T,
                                wide["ctrl"].to_numpy().T, patients=meta.patient_id.to_numpy())
    se, ddf = projected_se_ddf(v, 4)
    assert v.delta == pytest.approx(ref["difference"], abs=1e-12)
    assert se == pytest.approx(ref["se"], rel=1e-9) and ddf == pytest.approx(ref["df2"], rel=1e-9)
    sub = pilot_variance(preds, "arm", "ctrl", attribute="density", group="D")
    assert sub.n_seeds == 4 and sub.ms_tr > 0


def test_power_matches_a_monte_carlo_of_the_t_test():
    v = ComparisonVariance(delta=0.03, ms_tr=1.2e-4, cov_case=1.5e-5)
    se, ddf = projected_se_ddf(v, 5)
    rng = np.random.default_rng(1)
    draws = 200_000
    t = (v.delta / se + rng.standard_normal(draws)) / np.sqrt(rng.chisquare(ddf, draws) / ddf)
    mc = np.mean(np.abs(t) > stats.t.ppf(1 - 0.01 / 2, ddf))
    # 200,000 draws: Monte Carlo SE ≤ 0.0011; the two must agree within 5 of them
    assert projected_power(v, n_seeds=5, alpha=0.01) == pytest.approx(mc, abs=0.0055)


def test_power_is_the_size_under_no_effect_and_grows_with_seeds():
    null = ComparisonVariance(delta=0.0, ms_tr=1e-4, cov_case=1e-5)
    assert projected_power(null, n_seeds=3, alpha=0.05) == pytest.approx(0.05, abs=1e-12)
    v = ComparisonVariance(delta=0.03, ms_tr=1e-4, cov_case=5e-6)
    powers = [projected_power(v, n_seeds=r, alpha=0.01) for r in (2, 3, 5, 8)]  # 0.044, 0.19, 0.70, 0.97
    assert powers == sorted(powers) and powers[0] < 0.1 and powers[-1] > 0.95


def test_bad_inputs_are_refused():
    with pytest.raises(StatisticsError, match=">= 2 seeds"):
        projected_se_ddf(ComparisonVariance(0.1, 1e-4, 0.0), 1)
    with pytest.raises(StatisticsError, match="is 0"):
        projected_se_ddf(ComparisonVariance(0.1, 0.0, 0.0), 3)
    preds = _predictions(40, 1, 0.3)
    with pytest.raises(StatisticsError, match="1 shared seed"):
        pilot_variance(preds, "arm", "ctrl")


def test_design_rows_and_the_cli_read_a_run_folder(tmp_path, capsys):
    from mammobench.commands.selftest import main
    from mammobench.selftest.power import design_rows

    preds = pd.concat([_predictions(240, 3, g, seed=i).assign(arm=lambda d, a=arm: d["arm"].map({"arm": a,
                                                                                             "ctrl": "none"}))
                       for i, (arm, g) in enumerate((("planted_missing_type", 0.4), ("planted_harmful", -0.8)))])
    preds = preds.drop_duplicates(["arm", "seed", "image_id"])
    for (arm, seed), cell in preds.groupby(["arm", "seed"]):
        folder = tmp_path / "cells" / f"{arm}__s{seed}"
        folder.mkdir(parents=True)
        cell.to_csv(folder / "predictions.csv", index=False)
    rows = design_rows(tmp_path, n_seeds=5)
    assert [(r["trial"], r["hypothesis"]) for r in rows] == [("helpful", "overall"), ("helpful", "lesion_type=asymmetry"),
                                                            ("harmful", "overall")]
    assert all(0 <= r["power"] <= 1 and r["level"] == 0.01 for r in rows) and rows[2]["delta"] < 0 < rows[0]["delta"]
    assert main(["--power-from", str(tmp_path), "--power-seeds", "5"]) == 0
    assert "harmful  overall" in capsys.readouterr().out
    only_helpful = tmp_path / "pilot"  # a pilot of one trial projects that trial only
    for folder in [*(tmp_path / "cells").glob("planted_missing_type__*"), *(tmp_path / "cells").glob("none__*")]:
        (only_helpful / "cells" / folder.name).mkdir(parents=True)
        (only_helpful / "cells" / folder.name / "predictions.csv").write_bytes((folder / "predictions.csv").read_bytes())
    assert [r["trial"] for r in design_rows(only_helpful, n_seeds=5)] == ["helpful", "helpful"]
    assert main(["--power-from", str(tmp_path / "nowhere")]) == 2
    assert "no cells/*/predictions.csv" in capsys.readouterr().err


def test_repeat_seeds_rates_and_bad_input():
    from mammobench.errors import ConfigError
    from mammobench.selftest.repeats import repeat_seeds, run_comparison_repeats, summarise_rate

    seen = {s for r in range(10) for s in repeat_seeds(r, 5)[0]}
    assert len(seen) == 50 and not seen & set(range(5))  # fresh seeds, never the default self-test's
    ok, low = summarise_rate("helpful", [True] * 9 + [False], expected="gain"), \
        summarise_rate("helpful", [True] * 8 + [False] * 2, expected="gain")
    assert ok["agree"] and not low["agree"] and ok["evidence"]["ci_low"] == pytest.approx(0.5549839, abs=1e-6)
    with pytest.raises(ConfigError, match="repeats must be >= 1"):
        run_comparison_repeats(0)
    with pytest.raises(ConfigError, match="none was chosen"):
        run_comparison_repeats(1, trials=["memoriser"])


def test_repeats_cli_refuses_a_negative_first(capsys):
    from mammobench.commands.selftest import main

    assert main(["--repeats", "2", "--first", "-1", "--trials", "null"]) == 2
    assert "--first must be >= 0" in capsys.readouterr().err
