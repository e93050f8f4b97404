"""The reading web app: stdlib ``ThreadingHTTPServer`` + SQLite (WAL), bound to localhost by default.

Routes (all JSON except ``/`` and images):

* ``GET /`` — the single reading page (``static/index.html``, inline JS/CSS);
* ``POST /api/signin`` ``{"code": CODE}`` — the reader's own code (:mod:`mammobench.reader.access`)
  opens a session (HttpOnly, SameSite=Strict cookie ``mb_session``);
* ``GET /api/next`` — the signed-in reader's next unanswered case, position and total;
* ``POST /api/answer`` — stores one answer, committed before the reply;
* ``GET /api/progress`` — the signed-in reader's own progress only;
* ``GET /images/<case_id>.png`` — a study image (only ids of the study; nothing else on disk; with
  an enforced order only the reader's current and answered cases).

Every request must carry this server's ``Host`` (DNS rebinding) and every POST must come from its
own origin as ``application/json`` (login CSRF); bodies are size- and depth-limited and validated
field by field (:mod:`mammobench.reader.requests`). Refusals are 400/403 with a message — never a
traceback. When the study enforces the reading order (``study.json``: ``enforce_order``), a reader
can answer only their next case. Readers never see the key or other readers' answers.

Example:
    $ mammobench reader serve study --port 8765
"""
from __future__ import annotations

import json
import os
import re
import sys
from http import HTTPStatus
from http.cookies import CookieError, SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from mammobench.errors import DataError
from mammobench.reader.access import load_access, reader_for_code
from mammobench.reader.requests import MAX_BODY, OriginError, OriginPolicy, answer_fields, parse_body
from mammobench.reader.store import AnswerStore
from mammobench.reader.study import DEFAULT_DB, IMAGES_DIR, load_study, reading_order
from mammobench.resources import resource_path

_IMAGE_RE = re.compile(r"^/images/([A-Za-z0-9_-]{1,64})\.png$")
_SECURITY_HEADERS = {
    "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                               "img-src 'self' blob: data:; frame-ancestors 'none'; form-action 'none'",
}


class ReaderApp:
    """Study state shared by the request handlers: public study data, reader codes, answer store."""

    def __init__(self, study_dir: str | os.PathLike, db_path: str | os.PathLike | None = None):
        self.study_dir = Path(study_dir)
        self.study = load_study(self.study_dir)
        self.access = load_access(self.study_dir)
        self.enforce_order = bool(self.study.get("enforce_order", False))
        self.case_ids = {c["case_id"] for c in self.study["cases"]}
        self.ai_scores = {c["case_id"]: c.get("ai_score") for c in self.study["cases"]}
        self.store = AnswerStore(db_path or self.study_dir / DEFAULT_DB)
        self.page = resource_path("mammobench.reader", "static", "index.html").read_bytes()

    def signed_in(self, token: str | None) -> str | None:
        """The reader of a session whose code is still the current one (re-issuing a code ends its sessions)."""
        found = self.store.session(token)
        if found is None or found[0] not in self.access or found[1] != self.access[found[0]]:
            return None
        return found[0]

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
        """Check an answer against the design and the reading order; return (case_id, treatment, stored fields)."""
        fields = answer_fields(body, self.study["design"])
        case_id, treatment = fields.pop("case_id"), fields.pop("treatment")
        if (case_id, treatment) not in set(reading_order(self.study, reader)):
            raise DataError(f"case {case_id!r} / treatment {treatment!r} is not in this reader's study")
        if self.enforce_order and (case_id, treatment) not in self.store.answered(reader):
            current = self.next_case(reader)
            if (current.get("case_id"), current.get("treatment")) != (case_id, treatment):
                raise DataError(f"this study is read in the assigned order: answer case {current.get('position')} "
                                f"({current.get('case_id')!r}) first")
        return case_id, treatment, fields

    def may_see(self, reader: str, case_id: str) -> bool:
        """Whether ``reader`` may load the image of ``case_id`` (with an enforced order: current or answered)."""
        if case_id not in self.case_ids:
            return False
        if not self.enforce_order:
            return True
        current = self.next_case(reader).get("case_id")
        return case_id == current or any(c == case_id for c, _ in self.store.answered(reader))


class _Handler(BaseHTTPRequestHandler):
    app: ReaderApp  # set by make_server
    policy: OriginPolicy
    server_version = "MammoBenchReader/2"

    def log_message(self, fmt: str, *args: Any) -> None:  # keep the console quiet
        pass

    def _send(self, status: int, body: bytes, ctype: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for key, value in {**_SECURITY_HEADERS, **(headers or {})}.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(obj).encode(), "application/json", headers)

    def _reader(self) -> str | None:
        try:
            cookie = SimpleCookie(self.headers.get("Cookie", ""))
        except CookieError:
            return None
        return self.app.signed_in(cookie["mb_session"].value if "mb_session" in cookie else None)

    def _body(self) -> dict[str, Any]:
        if self.headers.get("Transfer-Encoding"):
            raise DataError("chunked request bodies are not accepted; send Content-Length")
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise DataError("bad Content-Length header") from None
        if not 0 <= length <= MAX_BODY:
            raise DataError(f"request body too large ({length} bytes; at most {MAX_BODY})")
        return parse_body(self.rfile.read(length))

    def _guarded(self, handler) -> None:
        """Run a route: origin refusals → 403, bad input → 400, anything unexpected → 500 with one line."""
        try:
            self.policy.check_host(self.headers.get("Host"))
            handler()
        except OriginError as err:
            self._json(HTTPStatus.FORBIDDEN, {"error": str(err)})
        except DataError as err:
            self._json(HTTPStatus.BAD_REQUEST, {"error": str(err)})
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception as err:  # noqa: BLE001 - the server must answer, not print a traceback
            print(f"reading app: internal error on {self.command} {self.path[:80]!r}: {type(err).__name__}: {err}",
                  file=sys.stderr, flush=True)
            self._json(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": "internal error; the study owner can see the log"})

    def do_GET(self) -> None:  # noqa: N802 (http.server API)
        self._guarded(self._get)

    def do_POST(self) -> None:  # noqa: N802
        self._guarded(self._post)

    def _get(self) -> None:
        if self.path in ("/", "/index.html"):
            return self._send(200, self.app.page, "text/html; charset=utf-8")
        reader = self._reader()
        if reader is None:
            return self._json(HTTPStatus.UNAUTHORIZED, {"error": "sign in first"})
        if self.path in ("/api/next", "/api/progress"):
            return self._json(200, self.app.next_case(reader))
        match = _IMAGE_RE.match(self.path)
        path = self.app.study_dir / IMAGES_DIR / f"{match.group(1)}.png" if match else None
        if match and self.app.may_see(reader, match.group(1)) and path is not None and path.is_file():
            return self._send(200, path.read_bytes(), "image/png")
        return self._json(HTTPStatus.NOT_FOUND, {"error": "not found"})

    def _post(self) -> None:
        self.policy.check_post(self.headers.get("Origin"), self.headers.get("Sec-Fetch-Site"),
                               self.headers.get("Content-Type"))
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

    def _signin(self, body: dict[str, Any]) -> None:
        if set(body) != {"code"}:
            raise DataError("sign in with your reader code: {\"code\": \"...\"}")
        reader = reader_for_code(self.app.access, body["code"])
        if reader is None:
            return self._json(HTTPStatus.FORBIDDEN, {"error": "unknown reader code; use the code or link the study "
                                                               "owner gave you"})
        token = self.app.store.create_session(reader, self.app.access[reader])
        cookie = f"mb_session={token}; HttpOnly; SameSite=Strict; Path=/"
        return self._json(200, self.app.next_case(reader), {"Set-Cookie": cookie})


def make_server(study_dir: str | os.PathLike, *, host: str = "127.0.0.1", port: int = 8765,
                db_path: str | os.PathLike | None = None, allowed_hosts: tuple[str, ...] = ()) -> ThreadingHTTPServer:
    """Create (not start) the app server; ``port=0`` picks a free port.

    Args:
        allowed_hosts: other names the server may be reached by (e.g. a DNS name on a ward network).

    Raises:
        DataError: a study without reader codes (``access.json``).
    """
    app = ReaderApp(study_dir, db_path)
    handler = type("ReaderHandler", (_Handler,), {"app": app})
    server = ThreadingHTTPServer((host, port), handler)
    handler.policy = OriginPolicy(host, server.server_address[1], tuple(allowed_hosts))
    return server


def serve(study_dir: str | os.PathLike, *, host: str = "127.0.0.1", port: int = 8765,
          db_path: str | os.PathLike | None = None, allowed_hosts: tuple[str, ...] = ()) -> None:
    """Serve the study until interrupted (answers are committed as they arrive)."""
    server = make_server(study_dir, host=host, port=port, db_path=db_path, allowed_hosts=allowed_hosts)
    if host not in ("127.0.0.1", "localhost", "::1"):
        print(f"warning: listening on {host}; readers on the network can reach the app (each still needs "
              "their code)", flush=True)
    print(f"reading app for {study_dir} on http://{host}:{server.server_address[1]}/ "
          f"(reader links: {Path(study_dir) / 'key' / 'reader_codes.csv'})", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
        server.RequestHandlerClass.app.store.close()  # type: ignore[attr-defined]
