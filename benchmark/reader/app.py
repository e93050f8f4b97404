"""The reading web app: stdlib ``ThreadingHTTPServer`` + SQLite (WAL), bound to localhost by default.

Routes (all JSON except ``/`` and images):

* ``GET /`` — the single reading page (``static/index.html``, inline JS/CSS);
* ``POST /api/signin`` ``{"reader": ID}`` — opens a session (HttpOnly cookie ``mb_session``);
* ``GET /api/next`` — the signed-in reader's next unanswered case, position and total;
* ``POST /api/answer`` — stores one answer, committed before the reply;
* ``GET /api/progress`` — the signed-in reader's own progress only;
* ``GET /images/<case_id>.png`` — a study image (only ids of the study; nothing else on disk).

Readers never see the key (it is never read by the app) or other readers' answers (every query
is filtered by the session's reader).

Example:
    $ mammobench reader serve study --port 8765
"""
from __future__ import annotations

import json
import os
import re
from http import HTTPStatus
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from mammobench.errors import DataError
from mammobench.reader.store import AnswerStore
from mammobench.reader.study import DEFAULT_DB, IMAGES_DIR, load_study, reading_order
from mammobench.resources import resource_path

_READER_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_IMAGE_RE = re.compile(r"^/images/([A-Za-z0-9_-]{1,64})\.png$")
_MAX_BODY = 16 * 1024


class ReaderApp:
    """Study state shared by the request handlers: public study data, image folder, answer store."""

    def __init__(self, study_dir: str | os.PathLike, db_path: str | os.PathLike | None = None):
        self.study_dir = Path(study_dir)
        self.study = load_study(self.study_dir)
        self.case_ids = {c["case_id"] for c in self.study["cases"]}
        self.ai_scores = {c["case_id"]: c.get("ai_score") for c in self.study["cases"]}
        self.store = AnswerStore(db_path or self.study_dir / DEFAULT_DB)
        self.page = resource_path("mammobench.reader", "static", "index.html").read_bytes()

    def next_case(self, reader: str) -> dict[str, Any]:
        """The reader's next unanswered case (resume point) with position and total."""
        order = reading_order(self.study, reader)
        done = self.store.answered(reader)
        remaining = [item for item in order if item not in done]
        info: dict[str, Any] = {"reader": reader, "answered": len(order) - len(remaining), "total": len(order),
                                "design": self.study["design"], "done": not remaining}
        if remaining:
            case_id, treatment = remaining[0]
            info.update(case_id=case_id, treatment=treatment, position=info["answered"] + 1)
            if treatment == "aided":
                info["ai_score"] = self.ai_scores.get(case_id)
        return info

    def validate_answer(self, reader: str, body: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
        """Check an answer against the design; return (case_id, treatment, stored fields)."""
        case_id, treatment = str(body.get("case_id", "")), str(body.get("treatment", ""))
        if (case_id, treatment) not in set(reading_order(self.study, reader)):
            raise DataError(f"case {case_id!r} / treatment {treatment!r} is not in this reader's study")
        fields: dict[str, Any] = {"duration_ms": _as_int(body.get("duration_ms", 0), 0, 10 ** 9, "duration_ms")}
        if self.study["design"] == "turing":
            call = body.get("call")
            if call not in ("real", "synthetic"):
                raise DataError("answer needs 'call': 'real' or 'synthetic'")
            conf = _as_int(body.get("confidence"), 1, 5, "confidence")
            fields.update(call=call, confidence=conf, rating=5 + conf if call == "synthetic" else 6 - conf)
        else:
            mal = _as_int(body.get("malignancy"), 0, 100, "malignancy")
            fields.update(malignancy=mal, rating=mal)
            for axis in ("click_x", "click_y"):
                value = body.get(axis)
                if value is not None:
                    value = float(value)
                    if not 0.0 <= value <= 1.0:
                        raise DataError(f"'{axis}' must be a fraction of the image size in [0, 1]")
                fields[axis] = value
        return case_id, treatment, fields


def _as_int(value: Any, low: int, high: int, name: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError) as err:
        raise DataError(f"answer field '{name}' must be an integer in [{low}, {high}]") from err
    if not low <= number <= high:
        raise DataError(f"answer field '{name}' must be in [{low}, {high}], got {number}")
    return number


class _Handler(BaseHTTPRequestHandler):
    app: ReaderApp  # set by make_server
    server_version = "MammoBenchReader/1"

    def log_message(self, fmt: str, *args: Any) -> None:  # keep the console quiet
        pass

    def _send(self, status: int, body: bytes, ctype: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(obj).encode(), "application/json", headers)

    def _reader(self) -> str | None:
        cookie = SimpleCookie(self.headers.get("Cookie", ""))
        return self.app.store.reader_for(cookie["mb_session"].value if "mb_session" in cookie else None)

    def _body(self) -> dict[str, Any]:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError as err:
            raise DataError("bad Content-Length header") from err
        if not 0 <= length <= _MAX_BODY:
            raise DataError("request body too large")
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except json.JSONDecodeError as err:
            raise DataError(f"request body is not JSON ({err})") from err
        if not isinstance(body, dict):
            raise DataError("request body must be a JSON object")
        return body

    def do_GET(self) -> None:  # noqa: N802 (http.server API)
        if self.path in ("/", "/index.html"):
            return self._send(200, self.app.page, "text/html; charset=utf-8")
        reader = self._reader()
        if reader is None:
            return self._json(HTTPStatus.UNAUTHORIZED, {"error": "sign in first"})
        if self.path in ("/api/next", "/api/progress"):
            return self._json(200, self.app.next_case(reader))
        match = _IMAGE_RE.match(self.path)
        path = self.app.study_dir / IMAGES_DIR / f"{match.group(1)}.png" if match else None
        if match and match.group(1) in self.app.case_ids and path is not None and path.is_file():
            return self._send(200, path.read_bytes(), "image/png")
        return self._json(HTTPStatus.NOT_FOUND, {"error": "not found"})

    def do_POST(self) -> None:  # noqa: N802
        try:
            body = self._body()
            if self.path == "/api/signin":
                return self._signin(body)
            reader = self._reader()
            if reader is None:
                return self._json(HTTPStatus.UNAUTHORIZED, {"error": "sign in first"})
            if self.path != "/api/answer":
                return self._json(HTTPStatus.NOT_FOUND, {"error": "not found"})
            case_id, treatment, fields = self.app.validate_answer(reader, body)
            if not self.app.store.add_answer(reader, case_id, treatment, fields):
                return self._json(HTTPStatus.CONFLICT, {"error": "already answered", **self.app.next_case(reader)})
            return self._json(200, {"saved": True, **self.app.next_case(reader)})
        except DataError as err:
            return self._json(HTTPStatus.BAD_REQUEST, {"error": str(err)})

    def _signin(self, body: dict[str, Any]) -> None:
        reader = str(body.get("reader", "")).strip()
        if not _READER_RE.match(reader):
            raise DataError("reader ID: 1-64 letters, digits, '.', '_' or '-'")
        token = self.app.store.create_session(reader)
        cookie = f"mb_session={token}; HttpOnly; SameSite=Strict; Path=/"
        return self._json(200, self.app.next_case(reader), {"Set-Cookie": cookie})


def make_server(study_dir: str | os.PathLike, *, host: str = "127.0.0.1", port: int = 8765,
                db_path: str | os.PathLike | None = None) -> ThreadingHTTPServer:
    """Create (not start) the app server; ``port=0`` picks a free port."""
    handler = type("ReaderHandler", (_Handler,), {"app": ReaderApp(study_dir, db_path)})
    return ThreadingHTTPServer((host, port), handler)


def serve(study_dir: str | os.PathLike, *, host: str = "127.0.0.1", port: int = 8765,
          db_path: str | os.PathLike | None = None) -> None:
    """Serve the study until interrupted (answers are committed as they arrive)."""
    server = make_server(study_dir, host=host, port=port, db_path=db_path)
    if host not in ("127.0.0.1", "localhost", "::1"):
        print(f"warning: listening on {host}; readers on the network can reach the app", flush=True)
    print(f"reading app for {study_dir} on http://{host}:{server.server_address[1]}/", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
        server.RequestHandlerClass.app.store.close()  # type: ignore[attr-defined]
