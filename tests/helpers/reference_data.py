"""Paths of the small public reference datasets the statistics are checked against.

``tests/fixtures/asah.csv`` (pROC's ``aSAH``), ``tests/fixtures/vandyke_mrmc.csv`` (MRMCaov's
``VanDyke``), the Franken and FedRoc ``.lrc`` files and the University of Iowa OR-DBM MRMC 2.51
listings for them (``tests/fixtures/iowa/``) are committed with the tests (see
``tests/fixtures/README.md`` for their origin), so the reference checks never depend on a folder
outside the repository.
"""
from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
ASAH = FIXTURES / "asah.csv"
VANDYKE = FIXTURES / "vandyke_mrmc.csv"
FRANKEN_LRC = FIXTURES / "franken.lrc"
FEDROC_LRC = FIXTURES / "fedroc.lrc"
FRANKEN_LISTING = FIXTURES / "iowa" / "franken_ordbm251.txt"
FEDROC_LISTING = FIXTURES / "iowa" / "fedroc_ordbm251.txt"
