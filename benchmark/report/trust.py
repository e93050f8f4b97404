"""Trusted signing keys: a list of full key fingerprints, never "whatever key the folder brought".

A run folder or bundle carries its own public key, so a valid signature only proves that the folder
matches itself. Whether the key belongs to someone you trust is a separate question, answered by a
list of full SHA-256 fingerprints (of the key's PEM bytes, as ``mammobench verify`` prints them):

* ``--trust FINGERPRINT`` on the command line (repeatable);
* the user's file ``~/.config/mammobench/trusted_keys.yaml`` (or the file named by
  ``MAMMOBENCH_TRUSTED_KEYS``);
* the project's list, ``trusted_keys`` in ``leaderboard/display.yaml`` (the only list the
  leaderboard uses);
* your own signing key (the private key at ``MAMMOBENCH_SIGNING_KEY`` or
  ``~/.config/mammobench/signing_key.pem``): runs you signed yourself (``mammobench verify`` only).

Entries are a fingerprint string or ``{fingerprint: ..., owner: ..., added: ...}``. An empty list
trusts nothing.

Example:
    >>> trust = TrustList({"ab" * 32: "--trust"})
    >>> trust.source("ab" * 32), trust.source("cd" * 32)
    ('--trust', None)
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from mammobench.errors import ConfigError
from mammobench.report.keys import default_key_path, fingerprint_of, load_key
from mammobench.yamlio import load_yaml

TRUST_ENV = "MAMMOBENCH_TRUSTED_KEYS"
FINGERPRINT = re.compile(r"^[0-9a-f]{64}$")
HOW_TO_TRUST = ("trust a key with `mammobench verify --trust FINGERPRINT`, by adding it to "
                "~/.config/mammobench/trusted_keys.yaml (`trusted_keys: [FINGERPRINT]`), or, for the "
                "leaderboard, by a pull request adding it to leaderboard/display.yaml trusted_keys "
                "(docs/leaderboard.md)")


def check_fingerprint(value: Any, *, where: str) -> str:
    """A full, lower-case SHA-256 fingerprint (64 hex digits); ConfigError naming ``where`` otherwise.

    Example:
        >>> check_fingerprint("AB" * 32, where="--trust")[:4]
        'abab'
    """
    text = str(value).strip().lower() if isinstance(value, str) else ""
    if not FINGERPRINT.match(text):
        raise ConfigError(f"{where}: {value!r} is not a full key fingerprint (64 hex digits, the SHA-256 that "
                          "`mammobench verify` prints); abbreviated fingerprints are not accepted")
    return text


def parse_trusted_keys(entries: Any, *, where: str) -> dict[str, str]:
    """``{fingerprint: label}`` from a YAML ``trusted_keys`` list (strings or mappings with ``fingerprint``)."""
    if entries is None:
        return {}
    if not isinstance(entries, list):
        raise ConfigError(f"{where}: trusted_keys must be a list of fingerprints, got {type(entries).__name__}")
    out = {}
    for i, entry in enumerate(entries):
        if isinstance(entry, dict):
            unknown = sorted(set(entry) - {"fingerprint", "owner", "added", "note"})
            if unknown:
                raise ConfigError(f"{where}: trusted_keys[{i}] has unknown key(s) {unknown}; "
                                  "valid: fingerprint, owner, added, note")
            fp = check_fingerprint(entry.get("fingerprint"), where=f"{where}: trusted_keys[{i}]")
            owner = str(entry.get("owner") or "")
        else:
            fp, owner = check_fingerprint(entry, where=f"{where}: trusted_keys[{i}]"), ""
        out[fp] = f"{where}" + (f" ({owner})" if owner else "")
    return out


def load_trusted_keys_file(path: str | os.PathLike) -> dict[str, str]:
    """The ``trusted_keys`` of a YAML file (``{}`` when the file does not exist)."""
    path = Path(path)
    if not path.is_file():
        return {}
    data = load_yaml(path, what="trusted-keys file") or {}  # aliases, depth and size bounded
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping with a 'trusted_keys' list")
    return parse_trusted_keys(data.get("trusted_keys"), where=str(path))


def user_trust_file() -> Path:
    """``$MAMMOBENCH_TRUSTED_KEYS`` or ``~/.config/mammobench/trusted_keys.yaml``."""
    env = os.environ.get(TRUST_ENV)
    return Path(env).expanduser() if env else Path.home() / ".config" / "mammobench" / "trusted_keys.yaml"


@dataclass
class TrustList:
    """Trusted fingerprints, each with where its trust comes from."""

    keys: dict[str, str] = field(default_factory=dict)

    def source(self, fingerprint: str) -> str | None:
        """Where ``fingerprint`` is trusted from, or None when it is not trusted."""
        return self.keys.get(fingerprint)

    def __bool__(self) -> bool:
        return bool(self.keys)

    def describe(self) -> str:
        """One line naming the sources consulted (for "not trusted" messages)."""
        sources = sorted(set(self.keys.values()))
        return f"{len(self.keys)} trusted key(s) from {', '.join(sources)}" if sources else "no trusted keys"


def _own_key() -> dict[str, str]:
    path = default_key_path()
    if not path.is_file():
        return {}
    try:
        return {fingerprint_of(load_key(path)): f"your own signing key ({path})"}
    except Exception:  # an unreadable key of one's own is no reason to fail a verification
        return {}


def user_trust(extra: Iterable[str] = (), *, include_own: bool = True,
               project_display: str | os.PathLike | None = None) -> TrustList:
    """The trust list of ``mammobench verify``: ``--trust`` values, the user's file, own key, project list.

    Args:
        extra: fingerprints given on the command line.
        include_own: trust the key this user signs with.
        project_display: a leaderboard ``display.yaml`` whose ``trusted_keys`` count too.
    """
    keys: dict[str, str] = {}
    if project_display is not None:
        keys.update(load_trusted_keys_file(project_display))
    keys.update(load_trusted_keys_file(user_trust_file()))
    if include_own:
        keys.update(_own_key())
    keys.update({check_fingerprint(fp, where="--trust"): "--trust" for fp in extra})
    return TrustList(keys)
