"""Extends ``test_fuzz_core.py``: ``load_result`` on raw files (random/non-UTF-8 bytes, nested JSON,
NaN/Infinity literals, huge numbers, wrong record types). Only :class:`SchemaError` naming the file
(or another project error) may escape; a loaded result always validates again.
"""
from __future__ import annotations

import json

import pytest
from hypothesis import event, given, strategies as st
from hypothesis.errors import InvalidArgument

from mammobench.errors import MammoBenchError
from mammobench.io import to_json_text
from mammobench.results import load_result, minimal_result, validate_result
from tests.helpers.fuzz_budget import ci

VALID = minimal_result("fuzz")
records = st.dictionaries(st.sampled_from(["metric", "split", "arm", "attribute", "group", "value", "ci_low",
                                           "ci_high", "n", "n_pos", "status", "generator", "audit", "check",
                                           "message", "estimate", "control"]),
                          st.none() | st.floats(allow_nan=True) | st.integers() | st.text(max_size=6), max_size=12)
LITERALS = [b"NaN", b"Infinity", b"-Infinity", b"1e999", b"-0", b"null", b"[]", b"{}", b'"\\ud800"', b"1" * 400]


def _note(message: str) -> None:
    try:
        event(message)
    except InvalidArgument:  # called from a plain (non-hypothesis) test
        pass


def _load(tmp_path_factory, raw: bytes) -> None:
    path = tmp_path_factory.mktemp("res") / "result.json"
    path.write_bytes(raw)
    try:
        result = load_result(path)
    except MammoBenchError as err:
        assert str(path) in str(err), err
        _note(type(err).__name__)
        return
    _note("loaded")
    validate_result(result, source=str(path))


@ci(40)
@given(key=st.sampled_from(["metrics", "comparisons", "fairness", "interactions", "audits"]),
       recs=st.lists(records | st.integers() | st.text(max_size=4), max_size=4))
def test_load_result_wrong_record_shapes(tmp_path_factory, key, recs):
    result = dict(VALID)
    result[key] = recs
    _load(tmp_path_factory, json.dumps(result, allow_nan=True).encode())


@ci(30)
@given(key=st.sampled_from(sorted(VALID)), literal=st.sampled_from(LITERALS))
def test_load_result_odd_json_literals(tmp_path_factory, key, literal):
    text = to_json_text(VALID)
    needle = f'"{key}": '
    at = text.index(needle) + len(needle)
    end = at + len(json.dumps(VALID[key], indent=None)) if not isinstance(VALID[key], (dict, list)) else at
    raw = text[:at].encode() + literal + (b"," + text[end:].split(",", 1)[1].encode() if "," in text[end:] else b"}")
    _load(tmp_path_factory, raw)


@ci(20)
@given(raw=st.binary(max_size=300))
def test_load_result_random_bytes(tmp_path_factory, raw):
    _load(tmp_path_factory, raw)


def test_load_result_deeply_nested_json(tmp_path_factory):
    _load(tmp_path_factory, b"[" * 100_000 + b"]" * 100_000)


@pytest.mark.fuzz
@given(key=st.sampled_from(["metrics", "comparisons", "fairness", "interactions", "audits"]),
       recs=st.lists(records | st.integers() | st.text(max_size=4), max_size=8))
def test_load_result_records_long(tmp_path_factory, key, recs):
    test_load_result_wrong_record_shapes.hypothesis.inner_test(tmp_path_factory, key, recs)


@pytest.mark.fuzz
@given(raw=st.binary(max_size=2000))
def test_load_result_bytes_long(tmp_path_factory, raw):
    _load(tmp_path_factory, raw)
