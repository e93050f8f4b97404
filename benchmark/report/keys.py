"""The signing keys: where the user's Ed25519 key lives, loading/creating it, its public half and fingerprint.

A key's fingerprint is the SHA-256 of its public PEM bytes (64 hex digits); trust lists
(:mod:`mammobench.report.trust`) hold fingerprints. Key custody and rotation: docs/leaderboard.md.

Example:
    >>> from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    >>> len(fingerprint_of(Ed25519PrivateKey.generate()))
    64
"""
from __future__ import annotations

import os
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from mammobench.errors import IntegrityError
from mammobench.io import atomic_create_bytes, sha256_bytes
from mammobench.report.artefacts import read_regular_file

KEY_ENV = "MAMMOBENCH_SIGNING_KEY"


def default_key_path() -> Path:
    """Where the user's private signing key lives (env ``MAMMOBENCH_SIGNING_KEY`` wins)."""
    env = os.environ.get(KEY_ENV)
    return Path(env).expanduser() if env else Path.home() / ".config" / "mammobench" / "signing_key.pem"


def load_key(path: str | Path) -> Ed25519PrivateKey:
    """Load an existing unencrypted Ed25519 PEM private key.

    Raises:
        IntegrityError: the file is missing, not a regular file, or not an Ed25519 PEM key.
    """
    path = Path(path)
    try:
        key = serialization.load_pem_private_key(read_regular_file(path, 1 << 16), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as err:
        raise IntegrityError(f"{path}: not a readable unencrypted PEM private key ({err}); "
                             f"delete it to create a new key or point {KEY_ENV} elsewhere") from err
    if not isinstance(key, Ed25519PrivateKey):
        raise IntegrityError(f"{path}: signing key must be Ed25519, got {type(key).__name__}")
    return key


def load_or_create_key(path: str | Path | None = None) -> Ed25519PrivateKey:
    """Load the Ed25519 private key at ``path`` (default :func:`default_key_path`), creating one (mode 0600) if absent.

    Raises:
        IntegrityError: when the file exists but is not an unencrypted Ed25519 PEM key.
    """
    path = Path(path) if path else default_key_path()
    if path.exists() or path.is_symlink():
        return load_key(path)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # exclusive create: of two first runs at once, one key wins and the other run loads it (a replaced
    # key would orphan the runs the loser already signed)
    return key if atomic_create_bytes(path, pem, mode=0o600) else load_key(path)


def public_pem(key: Ed25519PrivateKey) -> bytes:
    """PEM bytes of the public half of ``key``."""
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


def fingerprint_of(key: Ed25519PrivateKey) -> str:
    """The key's full fingerprint: SHA-256 of its public PEM bytes (64 hex digits)."""
    return sha256_bytes(public_pem(key))
