"""The signing keys: where the user's Ed25519 key lives, loading/creating it, its public half and fingerprint.

A key's fingerprint is the SHA-256 of its public PEM bytes (64 hex digits); trust lists
(:mod:`mammobench.report.trust`) hold fingerprints. Key custody and rotation: docs/leaderboard.md.

Example:
    >>> from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    >>> len(fingerprint_of(Ed25519PrivateKey.generate()))
    64
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from mammobench.errors import IntegrityError
from mammobench.io import sha256_bytes
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
    return key if _publish_new_key(path, pem) else load_key(path)


def _publish_new_key(path: Path, pem: bytes) -> bool:
    """Put ``pem`` at ``path`` unless a key appeared there meanwhile (two first runs at once).

    The key is written completely to a private temporary file, then hard-linked into place: the link
    fails when ``path`` exists, so one of two concurrent first runs wins and the other loads the winner's
    key instead of replacing it (a replaced key would orphan the runs the loser already signed).
    Returns True when ``pem`` became the key.
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        return True
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def public_pem(key: Ed25519PrivateKey) -> bytes:
    """PEM bytes of the public half of ``key``."""
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


def fingerprint_of(key: Ed25519PrivateKey) -> str:
    """The key's full fingerprint: SHA-256 of its public PEM bytes (64 hex digits)."""
    return sha256_bytes(public_pem(key))
