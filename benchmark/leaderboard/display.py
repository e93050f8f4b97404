"""The leaderboard's display metadata (``display.yaml``) and the project's trusted-key list in it.

``trusted_keys`` is the only trust list the leaderboard uses: a bundle is ranked only when the key
that signed it has its full fingerprint there. An empty list trusts nothing (every bundle is
rejected with a message saying how to add a key), never "accept anything".

Example:
    >>> display = load_display(PROJECT_LEADERBOARD)
    >>> sorted(display["audit_flags"])
    ['adherence', 'bias', 'fidelity', 'leakage', 'privacy']
"""
from __future__ import annotations

from pathlib import Path

from mammobench.errors import ConfigError
from mammobench.report.trust import TrustList, parse_trusted_keys
from mammobench.yamlio import load_yaml

PROJECT_LEADERBOARD = Path(__file__).resolve().parents[2] / "leaderboard"
DEFAULT_DISPLAY = {"title": "MammoBench leaderboard", "description": "", "metric_labels": {"auc": "AUC"},
                   "audit_flags": {"fidelity": ["fidelity"], "adherence": ["adherence", "conditional"],
                                   "privacy": ["memorisation", "privacy"], "leakage": ["leakage"], "bias": ["bias"]},
                   "trusted_keys": []}


def load_display(leaderboard_dir: str | Path) -> dict:
    """``display.yaml`` merged over the defaults; unknown keys and malformed fingerprints are a ConfigError."""
    path = Path(leaderboard_dir) / "display.yaml"
    data = {}
    if path.is_file():
        data = load_yaml(path, what="leaderboard display file") or {}  # aliases, depth and size bounded
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of display settings")
    unknown = sorted(set(data) - set(DEFAULT_DISPLAY))
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) {unknown}; valid keys: {sorted(DEFAULT_DISPLAY)}")
    display = {**DEFAULT_DISPLAY, **data}
    display["trusted_keys"] = display["trusted_keys"] or []
    parse_trusted_keys(display["trusted_keys"], where=f"{path}")  # fail early on a malformed entry
    return display


def project_trust(leaderboard_dir: str | Path) -> TrustList:
    """The project's trust list: ``trusted_keys`` of ``<leaderboard_dir>/display.yaml``."""
    display = load_display(leaderboard_dir)
    return TrustList(parse_trusted_keys(display["trusted_keys"], where="display.yaml trusted_keys"))
