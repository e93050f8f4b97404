"""Known-answer trials of the lesion-detection self-test (``mammobench selftest --task vc_lesion_detect``).

The detection task trains CenterNet-style lesion detectors (docs/detection.md) on whole mammograms; the
self-test's cohort has **no dense breasts** in its training part (``runner.DETECTION_TRAIN_DENSITY_WEIGHTS``).
Three planted generators have known answers there:

* ``dense_helpful`` — ``planted_dense_lesions``: new simulated lesion cases in dense (C/D) breasts with the
  simulator's exact labels and boxes, one per real training image. The known answer is a **gain in
  dense-breast lesion sensitivity**: a significant positive ``lesion_sensitivity`` comparison (at the task's
  false marks per image, threshold from validation; paired patient bootstrap, Holm within the arm's
  sensitivity family) in density C or D.
* ``detect_harmful`` — ``planted_harmful``: training images with flipped labels whose boxes follow them
  (none on former lesion images, one in the tissue of former normals), so the detector is taught that
  lesions are background and tissue is a lesion: a significant **loss** of the primary wAFROC (seeds as
  readers).
* ``off_location`` — ``planted_off_location``: honest images whose lesion boxes are moved off the drawn
  lesion: **flagged** (``fail``) by the conformance check ``check_boxes_on_lesion`` on the task's own
  training view (whole images at the task's size), where most moved boxes land beyond the skin line.

Example:
    >>> comps = [{"arm": "planted_dense_lesions", "metric": "lesion_sensitivity", "family": "patient_bootstrap",
    ...           "attribute": "density", "group": "D", "estimate": 0.12, "p_adjusted": 0.01, "significant": True}]
    >>> observe_dense_gain({"comparisons": comps}, "wafroc")[0]
    'gain'
"""
from __future__ import annotations

from mammobench.selftest.trials import Observation, Trial, _brief, _is_overall, _significant, audit_observer, \
    observe_harmful

DETECTION_TASK = "vc_lesion_detect"
DENSE_GROUPS = ("C", "D")
SENSITIVITY_FAMILY = "patient_bootstrap"
#: the audit name under which the self-test stores a conformance check's record (``audits`` of result.json)
CHECK_AUDIT = "conformance"


def observe_dense_gain(result: dict, primary: str, arm: str = "planted_dense_lesions") -> Observation:
    """``gain`` when lesion sensitivity in density C or D rises significantly (corrected) against the control.

    ``primary`` is unused: the trial's endpoint is the dense groups' lesion sensitivity, whatever the task's
    primary metric; the overall sensitivity and wAFROC comparisons are kept as evidence.
    """
    comps = [c for c in result.get("comparisons", []) if c.get("arm") == arm and c.get("family") == SENSITIVITY_FAMILY]
    sens = [c for c in comps if c.get("metric") == "lesion_sensitivity"]
    dense = [c for c in sens if c.get("attribute") == "density" and str(c.get("group")) in DENSE_GROUPS]
    verdict = "gain" if _significant(dense, +1) else ("loss" if _significant(dense, -1) else "no significant gain")
    return verdict, {"dense_groups": [_brief(c) for c in dense],
                     "overall_sensitivity": [_brief(c) for c in sens if _is_overall(c)],
                     "overall_wafroc": [_brief(c) for c in comps if c.get("metric") == "wafroc" and _is_overall(c)]}


DETECTION_TRIALS: dict[str, Trial] = {t.name: t for t in (
    Trial("dense_helpful", "planted_dense_lesions", "gain",
          "paired comparison: lesion sensitivity in dense breasts (density C or D)", "comparison", observe_dense_gain),
    Trial("detect_harmful", "planted_harmful", "loss", "paired comparison: wAFROC (overall)", "comparison",
          observe_harmful),  # the task's primary metric is wAFROC (seeds as readers)
    Trial("off_location", "planted_off_location", "flagged", "conformance check_boxes_on_lesion (fail)", "check",
          audit_observer("planted_off_location", CHECK_AUDIT, ("check_boxes_on_lesion",), ("fail",)),
          "check_boxes_on_lesion"),
)}

__all__ = ["CHECK_AUDIT", "DENSE_GROUPS", "DETECTION_TASK", "DETECTION_TRIALS", "observe_dense_gain"]
