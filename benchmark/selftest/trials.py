"""Known-answer trials: planted generator + expected verdict + how to read the observed verdict.

A trial reads the run's own result records (``comparisons``, ``fairness``, ``audits``); nothing is
recomputed here, so the self-test checks exactly what a user's report would say. Verdicts:

* comparison trials (``helpful``, ``harmful``, ``null``) use the planted arm's comparisons vs the
  control that the evaluator marked ``primary`` (the primary metric in its primary family, see
  :mod:`mammobench.evaluation.primary`), judged at the corrected level (``significant``);
* audit trials (``memoriser``, ``leaker``, ``biased``, ``off_condition``) read the status of the
  audit that must catch them.

Example:
    >>> comps = [{"arm": "planted_harmful", "metric": "auc", "family": "delong_conditional", "primary": True,
    ...           "attribute": None, "group": None, "estimate": -0.1, "p_adjusted": 0.001, "significant": True}]
    >>> TRIALS["harmful"].observe({"comparisons": comps, "fairness": [], "audits": []}, "auc")[0]
    'loss'
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from mammobench.evaluation.primary import primary_comparisons

#: The lesion type(s) the self-test's comparison cohort leaves out of training
#: (``selftest.runner.COMPARISON_TRAIN_LESION_TYPES``); the helpful trial's generator
#: (``planted_missing_type``) supplies them, so its gain is read overall and in these groups.
MISSING_LESION_TYPES = ("asymmetry",)
Observation = tuple[str, dict]


@dataclass(frozen=True)
class Trial:
    """One known-answer trial.

    Args:
        name: short trial name (``helpful`` …).
        generator: the planted generator's registered name.
        expected: the verdict the harness must reach.
        check: which part of the harness is under test.
        kind: ``comparison`` (needs detector cells), ``audit`` (needs only the audits) or ``check`` (a
            conformance check of the generator on the task's training view).
        observe: ``(result, primary_metric) -> (observed verdict, evidence)``.
        audit: an audit trial's audit (:data:`mammobench.audits.run.AUDIT_NAMES`): the only one run on its
            synthetic set; a check trial's conformance check (``check_boxes_on_lesion``).
    """

    name: str
    generator: str
    expected: str
    check: str
    kind: str
    observe: Callable[[dict, str], Observation]
    audit: str | None = None


def _brief(c: dict) -> dict:
    return {k: c.get(k) for k in ("attribute", "group", "estimate", "ci_low", "ci_high", "p_value", "p_adjusted",
                                  "significant", "threshold", "borderline", "method", "family", "n", "n_pos")}


def _is_overall(c: dict) -> bool:
    return c.get("attribute") in (None, "", "overall")


def _significant(comps: list[dict], sign: int | None = None) -> list[dict]:
    return [c for c in comps if c.get("significant") and (sign is None or sign * float(c["estimate"]) > 0)]


def observe_helpful(result: dict, primary: str, arm: str = "planted_missing_type") -> Observation:
    """``gain`` when the overall primary metric or a missing lesion type's group gains significantly.

    The missing types are :data:`MISSING_LESION_TYPES` (left out of the comparison cohort's training part
    and supplied by the planted generator). The lesion-type fairness gap's change is reported as evidence,
    not required: a max − min of four noisy group figures (docs/selftest.md, "Power design").
    """
    comps = primary_comparisons(result, arm, primary)
    carried = [c for c in comps if _is_overall(c) or (c.get("attribute") == "lesion_type"
                                                      and str(c.get("group")) in MISSING_LESION_TYPES)]
    gains = _significant(carried, +1)
    gap = [f for f in result.get("fairness", []) if f.get("arm") == arm and f.get("attribute") == "lesion_type"
           and f.get("kind") == "gap" and f.get("metric") == primary]
    delta = float(gap[0]["delta_vs_control"]) if gap else float("nan")
    verdict = "gain" if gains else "no significant gain"
    return verdict, {"overall": [_brief(c) for c in carried if _is_overall(c)],
                     "supplied_group_comparisons": [_brief(c) for c in carried if not _is_overall(c)],
                     "lesion_type_gap_delta_vs_control": delta,
                     "lesion_type_gap": {k: gap[0].get(k) for k in ("value", "delta_ci_low", "delta_ci_high")}
                     if gap else {}}


def observe_harmful(result: dict, primary: str, arm: str = "planted_harmful") -> Observation:
    """``loss`` when the overall primary metric drops significantly."""
    comps = primary_comparisons(result, arm, primary)
    overall = [c for c in comps if _is_overall(c)]
    losses = _significant(overall, -1)
    verdict = "loss" if losses else ("gain" if _significant(overall, +1) else "no significant effect")
    return verdict, {"overall": [_brief(c) for c in overall]}


def observe_null(result: dict, primary: str, arm: str = "planted_null") -> Observation:
    """``no significant effect`` when no primary comparison of the arm is significant after correction."""
    comps = primary_comparisons(result, arm, primary)
    hits = _significant(comps)
    verdict = "no significant effect" if comps and not hits else ("no comparisons" if not comps else "significant")
    smallest = min((float(c["p_adjusted"]) for c in comps if c.get("p_adjusted") == c.get("p_adjusted")),
                   default=float("nan"))
    return verdict, {"n_comparisons": len(comps), "n_significant": len(hits), "min_p_adjusted": smallest,
                     "significant": [_brief(c) for c in hits], "family": comps[0]["family"] if comps else None}


def audit_observer(arm: str, audit: str, checks: tuple[str, ...] | None, flagged: tuple[str, ...]):
    """An observer reading the status of ``audit`` records (optionally only ``checks``) of ``arm``."""

    def observe(result: dict, primary: str) -> Observation:
        recs = [r for r in result.get("audits", []) if r.get("generator") == arm and r.get("audit") == audit
                and (checks is None or r.get("check") in checks or any(str(r.get("check")).startswith(c)
                                                                      for c in checks))]
        hit = [r for r in recs if r.get("status") in flagged]
        if not recs:
            return "not run", {"audit": audit, "records": 0}
        warned = [r for r in recs if r.get("status") == "warn"]
        # a warn where a fail was expected is reported as such, not as silence
        verdict = "flagged" if hit else ("warned" if warned else "quiet")
        shown = hit or warned or recs
        return verdict, {"audit": audit, "records": len(recs),
                         "checks": [{k: r.get(k) for k in ("check", "status", "value", "threshold", "message")}
                                    for r in shown[:4]]}

    return observe


TRIALS: dict[str, Trial] = {t.name: t for t in (
    Trial("helpful", "planted_missing_type", "gain", "paired comparison (overall or the missing lesion type)",
          "comparison", observe_helpful),
    Trial("harmful", "planted_harmful", "loss", "paired comparison (overall)", "comparison", observe_harmful),
    Trial("null", "planted_null", "no significant effect", "paired comparisons at the corrected level",
          "comparison", observe_null),
    Trial("memoriser", "planted_memoriser", "flagged", "memorisation audit (fail)", "audit",
          audit_observer("planted_memoriser", "memorisation", None, ("fail",)), "memorisation"),
    Trial("leaker", "planted_leaker", "flagged", "leakage audit: patient overlap (fail)", "audit",
          audit_observer("planted_leaker", "leakage", ("patient_overlap",), ("fail",)), "leakage"),
    Trial("biased", "planted_biased", "flagged", "bias audit: density shift (warn/fail)", "audit",
          audit_observer("planted_biased", "bias", ("density",), ("warn", "fail")), "bias"),
    Trial("off_condition", "planted_off_condition", "flagged", "conditional adherence audit (fail)", "audit",
          audit_observer("planted_off_condition", "adherence", None, ("fail",)), "adherence"),
)}


def trial_record(trial: Trial, result: dict, primary: str, profile: str | None = None) -> dict:
    """The ``selftest`` record of one trial: ``{trial, generator, check, expected, observed, agree, evidence}``.

    With ``profile`` (the run's), also ``status`` and ``powered_at`` from the power design table
    (:func:`mammobench.selftest.design.apply_design`): ``underpowered`` at a profile that cannot power it.
    """
    from mammobench.selftest.design import apply_design

    observed, evidence = trial.observe(result, primary)
    record = {"trial": trial.name, "generator": trial.generator, "check": trial.check, "expected": trial.expected,
              "observed": observed, "agree": observed == trial.expected, "evidence": evidence}
    return record if profile is None else apply_design(record, profile)


def counts_as_failure(record: dict) -> bool:
    """A row that disagrees and is not ``underpowered`` (what makes ``mammobench selftest`` exit 1).

    Example:
        >>> counts_as_failure({"agree": False, "status": "underpowered"}), counts_as_failure({"agree": False})
        (False, True)
    """
    return not record.get("agree") and record.get("status") != "underpowered"
