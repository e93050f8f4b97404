"""Plain-text tables of reader-study analyses (what ``mammobench reader analyze`` prints).

Example:
    >>> print(format_rows([{"a": 1, "b": 0.5}]).splitlines()[0].split())
    ['a', 'b']
"""
from __future__ import annotations

from typing import Any


def _fmt(value: Any, sci: bool = False) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value != value:
            return "nan"
        return f"{value:.4e}" if sci and 0 < abs(value) < 0.01 else f"{value:.4f}"
    return str(value)


def format_rows(rows: list[dict[str, Any]], columns: list[str] | None = None, sci: bool = False) -> str:
    """Align a list of dicts as a fixed-width text table (``sci``: small numbers in e-notation)."""
    columns = columns or list(rows[0])
    cells = [[_fmt(r.get(c, ""), sci) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[k]) for row in cells)) for k, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths)) for row in cells]
    return "\n".join(lines)


def format_mrmc(res: dict[str, Any]) -> str:
    """Text report of :func:`mammobench.stats.obuchowski_rockette.or_hillis`."""
    out = [f"Obuchowski-Rockette MRMC analysis ({res['auc']} AUC, {res['cov_method']} covariance)",
           f"{res['n_readers']} readers, {res['n_treatments']} treatments, {res['n_cases']} cases "
           f"({res['n_positive']} positive, {res['n_negative']} negative), alpha = {res['alpha']}", "",
           "Treatment AUCs (reader-averaged; single-test OR-Hillis CI, random readers and cases):",
           format_rows(res["treatments"], ["treatment", "auc", "se", "df", "ci_low", "ci_high"]), "",
           "OR covariance components, mean squares and variance components (var_r, var_tr; may be negative):",
           format_rows([{**res["covariance"], **res["mean_squares"], "var_r": res["variance_components"]["reader"],
                         "var_tr": res["variance_components"]["treatment_reader"]}], sci=True)]
    if "rrrc" in res:
        rr = res["rrrc"]
        out += ["", "Random readers, random cases (Hillis denominator df):",
                f"F = {rr['f']:.4f}, df1 = {rr['df1']}, df2 = {rr['df2']:.4f}, p = {rr['p_value']:.4f}",
                format_rows(rr["differences"], ["comparison", "estimate", "se", "ci_low", "ci_high", "p_value"])]
        if "note" in rr:
            out.append(f"note: {rr['note']}")
        fr, rf = res["frrc"], res["rrfc"]
        out += ["", f"Fixed readers, random cases: chi2 = {fr['chisq']:.4f}, df = {fr['df']}, p = {fr['p_value']:.4f}",
                format_rows(fr["treatments"], ["treatment", "auc", "se", "ci_low", "ci_high"]),
                f"Random readers, fixed cases: F = {rf['f']:.4f}, df = ({rf['df1']}, {rf['df2']:.0f}), "
                f"p = {rf['p_value']:.4f}",
                "(--json adds per-reader FRRC differences, RRFC per-treatment CIs and every covariance term)"]
    return "\n".join(out)


def format_turing(res: dict[str, Any]) -> str:
    """Text report of :func:`mammobench.reader.analysis.turing.turing_analysis`."""
    pooled, tost, fl = res["pooled"], res["tost"], res["fleiss"]
    out = ["Visual Turing test (truth: 1 = synthetic)", "", "Per reader (exact Clopper-Pearson CI, binomial test vs 0.5):",
           format_rows(res["per_reader"], ["reader", "n", "correct", "accuracy", "ci_low", "ci_high", "p_value",
                                           "sensitivity_synthetic", "specificity_real", "auc"]), "",
           f"Pooled accuracy {pooled['accuracy']:.4f} ({pooled['correct']}/{pooled['n_reads']} reads, "
           f"{pooled['n_readers']} readers, {pooled['n_images']} images); exact CI "
           f"[{pooled['ci_low']:.4f}, {pooled['ci_high']:.4f}] (ignores clustering)",
           f"Equivalence (TOST, margin 0.5 +/- {tost['margin']}): p = {tost['p_value']:.4f}; "
           f"{tost['ci_level']:.0%} exact CI [{tost['ci_low']:.4f}, {tost['ci_high']:.4f}]; "
           f"two-way bootstrap CI [{tost['bootstrap_low']:.4f}, {tost['bootstrap_high']:.4f}]"]
    auc = res.get("reader_averaged_auc")
    if auc:
        out.append(f"Reader-averaged AUC for detecting synthetic {auc['auc']:.4f} "
                   f"(OR-Hillis CI [{auc['ci_low']:.4f}, {auc['ci_high']:.4f}], df {auc['df']:.2f})")
    out += [f"Fleiss' kappa of calls: {_fmt(fl['kappa'])} ({fl['n_items']} images x {fl['n_raters']} readers)",
            f"Conclusion: {res['conclusion']}"]
    return "\n".join(out)
