"""Who may read a study: per-reader sign-in codes, issued by the study owner, checked by the app.

``mammobench reader build`` (or ``mammobench reader codes``) issues each reader a random code
(72 bits, ``secrets.token_urlsafe(9)``) and writes

* ``STUDY/access.json`` — what the app reads: each reader's SHA-256 of their code, never the code;
* ``STUDY/key/reader_codes.csv`` — for the study owner only (``key/`` is never served or packaged):
  ``reader, code, link``; the owner hands each reader their code or link
  (``http://HOST:PORT/#code=CODE`` — the fragment never reaches the server's logs or a Referer).

A reader signs in with the code alone; the app finds whose it is (constant-time comparison).
Re-issuing a reader's code invalidates the old one; open sessions of that reader end.

Example:
    >>> import tempfile
    >>> study = tempfile.mkdtemp()
    >>> codes = issue_codes(study, ["R01", "R02"], seed_bytes=b"doc")
    >>> reader_for_code(load_access(study), codes["R02"])
    'R02'
    >>> reader_for_code(load_access(study), "guess") is None
    True
"""
from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path
from typing import Any

from mammobench.errors import DataError
from mammobench.io import atomic_write_json, atomic_write_text, read_json

ACCESS_FILE = "access.json"
CODES_FILE = "key/reader_codes.csv"
READER_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def _digest(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


def check_reader_ids(readers: list[str]) -> list[str]:
    """Reader ids as given, checked: 1–64 of ``A-Za-z0-9._-``, no duplicates.

    Raises:
        DataError: naming the bad or repeated id.
    """
    seen: set[str] = set()
    for reader in readers:
        if not READER_RE.match(reader):
            raise DataError(f"reader id {reader!r}: use 1-64 letters, digits, '.', '_' or '-'")
        if reader in seen:
            raise DataError(f"reader id {reader!r} is listed twice")
        seen.add(reader)
    if not readers:
        raise DataError("no reader ids given; name at least one reader (e.g. --readers R01,R02)")
    return list(readers)


def default_reader_ids(n_readers: int) -> list[str]:
    """``R01 … Rn``.

    Example:
        >>> default_reader_ids(3)
        ['R01', 'R02', 'R03']
    """
    return [f"R{k:02d}" for k in range(1, n_readers + 1)]


def load_access(study_dir: str | os.PathLike) -> dict[str, str]:
    """``{reader: sha256(code)}`` from ``STUDY/access.json``.

    Raises:
        DataError: no access file (codes never issued) or a malformed one.
    """
    path = Path(study_dir) / ACCESS_FILE
    if not path.is_file():
        raise DataError(f"{study_dir}: no {ACCESS_FILE}; issue reader codes first with "
                        f"'mammobench reader codes {study_dir} --readers R01,R02,...'")
    data = read_json(path)
    readers = data.get("readers") if isinstance(data, dict) else None
    if not isinstance(readers, dict) or not all(isinstance(v, str) and len(v) == 64 for v in readers.values()):
        raise DataError(f"{path}: malformed; re-issue the codes with 'mammobench reader codes'")
    return dict(readers)


def issue_codes(study_dir: str | os.PathLike, readers: list[str], *, base_url: str = "http://127.0.0.1:8765",
                seed_bytes: bytes | None = None) -> dict[str, str]:
    """Issue (or re-issue) codes for ``readers``; keep other readers' codes. Returns ``{reader: code}``.

    Args:
        study_dir: the study folder.
        readers: reader ids to (re)issue.
        base_url: where the app will be served, for the links in ``key/reader_codes.csv``.
        seed_bytes: only for reproducible documentation examples; real codes come from ``secrets``.
    """
    study_dir = Path(study_dir)
    readers = check_reader_ids(readers)
    access = load_access(study_dir) if (study_dir / ACCESS_FILE).is_file() else {}
    owner = _read_codes(study_dir)
    for reader in readers:
        code = (hashlib.sha256(seed_bytes + reader.encode()).hexdigest()[:12] if seed_bytes is not None
                else secrets.token_urlsafe(9))
        access[reader], owner[reader] = _digest(code), code
    atomic_write_json(study_dir / ACCESS_FILE, {"schema_version": 1, "hash": "sha256", "readers": access})
    lines = ["reader,code,link"] + [f"{r},{c},{base_url.rstrip('/')}/#code={c}" for r, c in sorted(owner.items())
                                    if r in access]
    atomic_write_text(study_dir / CODES_FILE, "\n".join(lines) + "\n")
    return {r: owner[r] for r in readers}


def _read_codes(study_dir: Path) -> dict[str, str]:
    path = study_dir / CODES_FILE
    if not path.is_file():
        return {}
    rows = [line.split(",") for line in path.read_text(encoding="utf-8").splitlines()[1:] if line.strip()]
    return {row[0]: row[1] for row in rows if len(row) >= 2}


def reader_for_code(access: dict[str, str], code: Any) -> str | None:
    """The reader whose code this is, or None (every entry compared, in constant time)."""
    if not isinstance(code, str) or not 8 <= len(code) <= 64:
        return None
    digest, found = _digest(code), None
    for reader, expected in access.items():
        if hmac.compare_digest(digest, expected):
            found = reader
    return found
