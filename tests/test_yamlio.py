"""The bounded YAML loader (issue #22.3): aliases, nesting and size refused in every file MammoBench reads.

The probe's alias bomb in a valid task key took 47 s and 3.4 GB; in a 1 KB card.yaml 268 s and 2.7 GB;
1,000-deep nesting raised RecursionError. Here each is one ConfigError naming the file and the limit, and
tracemalloc shows the refusal costs a few MB at most (a memory bound, not a timing: the pytest timeout is
only a guard against a hang).
"""
from __future__ import annotations

import tracemalloc

import pytest

from mammobench.errors import ConfigError
from mammobench.yamlio import MAX_BYTES, MAX_DEPTH, load_yaml, parse_yaml
from tests.helpers import yaml_bombs as bombs

BOMBS = {"billion_laughs": bombs.billion_laughs("description"), "merge_keys": bombs.merge_bomb(),
         "deep_flow": bombs.deep_flow(1000), "deep_block": bombs.deep_block(1000)}
LIMIT_WORDS = {"billion_laughs": "alias", "merge_keys": "alias", "deep_flow": f"deeper than {MAX_DEPTH} levels",
               "deep_block": f"deeper than {MAX_DEPTH} levels"}


#: the loader that gets the 1,000-deep flow bomb: PyYAML's scanner looks ahead through every ``[`` before the
#: composer can count depth (≈ 0.8 s under tracemalloc), and every loader uses the same bounded parser; the other
#: loaders refuse flow nesting just past the limit (the warm-up call below), which a loader bypassing that parser
#: would accept
DEEP_FLOW_LOADER = "task"
CASES = [(bomb, loader) for bomb in sorted(BOMBS) for loader in sorted(bombs.LOADERS)
         if bomb != "deep_flow" or loader == DEEP_FLOW_LOADER]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("bomb, loader", CASES)
def test_every_loader_refuses_bombs_with_one_sentence_in_small_memory(tmp_path, loader, bomb):
    # a first call on a small over-deep file imports the loader's modules (not counted below) and shows that the
    # loader refuses nesting past the limit; the bomb itself is parsed once
    with pytest.raises(ConfigError, match=f"deeper than {MAX_DEPTH} levels"):
        bombs.LOADERS[loader][1](bombs.write(tmp_path / "warm-up", loader, bombs.deep_flow(MAX_DEPTH + 2)))
    text = ("task: vc_lesion\nversion: 1\n" if loader == "task" and bomb != "deep_flow" else "") + BOMBS[bomb]
    path = bombs.write(tmp_path, loader, text)
    tracemalloc.start()
    try:
        with pytest.raises(ConfigError) as info:
            bombs.LOADERS[loader][1](path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    message = str(info.value)
    assert message.startswith(str(path)) and LIMIT_WORDS[bomb] in message, message
    assert "\n" not in message and peak < 32 * 2**20, (message, peak)


def test_the_billion_laughs_card_is_under_a_kilobyte():
    assert len(BOMBS["billion_laughs"].encode()) < 1024  # the probe's "1 KB card.yaml"


def test_size_special_files_and_binary_are_refused_before_parsing(tmp_path):
    big = tmp_path / "big.yaml"
    big.write_bytes(b"a: 1\n" + b"#" * MAX_BYTES)
    with pytest.raises(ConfigError, match=f"over the {MAX_BYTES:,}-byte limit"):
        load_yaml(big)
    with pytest.raises(ConfigError, match="not a regular file"):
        load_yaml("/dev/zero")
    with pytest.raises(ConfigError, match="it is a folder"):
        load_yaml(tmp_path)
    with pytest.raises(ConfigError, match="file not found"):
        load_yaml(tmp_path / "missing.yaml")
    binary = tmp_path / "b.yaml"
    binary.write_bytes(b"\x00\x01\x02")
    with pytest.raises(ConfigError, match="binary file"):
        load_yaml(binary)
    latin = tmp_path / "l.yaml"
    latin.write_bytes("a: caf\u00e9".encode("latin-1"))
    with pytest.raises(ConfigError, match="not UTF-8 text \\(byte 0xe9 at offset 6\\)"):
        load_yaml(latin)


def test_plain_data_still_loads_and_tags_are_refused():
    assert parse_yaml("a: [1, 2.5, x, null, true]\nb: {c: d}", source="s") == {"a": [1, 2.5, "x", None, True],
                                                                               "b": {"c": "d"}}
    assert parse_yaml("k: " + "[" * MAX_DEPTH + "]" * MAX_DEPTH, source="s", max_depth=MAX_DEPTH + 1)["k"] is not None
    with pytest.raises(ConfigError, match="tag.*not allowed.*plain data"):
        parse_yaml("a: !!python/object/apply:os.system ['true']", source="s")
    with pytest.raises(ConfigError, match="line 2, column"):
        parse_yaml("a: 1\nb: [unclosed", source="s")
    with pytest.raises(ConfigError, match="control character"):
        parse_yaml("a: \x07", source="s")


def test_every_shipped_yaml_file_loads_within_the_bounds():
    from pathlib import Path

    repo = Path(__file__).resolve().parents[1]
    files = [p for folder in ("tasks", "reports", "baselines", "leaderboard") for p in (repo / folder).rglob("*.yaml")]
    assert len(files) > 15
    for path in files:
        load_yaml(path)
