"""Crash-safe answer storage for the reading app: SQLite in WAL mode, one commit per answer.

Every answer is committed before the HTTP reply goes out (``journal_mode=WAL``,
``synchronous=FULL``), so a killed server or closed browser loses nothing that the reader saw
acknowledged. A reader can answer a (case, treatment) once; the primary key enforces it.

Example:
    >>> import tempfile, os
    >>> store = AnswerStore(os.path.join(tempfile.mkdtemp(), "a.sqlite"))
    >>> token = store.create_session("R1")
    >>> store.reader_for(token)
    'R1'
    >>> store.add_answer("R1", "c1", "turing", {"rating": 7, "call": "synthetic", "confidence": 2})
    True
    >>> store.answered("R1")
    {('c1', 'turing')}
"""
from __future__ import annotations

import os
import secrets
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pandas as pd

from mammobench.errors import DataError

ANSWER_FIELDS = ("rating", "call", "confidence", "malignancy", "click_x", "click_y", "duration_ms")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (token TEXT PRIMARY KEY, reader TEXT NOT NULL, created REAL NOT NULL,
                                     credential TEXT);
CREATE TABLE IF NOT EXISTS answers (
    reader TEXT NOT NULL, case_id TEXT NOT NULL, treatment TEXT NOT NULL,
    rating REAL NOT NULL, call TEXT, confidence INTEGER, malignancy REAL,
    click_x REAL, click_y REAL, duration_ms INTEGER, answered_at REAL NOT NULL,
    PRIMARY KEY (reader, case_id, treatment)
);
"""


class AnswerStore:
    """Thread-safe SQLite store of reader sessions and answers (WAL, synchronous=FULL)."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.executescript(_SCHEMA)
            columns = {row[1] for row in self._conn.execute("PRAGMA table_info(sessions)")}
            if "credential" not in columns:  # a database written before reader codes existed
                self._conn.execute("ALTER TABLE sessions ADD COLUMN credential TEXT")
        except sqlite3.DatabaseError as err:
            raise DataError(f"{self.path}: not a usable answers database ({err}); "
                            "point --db at a new file or restore the database") from err
        self._lock = threading.Lock()

    def close(self) -> None:
        """Close the connection (answers are already committed)."""
        self._conn.close()

    def create_session(self, reader: str, credential: str | None = None) -> str:
        """Open a session for ``reader`` (signed in with ``credential``, the code's hash) and return its token."""
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._conn.execute("INSERT INTO sessions (token, reader, created, credential) VALUES (?, ?, ?, ?)",
                               (token, reader, time.time(), credential))
        return token

    def session(self, token: str | None) -> tuple[str, str | None] | None:
        """``(reader, credential)`` of the session ``token``, or None."""
        if not token or len(token) > 128:
            return None
        with self._lock:
            row = self._conn.execute("SELECT reader, credential FROM sessions WHERE token = ?", (token,)).fetchone()
        return (row[0], row[1]) if row else None

    def reader_for(self, token: str | None) -> str | None:
        """The reader signed in with ``token``, or None."""
        found = self.session(token)
        return found[0] if found else None

    def answered(self, reader: str) -> set[tuple[str, str]]:
        """The (case_id, treatment) pairs ``reader`` has answered."""
        with self._lock:
            rows = self._conn.execute("SELECT case_id, treatment FROM answers WHERE reader = ?", (reader,))
            return {(c, t) for c, t in rows.fetchall()}

    def add_answer(self, reader: str, case_id: str, treatment: str, fields: dict[str, Any]) -> bool:
        """Store one answer and commit it at once; False when it was already answered."""
        values = [fields.get(k) for k in ANSWER_FIELDS]
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                self._conn.execute(
                    f"INSERT INTO answers (reader, case_id, treatment, {', '.join(ANSWER_FIELDS)}, answered_at) "
                    f"VALUES (?, ?, ?, {', '.join('?' * len(ANSWER_FIELDS))}, ?)",
                    (reader, case_id, treatment, *values, time.time()))
                self._conn.execute("COMMIT")
            except sqlite3.IntegrityError:
                self._conn.execute("ROLLBACK")
                return False
        return True

    def all_answers(self) -> pd.DataFrame:
        """Every answer of every reader (analyst use only; the app never serves this)."""
        with self._lock:
            return pd.read_sql_query("SELECT * FROM answers ORDER BY reader, answered_at", self._conn)
