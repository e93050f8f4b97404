"""Fuzzing the bounded YAML loader with bombs: random alias graphs, random nesting, bombs spliced into real files.

Any document with an alias, or nested deeper than ``MAX_DEPTH``, must be refused with a one-line
ConfigError naming the file (never a MemoryError, RecursionError or a yaml exception), whichever
loader reads it; every other document loads or is refused the same way. The CI variants run a few
dozen examples; ``HYPOTHESIS_PROFILE=fuzz pytest -m fuzz`` runs thousands.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from mammobench.errors import ConfigError, MammoBenchError
from mammobench.yamlio import MAX_DEPTH, parse_yaml
from tests.helpers import yaml_bombs as bombs
from tests.helpers.fuzz_budget import ci

REPO = Path(__file__).resolve().parents[2]
REAL_FILES = {"task": REPO / "tasks" / "vc_lesion" / "task.yaml", "suites": REPO / "tasks" / "suites.yaml",
              "profiles": REPO / "tasks" / "profiles.yaml", "card": REPO / "baselines" / "physics" / "card.yaml",
              "checklist": REPO / "reports" / "checklists" / "claim_2024.yaml"}


@st.composite
def alias_graphs(draw) -> str:
    """``levels`` anchored lists, each referencing the previous one ``width`` times (sizes up to 30**12)."""
    levels, width = draw(st.integers(1, 12)), draw(st.integers(1, 30))
    flow = draw(st.booleans())
    return bombs.billion_laughs(draw(st.sampled_from(["description", "kind", "tasks", "x"])), levels, width) if flow \
        else "a: &a\n  - " + "\n  - ".join(["lol"] * width) + "\nb: " + draw(st.sampled_from(["*a", "[*a, *a]",
                                                                                            "{k: *a}"])) + "\n"


@st.composite
def nestings(draw) -> str:
    opener = draw(st.sampled_from(["[", "{a: ", "- "]))
    depth = draw(st.integers(MAX_DEPTH + 1, 700 if opener == "- " else 1500))  # block style: size grows as depth²
    if opener == "- ":
        return "".join("  " * i + "-\n" for i in range(depth)) + "  " * depth + "x\n"
    closer = "]" if opener == "[" else "}"
    return opener * depth + closer * depth


def _refused(loader: str, root: Path, text: str, words: str) -> None:
    path = bombs.write(root, loader, text)
    with pytest.raises(ConfigError) as info:
        bombs.LOADERS[loader][1](path)
    assert str(path) in str(info.value) and words in str(info.value) and "\n" not in str(info.value)


def _splice(loader: str, bomb: str, line: int) -> str:
    """A real file with the bomb inserted at a line boundary (top level, so the document stays a mapping)."""
    lines = REAL_FILES[loader].read_text(encoding="utf-8").splitlines()
    tops = [i for i, text in enumerate(lines) if text and not text[0].isspace() and not text.startswith("#")]
    cut = tops[line % len(tops)]
    return "\n".join(lines[:cut] + bomb.rstrip("\n").splitlines() + lines[cut:]) + "\n"


@ci(25)
@given(loader=st.sampled_from(sorted(bombs.LOADERS)), doc=alias_graphs())
def test_alias_graphs_are_refused_by_every_loader(tmp_path_factory, loader, doc):
    _refused(loader, tmp_path_factory.mktemp("a"), doc, "alias")


@ci(25)
@given(loader=st.sampled_from(sorted(bombs.LOADERS)), doc=nestings())
def test_deep_nesting_is_refused_by_every_loader(tmp_path_factory, loader, doc):
    _refused(loader, tmp_path_factory.mktemp("n"), doc, "deeper than")


@ci(25)
@given(loader=st.sampled_from(sorted(REAL_FILES)), doc=alias_graphs(), line=st.integers(0, 10**4))
def test_bombs_spliced_into_real_files_are_refused(tmp_path_factory, loader, doc, line):
    _refused(loader, tmp_path_factory.mktemp("s"), _splice(loader, doc, line), "alias")


@ci(40)
@given(depth=st.integers(0, 2 * MAX_DEPTH), text=st.text(max_size=40))
def test_nesting_at_and_below_the_limit_parses(depth, text):
    doc = "[" * depth + ("x" if depth else "") + "]" * depth
    if depth <= MAX_DEPTH:
        parse_yaml(doc, source="s")
    else:
        with pytest.raises(ConfigError, match="deeper than"):
            parse_yaml(doc, source="s")
    try:
        parse_yaml(text, source="s")
    except MammoBenchError as err:
        assert str(err).startswith("s: cannot read YAML file: ")


# ---------------------------------------------------------------- long campaign (-m fuzz)
@pytest.mark.fuzz
@given(loader=st.sampled_from(sorted(bombs.LOADERS)), doc=alias_graphs() | nestings())
def test_bombs_long(tmp_path_factory, loader, doc):
    _refused(loader, tmp_path_factory.mktemp("l"), doc, "alias" if "&" in doc else "deeper than")


@pytest.mark.fuzz
@given(loader=st.sampled_from(sorted(REAL_FILES)), doc=alias_graphs(), line=st.integers(0, 10**4))
def test_spliced_bombs_long(tmp_path_factory, loader, doc, line):
    _refused(loader, tmp_path_factory.mktemp("m"), _splice(loader, doc, line), "alias")
