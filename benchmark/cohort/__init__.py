"""The virtual clinical-trial cohort writer (DICOM + VinDr-like CSVs; docs/architecture.md Contract 1).

Example:
    >>> import tempfile
    >>> root = make_cohort(tempfile.mkdtemp(), n_patients=1, seed=0, size=64, workers=1)
    >>> (root / "synth_truth.csv").exists()
    True
"""
from __future__ import annotations

from mammobench.cohort.composition import CohortComposition, PatientPlan, plan_patients
from mammobench.cohort.writer import make_cohort

__all__ = ["CohortComposition", "PatientPlan", "make_cohort", "plan_patients"]
