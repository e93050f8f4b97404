"""Property-based fuzzing of the result-schema loader and generator-card loader.

Default (CI) profile: bounded examples. ``HYPOTHESIS_PROFILE=fuzz pytest -m fuzz`` runs the long
campaign (several thousand examples per target). Only the project's documented errors may escape.
"""
from __future__ import annotations

import json

import pytest
from hypothesis import given, strategies as st

from mammobench.cards import GeneratorCard
from mammobench.errors import MammoBenchError
from mammobench.io import read_json, to_json_text
from mammobench.results import minimal_result, validate_result

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=30,
)
VALID = to_json_text(minimal_result("fuzz")).encode()


def _mutate(data: bytes, cut: int, flips: list[tuple[int, int]]) -> bytes:
    buf = bytearray(data[: max(0, min(cut, len(data)))])
    for pos, val in flips:
        if buf:
            buf[pos % len(buf)] = val
    return bytes(buf)


def _check_result_bytes(tmp_path_factory, raw: bytes) -> None:
    path = tmp_path_factory.mktemp("r") / "result.json"
    path.write_bytes(raw)
    try:
        validate_result(read_json(path), source=str(path))
    except MammoBenchError as err:
        assert str(path) in str(err) or "result.json" in str(err)


@given(cut=st.integers(0, len(VALID)), flips=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)),
                                                        max_size=8))
def test_result_loader_truncation_and_byte_flips(tmp_path_factory, cut, flips):
    _check_result_bytes(tmp_path_factory, _mutate(VALID, cut, flips))


@given(key=st.sampled_from(sorted(minimal_result("x"))), value=json_values)
def test_result_loader_wrong_types(key, value):
    result = minimal_result("x")
    result[key] = value
    try:
        validate_result(json.loads(to_json_text(result)))
    except MammoBenchError:
        pass


@given(data=st.dictionaries(st.sampled_from(["name", "version", "kind", "licence", "intended_use", "conditioning",
                                             "training_data", "hyperparameters", "bogus"]), json_values, max_size=9))
def test_card_loader_only_raises_project_errors(data):
    try:
        GeneratorCard.from_dict(data)
    except MammoBenchError:
        pass


@pytest.mark.fuzz
@given(cut=st.integers(0, len(VALID)), flips=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)),
                                                        max_size=32))
def test_result_loader_long_campaign(tmp_path_factory, cut, flips):
    _check_result_bytes(tmp_path_factory, _mutate(VALID, cut, flips))
