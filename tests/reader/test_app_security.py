"""Reader identity and hostile requests: codes, Host/Origin checks, bounded bodies, strict fields, reading order."""
from __future__ import annotations

import http.client
import threading

import pytest

from mammobench.errors import DataError
from mammobench.reader.access import issue_codes, load_access
from mammobench.reader.app import make_server
from mammobench.reader.builder import build_study
from mammobench.reader.requests import OriginPolicy, parse_body
from mammobench.reader.study import load_key, reading_order, load_study
from tests.helpers.reader import Client, make_folder, reader_codes


def _study(tmp_path, name="study", **kw):
    real = tmp_path / "real"
    synth = tmp_path / "synth"
    if not real.exists():
        make_folder(real, 12, "real", seed=1)
        make_folder(synth, 12, "synth", seed=2)
    out = tmp_path / name
    build_study(real=real, synthetic=synth, design="turing", out=out, n_cases=8, seed=3, **kw)
    return out


@pytest.fixture()
def served(tmp_path):
    study = _study(tmp_path)
    server = make_server(study, port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    yield study, port
    server.shutdown()
    server.server_close()


def _raw(port: int, method: str, path: str, body: bytes = b"", headers: dict | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    for key, value in {"Host": f"127.0.0.1:{port}", **(headers or {})}.items():
        conn.putheader(key, value)
    if body or method == "POST":
        conn.putheader("Content-Length", str(len(body)))
    conn.endheaders(body)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, data


def test_codes_are_issued_hashed_and_revocable(tmp_path):
    study = _study(tmp_path, readers=["ana", "ben"])
    codes = reader_codes(study)
    assert set(codes) == {"ana", "ben"} and all(len(c) >= 12 for c in codes.values())
    access = load_access(study)
    assert not any(code in (study / "access.json").read_text() for code in codes.values())
    assert set(access) == {"ana", "ben"}
    server = make_server(study, port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        client = Client(base)
        assert client.signin(study, "ben")[1]["reader"] == "ben"
        assert client.get("/api/next")[0] == 200
        issue_codes(study, ["ben"])  # the owner re-issues ben's code: the old code and its sessions stop working
        server.RequestHandlerClass.app.access = load_access(study)
        assert client.get("/api/next")[0] == 401
        assert client.post("/api/signin", {"code": codes["ben"]})[0] == 403
        assert Client(base).signin(study, "ben")[0] == 200 and reader_codes(study)["ana"] == codes["ana"]
    finally:
        server.shutdown()
        server.server_close()


def test_host_header_must_be_this_server(served):
    study, port = served
    assert _raw(port, "GET", "/")[0] == 200
    assert _raw(port, "GET", "/", headers={"Host": f"localhost:{port}"})[0] == 200
    status, body = _raw(port, "GET", "/", headers={"Host": f"attacker.example:{port}"})
    assert status == 403 and b"is not this reading app" in body
    code = reader_codes(study)["R01"].encode()
    status, _ = _raw(port, "POST", "/api/signin", b'{"code": "' + code + b'"}',
                     {"Host": "rebind.attacker.example", "Content-Type": "application/json"})
    assert status == 403


def test_cross_origin_and_text_plain_signin_are_refused(served):
    study, port = served
    body = ('{"code": "%s"}' % reader_codes(study)["R01"]).encode()
    csrf = {"Origin": "http://evil.example", "Content-Type": "text/plain"}
    status, reply = _raw(port, "POST", "/api/signin", body, csrf)
    assert status == 403 and b"cross-origin" in reply
    assert _raw(port, "POST", "/api/signin", body, {"Content-Type": "text/plain"})[0] == 400
    assert _raw(port, "POST", "/api/signin", body, {"Content-Type": "application/json", "Origin": "null"})[0] == 403
    assert _raw(port, "POST", "/api/signin", body, {"Content-Type": "application/json",
                                                     "Sec-Fetch-Site": "cross-site"})[0] == 403
    same = {"Content-Type": "application/json", "Origin": f"http://127.0.0.1:{port}", "Sec-Fetch-Site": "same-origin"}
    assert _raw(port, "POST", "/api/signin", body, same)[0] == 200


@pytest.mark.parametrize("payload,match", [
    (b"[" * 5000 + b"]" * 5000, b"nested too deeply"),
    (b'{"code": ' + b'{"a": ' * 4 + b"1" + b"}" * 4 + b"}", b"nested too deeply"),
    (b'{"code": "' + b"x" * 20000 + b'"}', b"too large"),
    (b'{"code": NaN}', b"not a number JSON allows"),
    (b"\xff\xfe not json", b"not JSON"),
    (b'["code"]', b"must be a JSON object"),
    (b'{"code": "abc", "reader": "R01"}', b"sign in with your reader code"),
])
def test_hostile_signin_bodies_get_400_not_a_traceback(served, capfd, payload, match):
    _, port = served
    status, reply = _raw(port, "POST", "/api/signin", payload, {"Content-Type": "application/json"})
    assert status == 400 and match in reply
    assert "Traceback" not in capfd.readouterr().err


def _signed_in(study, port):
    client = Client(f"http://127.0.0.1:{port}")
    status, state = client.signin(study, "R01")
    assert status == 200
    return client, state


@pytest.mark.parametrize("change,match", [
    ({"confidence": 3.9}, "'confidence' must be a whole number"),
    ({"confidence": True}, "'confidence' must be a whole number"),
    ({"confidence": "3"}, "'confidence' must be a whole number"),
    ({"confidence": 6}, "'confidence' must be from 1 to 5"),
    ({"confidence": None}, "'confidence' must be a whole number"),
    ({"call": "maybe"}, "'call' must be 'real' or 'synthetic'"),
    ({"duration_ms": -5}, "'duration_ms' must be from 0"),
    ({"extra": 1}, "unknown field"),
    ({"case_id": ["x"]}, "'case_id' must be a string"),
])
def test_answer_fields_are_rejected_not_truncated(served, capfd, change, match):
    study, port = served
    client, state = _signed_in(study, port)
    answer = {"case_id": state["case_id"], "treatment": "turing", "call": "synthetic", "confidence": 3, **change}
    status, reply = client.post("/api/answer", answer)
    assert status == 400 and match in reply["error"], reply
    assert client.get("/api/progress")[1].count(b'"answered": 0') == 1  # nothing stored
    assert "Traceback" not in capfd.readouterr().err


def test_non_finite_numbers_in_raw_bodies(served):
    study, port = served
    client, state = _signed_in(study, port)
    raw = ('{"case_id": "%s", "treatment": "turing", "call": "real", "confidence": 1e309}' % state["case_id"]).encode()
    status, reply = client.post("/api/answer", raw)
    assert status == 400 and "out of range" in reply["error"]


def test_diagnostic_click_must_be_a_fraction(tmp_path):
    real = make_folder(tmp_path / "real", 30, "real", seed=3)
    study = tmp_path / "d"
    build_study(real=real, synthetic=None, design="diagnostic", out=study, n_cases=6, seed=0)
    server = make_server(study, port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        client, state = _signed_in(study, server.server_address[1])
        base = {"case_id": state["case_id"], "treatment": "unaided", "malignancy": 40}
        for click, match in (("abc", "'click_x' must be a number"), (1.5, "'click_x' must be from 0 to 1"),
                             (False, "'click_x' must be a number")):
            status, reply = client.post("/api/answer", {**base, "click_x": click, "click_y": 0.5})
            assert status == 400 and match in reply["error"]
        assert client.post("/api/answer", {**base, "malignancy": 40.5})[0] == 400
        assert client.post("/api/answer", {**base, "click_x": 0.25, "click_y": None})[0] == 200
    finally:
        server.shutdown()
        server.server_close()


def test_assigned_order_is_enforced_and_images_ahead_are_hidden(served):
    study, port = served
    client, state = _signed_in(study, port)
    order = reading_order(load_study(study), "R01")
    ahead = order[2][0]
    status, reply = client.post("/api/answer", {"case_id": ahead, "treatment": "turing", "call": "real",
                                                "confidence": 2})
    assert status == 400 and "assigned order: answer case 1" in reply["error"]
    assert client.get(f"/images/{ahead}.png")[0] == 404 and client.get(f"/images/{order[0][0]}.png")[0] == 200
    assert client.post("/api/answer", {"case_id": order[0][0], "treatment": "turing", "call": "real",
                                       "confidence": 2})[0] == 200
    assert client.get(f"/images/{order[0][0]}.png")[0] == 200  # answered cases stay visible


def test_free_order_study_accepts_any_case(tmp_path):
    study = _study(tmp_path, name="free", enforce_order=False)
    assert load_study(study)["enforce_order"] is False
    server = make_server(study, port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        client, _ = _signed_in(study, server.server_address[1])
        last = reading_order(load_study(study), "R01")[-1][0]
        assert client.post("/api/answer", {"case_id": last, "treatment": "turing", "call": "real",
                                           "confidence": 2})[0] == 200
    finally:
        server.shutdown()
        server.server_close()


def test_bad_headers_and_cookies(served):
    study, port = served
    assert _raw(port, "POST", "/api/signin", b"{}", {"Content-Type": "application/json",
                                                     "Transfer-Encoding": "chunked"})[0] == 400
    assert _raw(port, "GET", "/api/next", headers={"Cookie": 'mb_session="unterminated'})[0] == 401
    assert _raw(port, "GET", "/api/next", headers={"Cookie": "mb_session=" + "x" * 4000})[0] == 401


def test_policy_and_parser_units():
    policy = OriginPolicy("127.0.0.1", 8765)
    policy.check_host("localhost:8765")
    with pytest.raises(DataError, match="not this reading app"):
        policy.check_host("127.0.0.1:9999")
    wide = OriginPolicy("0.0.0.0", 80, ("reading.ward.example",))
    wide.check_host("reading.ward.example")
    assert parse_body(b'{"a": [1, {"b": 2}]}') == {"a": [1, {"b": 2}]}
    assert parse_body(b'{"s": "[[[[[[[[["}') == {"s": "[[[[[[[[["}  # brackets inside strings do not count


def test_study_without_codes_refuses_to_serve(tmp_path):
    study = _study(tmp_path)
    (study / "access.json").unlink()
    with pytest.raises(DataError, match="mammobench reader codes"):
        make_server(study, port=0)
    assert load_key(study) is not None
