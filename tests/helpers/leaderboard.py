"""Leaderboard test helpers: a display.yaml trusting given keys, and a signed, rendered fake run.

Example:
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> write_display(d, ["ab" * 32]).name
    'display.yaml'
"""
from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from mammobench.leaderboard.display import PROJECT_LEADERBOARD
from mammobench.report.provenance import fingerprint_of, load_or_create_key, sign_run
from tests.helpers.run_fixture import fake_run_copy, rendered_run_copy


def write_display(root: Path, fingerprints: list[str]) -> Path:
    """The project's display.yaml with ``trusted_keys`` replaced by ``fingerprints``, written to ``root``."""
    data = yaml.safe_load((PROJECT_LEADERBOARD / "display.yaml").read_text(encoding="utf-8"))
    data["trusted_keys"] = list(fingerprints)
    root.mkdir(parents=True, exist_ok=True)
    (root / "display.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return root / "display.yaml"


def key_fingerprint(path: Path) -> str:
    """Fingerprint of the private key at ``path`` (created when absent)."""
    return fingerprint_of(load_or_create_key(path))


def signed_rendered_run(root: Path, **options) -> Path:
    """A signed fake run with a rendered report (selftest and reader-study sections included)."""
    run = rendered_run_copy(root, selftest=True, reader_study=True)
    if options.get("training_data"):  # only the card changes; the rendered report is reused for speed
        fresh = fake_run_copy(root / "fresh", **options)
        shutil.copy(fresh / "result.json", run / "result.json")
    sign_run(run)
    return run
