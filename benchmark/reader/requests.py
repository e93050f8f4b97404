"""What the reading app accepts from a browser: origin checks, bounded JSON bodies, field-by-field validation.

* :class:`OriginPolicy` — the ``Host`` header must name the address the server is bound to (or an
  alias the owner allowed), which defeats DNS rebinding; a POST must come from that same origin
  (``Origin``, else ``Sec-Fetch-Site``) and be ``application/json`` — so a cross-site form or a
  ``text/plain`` ``fetch`` (no CORS preflight) to ``/api/signin`` is refused (login CSRF).
* :func:`parse_body` — at most :data:`MAX_BODY` bytes, nesting at most :data:`MAX_DEPTH`, no
  ``NaN``/``Infinity``/``1e309`` (non-finite numbers), a JSON object.
* :func:`answer_fields` — every field checked for type and range and rejected, never coerced:
  ``confidence: 3.9`` or ``true`` is an error (not 3 or 1); unknown fields are errors.

Every refusal is a :class:`~mammobench.errors.DataError` whose message the app returns with status
400 (403 for origin refusals).

Example:
    >>> parse_body(b'{"code": "abc"}', "application/json")
    {'code': 'abc'}
    >>> answer_fields({"case_id": "c1", "treatment": "turing", "call": "real", "confidence": 4}, "turing")["rating"]
    2
"""
from __future__ import annotations

import json
import math
import socket
from dataclasses import dataclass, field
from typing import Any

from mammobench.errors import DataError

MAX_BODY = 16 * 1024
MAX_DEPTH = 3
LOOPBACK = ("127.0.0.1", "localhost", "::1")


class OriginError(DataError):
    """A request from the wrong host or origin (answered with 403)."""


def _host_names(host: str, extra: tuple[str, ...]) -> set[str]:
    names = {host.lower(), *(e.lower() for e in extra)}
    if host in LOOPBACK:
        names |= set(LOOPBACK)
    if host in ("0.0.0.0", "::", ""):  # every interface: this machine's names and addresses
        name = socket.gethostname()
        names |= {name.lower(), socket.getfqdn().lower(), *LOOPBACK}
        try:
            names |= set(socket.gethostbyname_ex(name)[2])
        except OSError:
            pass
    return names


@dataclass(frozen=True)
class OriginPolicy:
    """The hosts (``name:port``) and origins (``http://name:port``) the app answers."""

    host: str
    port: int
    extra_hosts: tuple[str, ...] = ()
    hosts: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        names = _host_names(self.host, self.extra_hosts)
        bracket = {f"[{n}]" if ":" in n else n for n in names}
        object.__setattr__(self, "hosts", frozenset(f"{n}:{self.port}" for n in bracket)
                           | (frozenset(bracket) if self.port == 80 else frozenset()))

    def check_host(self, host_header: str | None) -> None:
        """Refuse a request whose ``Host`` is not this server (DNS rebinding)."""
        if (host_header or "").strip().lower() not in self.hosts:
            raise OriginError(f"Host {host_header!r} is not this reading app (expected one of "
                              f"{sorted(self.hosts)}); open the link the study owner gave you")

    def check_post(self, origin: str | None, fetch_site: str | None, content_type: str | None) -> None:
        """Refuse a cross-origin or non-JSON POST (login CSRF; forms and text/plain skip CORS preflight)."""
        if origin is not None and origin.lower() != "null":
            if origin.lower().removeprefix("http://") not in self.hosts:
                raise OriginError(f"cross-origin request from {origin!r} refused")
        elif origin is not None or (fetch_site or "").lower() in ("cross-site", "same-site"):
            raise OriginError("cross-origin request refused")
        if (content_type or "").split(";")[0].strip().lower() != "application/json":
            raise DataError(f"Content-Type must be application/json; got {content_type!r}")


def _depth(raw: bytes) -> int:
    """Deepest ``[``/``{`` nesting outside strings (so a deep body is refused before parsing)."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in raw.decode("utf-8", errors="replace"):
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise DataError(f"number {text} is out of range")
    return value


def _no_constant(name: str) -> Any:
    raise DataError(f"{name} is not a number JSON allows")


def parse_body(raw: bytes, content_type: str | None = "application/json") -> dict[str, Any]:
    """Parse a request body into a dict (see the module docstring for the limits).

    Raises:
        DataError: too large, too deep, not JSON, non-finite numbers, or not an object.
    """
    if len(raw) > MAX_BODY:
        raise DataError(f"request body too large ({len(raw)} bytes; at most {MAX_BODY})")
    if _depth(raw) > MAX_DEPTH:
        raise DataError(f"request body nested too deeply (at most {MAX_DEPTH} levels)")
    try:
        body = json.loads(raw or b"{}", parse_float=_finite, parse_constant=_no_constant)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise DataError(f"request body is not JSON ({err})") from None
    if not isinstance(body, dict):
        raise DataError("request body must be a JSON object")
    return body


def _integer(body: dict, name: str, low: int, high: int, *, required: bool = True) -> int | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise DataError(f"'{name}' must be a whole number from {low} to {high}; got {value!r}")
    if not low <= value <= high:
        raise DataError(f"'{name}' must be from {low} to {high}; got {value}")
    return value


def _fraction(body: dict, name: str) -> float | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise DataError(f"'{name}' must be a number from 0 to 1 (a fraction of the image) or null; got {value!r}")
    if not 0.0 <= value <= 1.0:
        raise DataError(f"'{name}' must be from 0 to 1 (a fraction of the image); got {value}")
    return float(value)


def _text(body: dict, name: str, limit: int = 64) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not 0 < len(value) <= limit:
        raise DataError(f"'{name}' must be a string of 1-{limit} characters; got {value!r}")
    return value


FIELDS = {"turing": {"case_id", "treatment", "duration_ms", "call", "confidence"},
          "diagnostic": {"case_id", "treatment", "duration_ms", "malignancy", "click_x", "click_y"}}


def answer_fields(body: dict[str, Any], design: str) -> dict[str, Any]:
    """Validated answer: ``case_id``, ``treatment`` and the stored fields (with the derived ``rating``).

    Raises:
        DataError: an unknown field, a wrong type or a value out of range (named).
    """
    unknown = sorted(set(body) - FIELDS[design])
    if unknown:
        raise DataError(f"unknown field(s) {unknown} in a {design} answer; expected {sorted(FIELDS[design])}")
    out: dict[str, Any] = {"case_id": _text(body, "case_id"), "treatment": _text(body, "treatment"),
                           "duration_ms": _integer(body, "duration_ms", 0, 10 ** 9, required=False) or 0}
    if design == "turing":
        call = body.get("call")
        if call not in ("real", "synthetic"):
            raise DataError(f"'call' must be 'real' or 'synthetic'; got {call!r}")
        conf = _integer(body, "confidence", 1, 5)
        out.update(call=call, confidence=conf, rating=5 + conf if call == "synthetic" else 6 - conf)
    else:
        mal = _integer(body, "malignancy", 0, 100)
        out.update(malignancy=mal, rating=mal, click_x=_fraction(body, "click_x"), click_y=_fraction(body, "click_y"))
    return out
