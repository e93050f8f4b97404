"""Which profile has the power for which known-answer trial: a design table stated beforehand.

A trial run at a profile that cannot power it is reported as ``underpowered`` — its observed verdict
is still shown, but it is not a disagreement (the command's exit status ignores it) and the row names
the profiles that do have the power. The decision comes from this table, written from the
measurements in ``docs/selftest.md`` ("Measured", "Design table"), **never from the observed p-value**
of the run being judged: reading power off the result would excuse exactly the failures the
self-test exists to catch.

* ``harmful``, ``null`` (paired comparisons): sized at ``quick`` for power ≥ 0.99 from pilot runs
  (``mammobench.selftest.power``; 6 seeds, equal step budget, a large test part): harmful's power 0.9965
  from its weakest fresh-seed repeat, found in 13 of 13; the null (every training case duplicated once)
  fired in 0 of 20 fresh-seed repeats (exact CI 0.000–0.168; docs/selftest.md, "Measured agreement
  rates"); ``full`` runs the same design.
  ``helpful`` (``planted_missing_type``: the lesion type the training part lacks) was projected at 0.993 for
  6 seeds from a 4-seed pilot and, because a projection from a pilot carries the pilot's luck (the previous,
  density-based design was projected at 0.9998 and found its gain in 2 of 6 repeats), listed as powered only
  after fresh-seed repeats found the gain in 10 of 10 (exact 95 % CI 0.692–1.000), at 1 and 2 threads
  (13 of 13 with three more in ``channels_last``).
  The ``smoke`` profile trains one epoch with two seeds — a seeds-as-readers test with one degree of
  freedom for the reader term; its null trial fired 3/20 times (exact 95 % CI 0.032–0.379) — so its
  comparison rows are plumbing only.
* ``memoriser``, ``leaker``, ``biased`` (audits of exact copies, patient overlap, a density shift
  with TV ≈ 0.6–0.7 against a 0.3 fail line): far from their thresholds at every profile.
* ``off_condition`` (adherence audit, fail margin 25 points of oracle agreement): at ``smoke`` the
  oracle trains 2 epochs and reaches agreement 15 % [9, 22] vs 40 % on real images — a deficit, not
  reliably beyond the fail margin; at ``quick`` it fails (0.192).
* The lesion-detection self-test (``--task vc_lesion_detect``): ``dense_helpful`` and ``detect_harmful`` are
  powered at ``quick`` (docs/selftest.md, "Detection self-test": the dense gain's power ≈ 0.995 projected from
  three fresh-seed repeats' effect and standard error, the harmful loss ≈ 10 standard errors);
  ``off_location`` ranks 0.02–0.06 against a fail line of 0.5 at every profile.

Example:
    >>> powered_profiles("harmful"), powered_profiles("helpful")
    (('quick', 'full'), ('quick', 'full'))
    >>> apply_design({"trial": "helpful", "agree": False}, "smoke")["status"]
    'underpowered'
"""
from __future__ import annotations

from mammobench.errors import ConfigError

__all__ = ["POWER_DESIGN", "apply_design", "powered_profiles"]

_COMPARISON = ("quick", "full")
_EVERY = ("smoke", "quick", "full")
#: trial → (profiles that power it, why smoke does not / does); see the module docstring
POWER_DESIGN: dict[str, tuple[tuple[str, ...], str]] = {
    "helpful": (_COMPARISON, "smoke: 2 seeds × 1 epoch cannot resolve the planted gain; quick: the missing-lesion-type "
                             "design, projected 0.993 at 6 seeds and found in 13/13 fresh-seed repeats"),
    "harmful": (_COMPARISON, "smoke: 2 seeds × 1 epoch (1 reader df) cannot resolve the planted loss reliably; "
                             "quick is sized for power ≥ 0.99"),
    "null": (_COMPARISON, "smoke: false-positive rate measured 3/20 (95% CI 0.03–0.38), not controlled at α; "
                          "quick: 0/20 (95% CI 0.000–0.168)"),
    "memoriser": (_EVERY, "exact copies: far beyond the fail line at every profile"),
    "leaker": (_EVERY, "patient overlap is counted, not estimated"),
    "biased": (_EVERY, "density TV ≈ 0.6–0.7 vs fail line 0.3 at every profile"),
    "off_condition": (_COMPARISON, "smoke: 2-epoch oracle shows the deficit but not reliably beyond the fail margin"),
    # the lesion-detection self-test (--task vc_lesion_detect; selftest.detection_trials)
    "dense_helpful": (_COMPARISON, "smoke: 2 seeds × 2 epochs at 64 px detect almost nothing; quick: the density-D "
                                   "sensitivity gain (+0.035 to +0.039, found in 3/3 fresh-seed repeats at a 1,680-patient "
                                   "test part) projected at power ≈ 0.995 with the 3,360-patient test part"),
    "detect_harmful": (_COMPARISON, "smoke: 2 seeds × 2 epochs at 64 px detect almost nothing; quick: wAFROC loss "
                                    "−0.12 to −0.14, ≈ 10 standard errors (seeds as readers), found in 4/4 runs"),
    "off_location": (_EVERY, "boxes moved beyond the skin line rank 0: mean rank ≈ 0.02–0.06 against the fail line 0.5"),
}


def powered_profiles(trial: str) -> tuple[str, ...]:
    """The profiles with the power for ``trial`` (from :data:`POWER_DESIGN`).

    Raises:
        ConfigError: a trial the design table does not know (every trial must be in it).

    Example:
        >>> powered_profiles("leaker")
        ('smoke', 'quick', 'full')
    """
    if trial not in POWER_DESIGN:
        raise ConfigError(f"self-test trial {trial!r} has no entry in the power design table "
                          f"(benchmark/selftest/design.py); known: {', '.join(POWER_DESIGN)}")
    return POWER_DESIGN[trial][0]


def apply_design(record: dict, profile: str) -> dict:
    """Add ``status`` and ``powered_at`` to a trial record run at ``profile``; return the record.

    ``status`` is ``underpowered`` when ``profile`` is not among the trial's powered profiles (then
    ``power`` says why and which profile to use), else ``pass`` (agrees) / ``fail`` (disagrees).

    Example:
        >>> r = apply_design({"trial": "null", "agree": True}, "smoke")
        >>> r["status"], r["powered_at"], r["power"].endswith("use --profile quick")
        ('underpowered', ['quick', 'full'], True)
        >>> apply_design({"trial": "null", "agree": False}, "quick")["status"]
        'fail'
    """
    powered = powered_profiles(record["trial"])
    record["powered_at"] = list(powered)
    if profile in powered:
        record["status"] = "pass" if record["agree"] else "fail"
        return record
    record["status"] = "underpowered"
    advice = f"use --profile {powered[0]}" if powered else "no profile powers it yet (docs/selftest.md, 'Power design')"
    record["power"] = f"underpowered at {profile} ({POWER_DESIGN[record['trial']][1]}); {advice}"
    return record
