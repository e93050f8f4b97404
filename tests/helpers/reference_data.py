"""Paths of the small public reference datasets the statistics are checked against.

``tests/fixtures/asah.csv`` (pROC's ``aSAH``) and ``tests/fixtures/vandyke_mrmc.csv`` (MRMCaov's
``VanDyke``) are committed with the tests (see ``tests/fixtures/README.md`` for their origin), so the
reference checks never depend on a folder outside the repository.
"""
from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
ASAH = FIXTURES / "asah.csv"
VANDYKE = FIXTURES / "vandyke_mrmc.csv"
