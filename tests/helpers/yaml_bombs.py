"""Hostile YAML documents and the loaders they are fed to (tests/test_yamlio.py, tests/fuzz/test_fuzz_yaml.py).

Every loader entry takes a path (``write`` puts the document where that loader expects it) and must
refuse each bomb with a :class:`~mammobench.errors.ConfigError` naming the file.

Example:
    >>> len(billion_laughs("description")) < 1024
    True
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable


def billion_laughs(key: str, levels: int = 9, width: int = 9) -> str:
    """The classic alias bomb under ``key``: ``width ** levels`` strings from under a kilobyte of text."""
    lines = [f"l0: &l0 [{', '.join(['lol'] * width)}]"]
    for i in range(1, levels + 1):
        lines.append(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]")
    return "\n".join(lines) + f"\n{key}: *l{levels}\n"


def deep_flow(depth: int = 1000) -> str:
    """``[[[ … ]]]`` nested ``depth`` levels."""
    return "[" * depth + "]" * depth


def deep_block(depth: int = 1000) -> str:
    """A block mapping nested ``depth`` levels (one key per line, each indented one more space)."""
    return "".join(" " * i + f"k{i}:\n" for i in range(depth)) + " " * depth + "v\n"


def merge_bomb() -> str:
    """Aliases through YAML merge keys (``<<: *a``)."""
    return "a: &a {x: 1}\nb:\n  <<: *a\n"


def _task(path: Path) -> None:
    from mammobench.pipeline.config import load_task

    load_task(path)


def _suites(path: Path) -> None:
    from mammobench.pipeline.suites import load_suites

    load_suites(path)


def _profiles(path: Path) -> None:
    from mammobench.pipeline.profiles import load_profiles

    load_profiles(path)


def _card(path: Path) -> None:
    from mammobench.cards import GeneratorCard

    GeneratorCard.from_yaml(path)


def _checklist(path: Path) -> None:
    from mammobench.report.checklists import load_checklist

    load_checklist(path)


def _answers(path: Path) -> None:
    from mammobench.report.checklists import load_answers

    load_answers(path, ["CLAIM-1"])


def _mapping(path: Path) -> None:
    from mammobench.data.adapters.generic import load_mapping

    load_mapping(path)


def _display(path: Path) -> None:
    from mammobench.leaderboard.build import load_display

    load_display(path.parent)


def _trusted_keys(path: Path) -> None:
    from mammobench.report.trust import load_trusted_keys_file

    load_trusted_keys_file(path)


def _audit_config(path: Path) -> None:
    from mammobench.commands.audit import _read_config

    _read_config(str(path))


#: loader name → (file name it reads, function taking that file's path)
LOADERS: dict[str, tuple[str, Callable[[Path], None]]] = {
    "task": ("vc_lesion/task.yaml", _task),
    "suites": ("suites.yaml", _suites),
    "profiles": ("profiles.yaml", _profiles),
    "card": ("card.yaml", _card),
    "checklist": ("checklist.yaml", _checklist),
    "answers": ("answers.yaml", _answers),
    "mapping": ("mammobench_mapping.yaml", _mapping),
    "display": ("display.yaml", _display),
    "audit_config": ("audit.yaml", _audit_config),
    "trusted_keys": ("trusted_keys.yaml", _trusted_keys),
}


def write(root: Path, loader: str, text: str) -> Path:
    """Write ``text`` where ``loader`` reads it under ``root``; return the path."""
    path = Path(root) / LOADERS[loader][0]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
