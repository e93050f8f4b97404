"""Fuzzing the YAML config loaders: task.yaml, suites.yaml, generator card.yaml, checklist answers.

Random YAML documents, wrong types / unknown keys in the real template, raw byte mutations, and YAML
tags that would construct Python objects (``!!python/object``…), which must be refused because
configs are parsed with ``yaml.safe_load`` only. Only project errors may escape.
"""
from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from hypothesis import given, strategies as st

from mammobench.cards import GeneratorCard
from mammobench.errors import ConfigError, MammoBenchError
from mammobench.pipeline.config import load_task, task_from_dict
from mammobench.pipeline.suites import load_suites
from mammobench.report.checklists import load_answers
from tests.helpers.fuzz_budget import ci

REPO = Path(__file__).resolve().parents[2]
TEMPLATE_TEXT = (REPO / "tasks" / "vc_lesion" / "task.yaml").read_text(encoding="utf-8")
TEMPLATE = yaml.safe_load(TEMPLATE_TEXT)
SUITES_TEXT = (REPO / "tasks" / "suites.yaml").read_text(encoding="utf-8")
CARD_TEXT = next(REPO.glob("baselines/*/card.yaml")).read_text(encoding="utf-8")
ANSWER_IDS = ["CLAIM-1", "CLAIM-2", "TRIPOD-AI-10a"]
_SENTINEL = {"ran": False}


def mark_ran() -> None:  # target of the !!python tags below: must never run
    _SENTINEL["ran"] = True


UNSAFE_TAGS = [
    "!!python/object/apply:os.system ['echo pwned']",
    "!!python/object/apply:fuzz.test_fuzz_config.mark_ran []",
    "!!python/object/new:fuzz.test_fuzz_config.mark_ran []",
    "!!python/name:fuzz.test_fuzz_config.mark_ran",
    "!!python/module:os",
    "!!python/object:builtins.dict {a: 1}",
    "!!python/tuple [1, 2]",
    "!!binary aGVsbG8=",
    "!!set {a, b}",
    "!!timestamp 2001-12-14",
    "!!omap [a: 1]",
    "&a [*a]",
]

scalars = st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats() | st.text(max_size=12)
yaml_values = st.recursive(scalars, lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=10), c,
                                                                                        max_size=4), max_leaves=15)


def _paths(data, prefix=()):
    """Every key path of a nested mapping (to pick where to inject a value)."""
    out = []
    if isinstance(data, dict):
        for k, v in data.items():
            out.append((*prefix, k))
            out.extend(_paths(v, (*prefix, k)))
    return out


TEMPLATE_PATHS = _paths(TEMPLATE)


def _load_task_text(tmp_path_factory, text: str) -> None:
    folder = tmp_path_factory.mktemp("t") / "vc_lesion"
    folder.mkdir()
    (folder / "task.yaml").write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        load_task(folder / "task.yaml")
    except MammoBenchError as err:
        assert "task.yaml" in str(err), err


def _inject(path_index: int, value, extra_key: str | None):
    data = copy.deepcopy(TEMPLATE)
    path = TEMPLATE_PATHS[path_index % len(TEMPLATE_PATHS)]
    node = data
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = value
    if extra_key is not None:
        node[extra_key] = 1
    return data


def _task_dict_case(path_index, value, extra_key):
    data = _inject(path_index, value, extra_key)
    try:
        task_from_dict(data, source="fuzz/task.yaml")
    except MammoBenchError as err:
        assert "fuzz/task.yaml" in str(err), err


@ci(50)
@given(path_index=st.integers(0, 500), value=yaml_values, extra_key=st.none() | st.text(max_size=8))
def test_task_wrong_types_and_unknown_keys(path_index, value, extra_key):
    _task_dict_case(path_index, value, extra_key)


@ci(40)
@given(doc=yaml_values)
def test_task_random_yaml_documents(tmp_path_factory, doc):
    _load_task_text(tmp_path_factory, yaml.safe_dump(doc))


@ci(40)
@given(cut=st.integers(0, len(TEMPLATE_TEXT)), flips=st.lists(st.tuples(st.integers(0, 10**5),
                                                                         st.characters(max_codepoint=0x2FF)), max_size=6))
def test_task_truncated_and_flipped_text(tmp_path_factory, cut, flips):
    text = list(TEMPLATE_TEXT[:cut])
    for pos, ch in flips:
        if text:
            text[pos % len(text)] = ch
    _load_task_text(tmp_path_factory, "".join(text))


def _task_bytes_case(tmp_path_factory, raw: bytes) -> None:
    folder = tmp_path_factory.mktemp("b") / "vc_lesion"
    folder.mkdir()
    (folder / "task.yaml").write_bytes(raw)
    try:
        load_task(folder / "task.yaml")
    except MammoBenchError as err:
        assert "task.yaml" in str(err)


@ci(20)
@given(text=st.text(max_size=200))
def test_task_random_text(tmp_path_factory, text):
    _task_bytes_case(tmp_path_factory, text.encode("utf-8", "surrogatepass"))


def test_task_non_utf8_bytes_is_config_error(tmp_path_factory):
    with pytest.raises(ConfigError, match="task.yaml"):
        load_task(_write_task(tmp_path_factory, b"task: vc_lesion\ndescription: \x80\xff\n"))


def _write_task(tmp_path_factory, raw: bytes) -> Path:
    folder = tmp_path_factory.mktemp("u") / "vc_lesion"
    folder.mkdir()
    (folder / "task.yaml").write_bytes(raw)
    return folder / "task.yaml"


@pytest.mark.parametrize("tag", UNSAFE_TAGS)
@pytest.mark.parametrize("where", ["task", "suites", "card", "answers"])
def test_python_yaml_tags_are_refused(tmp_path, tag, where):
    """No config loader constructs Python objects; unsafe tags are a ConfigError (or harmless data)."""
    _SENTINEL["ran"] = False
    text = {"task": f"task: vc_lesion\ndescription: {tag}\n", "suites": f"quick: {tag}\n",
            "card": f"name: x\nversion: '1'\nkind: {tag}\n", "answers": f"CLAIM-1: {tag}\n"}[where]
    folder = tmp_path / "vc_lesion"
    folder.mkdir()
    path = folder / ("task.yaml" if where == "task" else f"{where}.yaml")
    path.write_text(text, encoding="utf-8")
    loader = {"task": load_task, "suites": load_suites, "card": GeneratorCard.from_yaml,
              "answers": lambda p: load_answers(p, ANSWER_IDS)}[where]
    try:
        loader(path)
    except MammoBenchError as err:
        assert str(path) in str(err) or path.name in str(err), err
    assert not _SENTINEL["ran"], "a YAML tag executed code"
    if "python/" in tag:
        with pytest.raises(ConfigError):
            loader(path)


def _suite_case(tmp_path_factory, doc):
    path = tmp_path_factory.mktemp("s") / "suites.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    try:
        load_suites(path)
    except MammoBenchError as err:
        assert str(path) in str(err), err


@ci(40)
@given(doc=st.dictionaries(st.text(max_size=6), st.dictionaries(
    st.sampled_from(["tasks", "profile", "version", "description", "bogus"]), yaml_values, max_size=5), max_size=3)
    | yaml_values)
def test_suites_random_documents(tmp_path_factory, doc):
    _suite_case(tmp_path_factory, doc)


def _card_case(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("c") / "card.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        GeneratorCard.from_yaml(path)
    except MammoBenchError as err:
        assert str(path) in str(err) or "card" in str(err), err


@ci(40)
@given(cut=st.integers(0, len(CARD_TEXT)), flips=st.lists(st.tuples(st.integers(0, 10**5),
                                                                     st.characters(max_codepoint=0x7F)), max_size=6))
def test_card_yaml_truncated_and_flipped(tmp_path_factory, cut, flips):
    text = list(CARD_TEXT[:cut])
    for pos, ch in flips:
        if text:
            text[pos % len(text)] = ch
    _card_case(tmp_path_factory, "".join(text))


def _answers_case(tmp_path_factory, doc):
    path = tmp_path_factory.mktemp("a") / "answers.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    try:
        out = load_answers(path, ANSWER_IDS)
    except MammoBenchError as err:
        assert str(path) in str(err), err
        return
    assert set(out) <= set(ANSWER_IDS) and all(isinstance(v, str) and v for v in out.values())


@ci(40)
@given(doc=st.dictionaries(st.sampled_from([*ANSWER_IDS, "answers", "CLAIM-99"]), yaml_values, max_size=4)
       | yaml_values)
def test_answers_random_documents(tmp_path_factory, doc):
    _answers_case(tmp_path_factory, doc)


# ---------------------------------------------------------------- long campaign (-m fuzz)
@pytest.mark.fuzz
@given(path_index=st.integers(0, 500), value=yaml_values, extra_key=st.none() | st.text(max_size=8))
def test_task_dict_long(path_index, value, extra_key):
    _task_dict_case(path_index, value, extra_key)


@pytest.mark.fuzz
@given(doc=yaml_values)
def test_task_documents_long(tmp_path_factory, doc):
    _load_task_text(tmp_path_factory, yaml.safe_dump(doc))


@pytest.mark.fuzz
@given(doc=st.dictionaries(st.text(max_size=6), st.dictionaries(
    st.sampled_from(["tasks", "profile", "version", "description", "bogus"]), yaml_values, max_size=5), max_size=3)
    | yaml_values)
def test_suites_long(tmp_path_factory, doc):
    _suite_case(tmp_path_factory, doc)


@pytest.mark.fuzz
@given(doc=st.dictionaries(st.sampled_from([*ANSWER_IDS, "answers", "CLAIM-99"]), yaml_values, max_size=4)
       | yaml_values)
def test_answers_long(tmp_path_factory, doc):
    _answers_case(tmp_path_factory, doc)
