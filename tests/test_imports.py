"""Each thing in its room: every module imports, the ``mammobench.*`` import graph has no cycle, and no module
imports from a higher layer than its own (the layer table of docs/architecture.md).

The graph is read with ``ast`` from the installed package's files (tests/helpers/modules.py), so imports inside
functions and lazy ``_EXPORTS`` count too.
"""
from __future__ import annotations

import functools
import importlib
import re
from pathlib import Path

import pytest

from tests.helpers.modules import MODULES, import_graph

ARCHITECTURE = Path(__file__).resolve().parents[1] / "docs" / "architecture.md"

#: upward imports that another stream is removing; each entry must still exist (so it is deleted when fixed)
KNOWN_UPWARD: dict[tuple[str, str], str] = {}


@functools.cache
def _graph() -> dict[str, set[str]]:
    """The import graph, read once by the worker that runs these tests (not at collection by every worker)."""
    return import_graph()


def _layers() -> dict[str, int]:
    """``{top-level name: layer}`` from the ``layer N  title  names…`` lines of docs/architecture.md."""
    text = ARCHITECTURE.read_text(encoding="utf-8").split("## Layers", 1)[1].split("\n## ", 1)[0]
    layers = {}
    for number, names in re.findall(r"^layer (\d+)\s+\S+\s+(.+)$", text, flags=re.M):
        layers.update({name: int(number) for name in names.split()})
    return layers


def _layer_of(module: str, layers: dict[str, int]) -> int | None:
    parts = module.split(".")
    return None if len(parts) == 1 else layers.get(parts[1])


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index, low, on_stack, stack, out, counter = {}, {}, set(), [], [], [0]
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        out.append(sorted(component))
            elif child not in index:
                index[child] = low[child] = counter[0]
                counter[0] += 1
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph.get(child, ())))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return out


@pytest.mark.parametrize("module", sorted(MODULES))
def test_every_module_imports(module):
    importlib.import_module(module)


def test_the_graph_finds_the_modules_and_their_imports():
    assert {"mammobench.cli", "mammobench.baselines.ddpm.generator", "mammobench.tasks"} <= set(MODULES)
    graph = _graph()
    assert "mammobench.torchutil" in graph["mammobench.training.train"]
    assert "mammobench.pipeline.runner" in graph["mammobench"]  # a lazy export is a (deferred) import
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycle_among_mammobench_modules():
    assert _cycles(_graph()) == [], "import cycles (move the shared helper into a lower module)"


def test_every_top_level_module_has_a_layer():
    layers = _layers()
    tops = {m.split(".")[1] for m in MODULES if m.count(".") >= 1}
    assert tops - set(layers) == set(), "add these to the layer table in docs/architecture.md"
    assert set(layers) - tops == set(), "the layer table names modules that do not exist"


def test_no_module_imports_from_a_higher_layer():
    layers = _layers()
    upward = {(m, t): (_layer_of(m, layers), _layer_of(t, layers)) for m, targets in _graph().items() for t in targets
              if _layer_of(m, layers) is not None and _layer_of(t, layers) is not None
              and _layer_of(t, layers) > _layer_of(m, layers)}
    unexpected = {edge: lv for edge, lv in upward.items() if edge not in KNOWN_UPWARD}
    assert unexpected == {}, "lower layers must not import upper ones (docs/architecture.md, Layers)"
    assert set(KNOWN_UPWARD) <= set(upward), "a known upward import is gone: delete it from KNOWN_UPWARD"
