"""``mammobench reader analyze --json`` against the University of Iowa OR-DBM MRMC 2.51 listings.

Two public ROC studies, read from the program's own ``.lrc`` input files (``tests/fixtures``): Franken
et al. (2 treatments, 4 readers, 100 cases) and FedRoc (5 treatments, 4 readers, 200 cases). Every
number of the listing that the JSON carries must agree to the digits the listing prints
(``|ours − printed| ≤ ½·10^−decimals``, plus 1e-10 for the listing's own floating point: FedRoc's
treatment-5 CI bounds sit 2.5e-11 from a rounding boundary of the 8th decimal). The reader variance component σ²_R is part of that check:
without its ``− σ²_TR/t`` term it was off by 3.6e-4 (Franken: −0.00031863 for 0.00003776) and 2.2e-6 (FedRoc).
"""
from __future__ import annotations

import contextlib
import io
import json

import pytest

from mammobench.commands import reader as reader_cmd
from mammobench.stats.mrmc import variance_components
from tests.helpers.iowa_listing import parse_listing
from tests.helpers.reference_data import FEDROC_LISTING, FEDROC_LRC, FRANKEN_LISTING, FRANKEN_LRC

STUDIES = {"franken": (FRANKEN_LRC, FRANKEN_LISTING, 2, 4, 100), "fedroc": (FEDROC_LRC, FEDROC_LISTING, 5, 4, 200)}


class Agreement:
    """Collects every comparison so one failure message lists all disagreements."""

    def __init__(self):
        self.checked, self.bad = 0, []

    def __call__(self, what: str, ours: float, printed: tuple[float, int]) -> None:
        value, decimals = printed
        self.checked += 1
        if not abs(ours - value) <= 0.5 * 10 ** -decimals + 1e-10:
            self.bad.append(f"{what}: ours {ours!r}, listing {value} ({decimals} decimals)")

    def rows(self, what: str, ours: list[float], printed: list[tuple[float, int]]) -> None:
        assert len(ours) == len(printed), (what, ours, printed)
        for k, (a, b) in enumerate(zip(ours, printed)):
            self(f"{what}[{k}]", a, b)


@pytest.fixture(scope="module", params=list(STUDIES))
def study(request):
    lrc, listing, t, r, c = STUDIES[request.param]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert reader_cmd.main(["analyze", str(lrc), "--json"]) == 0
    res = json.loads(out.getvalue())
    assert (res["n_treatments"], res["n_readers"], res["n_cases"]) == (t, r, c)
    return request.param, res, parse_listing(listing)


def test_estimates_anova_and_variance_components(study):
    name, res, ref = study
    check, t, r = Agreement(), res["n_treatments"], res["n_readers"]
    aucs = {(a["treatment"], a["reader"]): a["auc"] for a in res["reader_aucs"]}
    treatments = [row["treatment"] for row in res["treatments"]]
    readers = list(dict.fromkeys(a["reader"] for a in res["reader_aucs"]))
    for j, reader in enumerate(readers, start=1):
        check.rows(f"AUC reader {j}", [aucs[(tr, reader)] for tr in treatments], ref["reader_aucs"][j])
    for i, row in enumerate(res["treatments"], start=1):
        check(f"mean AUC {i}", row["auc"], ref["treatment_means"][i])
    ms = res["mean_squares"]
    for key, ours in (("T", ms["ms_t"]), ("R", ms["ms_r"]), ("T*R", ms["ms_tr"])):
        check(f"MS({key})", ours, ref["anova"][key][2])
    check.rows("MS(R) per treatment", [row["ms_r"] for row in res["treatments"]], ref["ms_r_by_treatment"])
    cov, corr, vc = res["covariance"], res["correlation"], res["variance_components"]
    check("Var(R)", vc["reader"], ref["or"]["Var(R)"][0])
    check("Var(T*R)", vc["treatment_reader"], ref["or"]["Var(T*R)"][0])
    check("Var(Error)", cov["var"], ref["or"]["Var(Error)"][0])
    for k in ("cov1", "cov2", "cov3"):
        check.rows(k, [cov[k], corr[k]], ref["or"][k.upper()])
    assert check.checked == t * r + t + 3 + t + 3 + 6 and not check.bad, "\n".join(check.bad)


def _positions(res: dict, comparison: str) -> tuple[int, int]:
    """Treatment names → the listing's 1-based positions ('0 - 1' in the file is '1 - 2' in the listing)."""
    position = {row["treatment"]: i for i, row in enumerate(res["treatments"], start=1)}
    a, b = comparison.split(" - ")
    return position[a], position[b]


def _difference_rows(check, res, label, ours, printed, keys):
    for row in ours:
        a, b = _positions(res, row["comparison"])
        check.rows(f"{label} {a} - {b}", [row[k] for k in keys], printed[(a, b)])


# per F-test analysis: the listing's second ANOVA row, and where the per-treatment CIs are and what they hold
F_TESTS = {"rrrc": ("error", lambda res: [res["rrrc"]["df2"], res["rrrc"]["denominator"]], "treatments",
                    ("auc", "se", "df", "ci_low", "ci_high", "cov2")),
           "rrfc": ("tr", lambda res: [res["rrfc"]["df2"], res["mean_squares"]["ms_tr"]], None,
                    ("auc", "ms_r", "se", "df", "ci_low", "ci_high"))}


@pytest.mark.parametrize("analysis", list(F_TESTS))
def test_random_readers_with_random_or_fixed_cases(study, analysis):
    name, res, ref = study
    check, out, listing = Agreement(), res[analysis], ref[analysis]
    second_row, ours_second, singles, single_keys = F_TESTS[analysis]
    check.rows(f"{analysis} treatment row", [out["df1"], out["f"], out["p_value"]],
               [listing["treatment"][k] for k in (0, 2, 3)])
    check.rows(f"{analysis} {second_row} row", ours_second(res), listing[second_row])
    _difference_rows(check, res, analysis, out["differences"], listing["differences"],
                     ["estimate", "se", "df", "statistic", "p_value", "ci_low", "ci_high"])
    for i, row in enumerate(res[singles] if singles else out["treatments"], start=1):
        check.rows(f"{analysis} single {i}", [row[k] for k in single_keys], listing["single"][i][0])
    assert not check.bad, "\n".join(check.bad)


def test_fixed_readers_random_cases(study):
    name, res, ref = study
    check, fr = Agreement(), res["frrc"]
    check.rows("FRRC chi-square", [fr["chisq"], fr["df"], fr["p_value"]], ref["frrc"]["chisq"])
    _difference_rows(check, res, "FRRC", fr["differences"], ref["frrc"]["differences"],
                     ["estimate", "se", "statistic", "p_value", "ci_low", "ci_high"])
    for i, row in enumerate(fr["treatments"], start=1):
        ours_ci, ours_var = [row[k] for k in ("auc", "se", "ci_low", "ci_high")], [row["var"], row["cov2"]]
        check.rows(f"FRRC single {i}", ours_ci, ref["frrc"]["single"][i][0])
        check.rows(f"FRRC single var/cov2 {i}", ours_var, ref["frrc"]["single"][i][1])
    readers = list(dict.fromkeys(row["reader"] for row in fr["readers"]))
    for row in fr["readers"]:
        j = readers.index(row["reader"]) + 1
        a, b = _positions(res, row["comparison"])
        check.rows(f"FRRC reader {j} {a} - {b}", [row[k] for k in ("estimate", "se", "statistic", "p_value",
                                                                    "ci_low", "ci_high")],
                   ref["frrc"]["readers"][(j, a, b)])
        check.rows(f"FRRC reader {j} var/cov1", [row["var"], row["cov1"]], ref["frrc"]["reader_var"][j][0])
    assert not check.bad, "\n".join(check.bad)


def test_reader_variance_component_by_hand():
    """σ²_R from the FedRoc listing's own printed components, by hand:
    σ²_TR = MS(TR) − Var + Cov1 + Cov2 − Cov3 = 0.00046221 − 0.00078912 + 0.00029480 + 0.00023331 − 0.00021213
          = −0.00001093;
    σ²_R  = [MS(R) − Var − 4·Cov1 + Cov2 + 4·Cov3 − σ²_TR] / 5
          = [0.00729418 − 0.00078912 − 0.00117920 + 0.00023331 + 0.00084852 + 0.00001093] / 5 = 0.00128372.
    Without the σ²_TR term the old code gave 0.00640769 / 5 = 0.00128154."""
    ms = {"ms_r": 0.00729418, "ms_tr": 0.00046221}
    comp = {"var": 0.00078912, "cov1": 0.00029480, "cov2": 0.00023331, "cov3": 0.00021213}
    vc = variance_components(ms, comp, 5)
    assert vc["treatment_reader"] == pytest.approx(-0.00001093, abs=1e-12)
    assert vc["reader"] == pytest.approx(0.0064186200 / 5, abs=1e-12)
    assert round(vc["reader"], 8) == 0.00128372
